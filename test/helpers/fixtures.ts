import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { OpType } from '../../src/ops/index.js';
import { sizeOf, type Shape } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * Reads the PyTorch golden values that tools/make_fixtures.py writes to test/fixtures/ops/: a JSON
 * manifest naming each fixture's tensors and shapes, and one little-endian float32 .bin per fixture
 * holding those tensors back to back. The script's docstring lists the tensor names.
 */

const DIR = new URL('../fixtures/ops/', import.meta.url);

interface TensorEntry {
  name: string;
  shape: number[];
}

interface Common {
  name: string;
  tensors: TensorEntry[];
}

/** One op's forward (and, when `backward`, its backward) on one configuration. */
export interface OpFixtureEntry extends Common {
  kind: 'op';
  op: OpType;
  /** The op's attributes, in convstack's format. */
  attrs: unknown;
  training: boolean;
  inputs: number;
  backward: boolean;
}

/** A loss's value and its gradient with respect to the scores. */
export interface LossFixtureEntry extends Common {
  kind: 'loss';
  loss: 'softmax_cross_entropy' | 'svm_loss';
  labels: number[];
}

/** One training step of a whole net with a cross-entropy loss. */
export interface NetFixtureEntry extends Common {
  kind: 'net';
  labels: number[];
}

/** Any manifest entry. */
export type FixtureEntry = OpFixtureEntry | LossFixtureEntry | NetFixtureEntry;

interface Manifest {
  generator: string;
  torch: string;
  fixtures: FixtureEntry[];
}

/** A fixture's manifest entry and its tensors by name. */
export interface Fixture<E extends FixtureEntry = FixtureEntry> {
  entry: E;
  names: string[];
  /** A new tensor (allocated by the active allocator) holding the named values; throws if absent. */
  tensor(name: string): Tensor;
  has(name: string): boolean;
}

/** The manifest of test/fixtures/ops/; asserts that it lists fixtures. */
export function loadManifest(): Manifest {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as Manifest;
  assert.ok(Array.isArray(manifest.fixtures) && manifest.fixtures.length > 0, 'fixture manifest lists no fixtures');
  return manifest;
}

/** Reads a fixture's .bin and checks that the manifest accounts for every byte of it. */
export function loadFixture<E extends FixtureEntry>(entry: E): Fixture<E> {
  const bytes = readFileSync(new URL(`${entry.name}.bin`, DIR));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<string, { shape: Shape; data: Float32Array }>();
  let offset = 0;
  for (const { name, shape } of entry.tensors) {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    offset += 4 * data.length;
    values.set(name, { shape, data });
  }
  if (offset !== bytes.byteLength) {
    throw new Error(`fixture ${entry.name}: the manifest accounts for ${offset} bytes, ${entry.name}.bin holds ${bytes.byteLength}`);
  }
  return {
    entry,
    names: [...values.keys()],
    has: (name) => values.has(name),
    tensor(name) {
      const value = values.get(name);
      if (value === undefined) throw new Error(`fixture ${entry.name} has no tensor '${name}'`);
      return Tensor.from(value.shape, value.data);
    },
  };
}
