import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatNpy, parseNpy } from '../../src/io/npy.js';
import { exportPytorch, type PytorchSource } from '../../src/io/pytorch/module.js';
import { parseSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { netTensors } from '../../src/train/model_file.js';
import { assertClose } from '../helpers/assert.js';

/** Debian's Python with python3-torch 1.13 (not the pyenv one first on PATH). */
export const PYTHON = '/usr/bin/python3';
/** The repository root, where tools/ lies. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let torchPresent: boolean | null = null;

/**
 * True when Debian's python3 imports torch. When it does not, the test is skipped with the reason;
 * under CI (`CI` set), which installs python3-torch, it fails instead.
 */
export function haveTorch(t: TestContext): boolean {
  torchPresent ??= spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
  if (torchPresent) return true;
  const reason = `${PYTHON} cannot import torch (apt-get install python3-torch python3-torchvision)`;
  if (process.env['CI'] !== undefined) assert.fail(`${reason}; CI must have it`);
  t.skip(reason);
  return false;
}

/** Runs a Python script with Debian's python3; fails the test with its stderr when it fails. */
export function python(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(PYTHON, args, { cwd: options.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, ...options.env } });
  if (result.error !== undefined) throw result.error;
  assert.equal(result.status, 0, `python3 ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** A batch whose values vary smoothly and are not symmetric: sin and cos of the position. */
export function testBatch(shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(shape, Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.3)));
}

/** BN running statistics away from their start (mean 0, variance 1), so that eval mode shows them. */
export function scrambleRunningStats(net: Net, seed: number): void {
  const rng = new Rng(seed);
  for (const p of net.params.values()) {
    if (p.name.endsWith('.running_mean')) p.value.data.forEach((_, i) => (p.value.data[i] = 0.2 * (rng.next() - 0.5)));
    if (p.name.endsWith('.running_var')) p.value.data.forEach((_, i) => (p.value.data[i] = 0.5 + rng.next()));
  }
}

/** What PyTorch computed: the scores, each auxiliary head's, and the module's state after the pass. */
export interface TorchRun {
  output: Tensor;
  aux: Tensor[];
  state: Map<string, Tensor>;
}

/** Writes `source` as net.py and the net's weights as safetensors, runs tools/torch_forward.py on `x`. */
export async function runInTorch(source: PytorchSource, net: Net, x: Tensor, training: boolean): Promise<TorchRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-torch-'));
  writeFileSync(path.join(dir, 'net.py'), exportPytorch(source));
  await writeSafetensors(path.join(dir, 'weights.safetensors'), netTensors(net));
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(x));
  const out = path.join(dir, 'out');
  python(['tools/torch_forward.py', path.join(dir, 'net.py'), path.join(dir, 'weights.safetensors'), path.join(dir, 'x.npy'), out, ...(training ? ['--train'] : [])]);
  const read = (name: string): Tensor => parseNpy(readFileSync(path.join(out, name)), name);
  const aux = net.graph.auxHeads.map((_, i) => i).filter(() => training).map((i) => read(`aux${i + 1}.npy`));
  return { output: read('output.npy'), aux, state: parseSafetensors(readFileSync(path.join(out, 'state.safetensors'))).tensors };
}

/**
 * convstack's forward against PyTorch's on the same weights and batch: the scores, in training mode
 * each auxiliary head's and every BN's updated running statistics too. Returns the largest relative error.
 */
export async function compareWithTorch(source: PytorchSource, net: Net, x: Tensor, training: boolean): Promise<number> {
  const torch = await runInTorch(source, net, x, training);
  const errors = [assertClose(torch.output, net.forward(x, { training }), 'scores')];
  if (training) {
    const aux = net.auxiliaryOutputs();
    assert.equal(torch.aux.length, aux.length, 'one output per auxiliary head');
    aux.forEach((a, i) => errors.push(assertClose(torch.aux[i] as Tensor, a, `aux${i + 1}`)));
  }
  assert.deepEqual([...torch.state.keys()].sort(), [...net.params.keys()].sort(), "the module's state_dict names are the net's");
  for (const [name, t] of torch.state) errors.push(assertClose(t, (net.params.get(name) ?? assert.fail(name)).value, name));
  return Math.max(...errors);
}
