import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { OnnxError } from '../../src/io/onnx/errors.js';
import { importOnnxFile } from '../../src/io/onnx/file.js';
import { decodeModel } from '../../src/io/onnx/import.js';
import { ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation, TensorProto_DataType, type ModelProto, type TensorProto } from '../../src/io/onnx/onnx_pb.js';
import { checkReaderError, FUZZ_SEED, fuzzRuns, generator, mutateBytes } from './mutate.js';

/**
 * Fuzzing the ONNX reader (src/io/onnx/) through `importOnnxFile`, on files in a folder that also
 * holds external data, a symlink leading out, a subfolder and a FIFO: byte mutants of two exported
 * nets, and mutants that know the protobuf schema (dims huge, negative or zero, raw data that
 * disagrees with the shape, data types swapped, external data that climbs out of the folder, node
 * attributes and wiring changed, opsets and input shapes pushed to their limits), and hand-made
 * models whose folding would allocate far beyond the file. Every case imports or is refused with a
 * one-line OnnxError naming the file; what imports holds no more bytes of weights than
 * MAX_EXPANSION times the bytes read (the model file and its external data).
 */
const FIXTURES = new URL('../fixtures/onnx/', import.meta.url);
const SEEDS = ['tiny_alexnet_opset9.onnx', 'tiny_googlenet_opset13.onnx'].map((name) => new Uint8Array(readFileSync(new URL(name, FIXTURES))));
const MAX_EXPANSION = 16;
/** The external data file beside the models: 4 KB of float32 0.25s. */
const EXTERNAL_BYTES = 4096;

let dir = '';
let outside = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-fuzz-onnx-'));
  outside = await mkdtemp(path.join(tmpdir(), 'convstack-fuzz-outside-'));
  await writeFile(path.join(dir, 'w.bin'), new Uint8Array(new Float32Array(EXTERNAL_BYTES / 4).fill(0.25).buffer));
  await writeFile(path.join(outside, 'secret.bin'), new Uint8Array(EXTERNAL_BYTES));
  await symlink(path.join(outside, 'secret.bin'), path.join(dir, 'link.bin'));
  await mkdir(path.join(dir, 'sub'));
  execFileSync('mkfifo', [path.join(dir, 'fifo.bin')]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

/** Writes each case as a model file beside the external data and imports it; returns the counts. */
async function fuzz(cases: Iterable<[string, Uint8Array]>): Promise<{ tried: number; refused: number; slowestMs: number }> {
  let tried = 0;
  let refused = 0;
  let slowestMs = 0;
  for (const [what, bytes] of cases) {
    const file = path.join(dir, `fuzz-${tried}.onnx`);
    await writeFile(file, bytes);
    const started = performance.now();
    try {
      const { weights } = await importOnnxFile(file);
      const held = [...weights.values()].reduce((n, t) => n + t.data.byteLength, 0);
      assert.ok(held <= MAX_EXPANSION * (bytes.length + EXTERNAL_BYTES), `${what}: ${held} bytes of weights from a file of ${bytes.length}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      checkReaderError(error, file, [OnnxError], what);
      if (process.env['FUZZ_VERBOSE']) console.log(what, '->', (error as Error).message);
      refused++;
    } finally {
      await rm(file);
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    tried++;
  }
  return { tried, refused, slowestMs };
}

const HUGE_DIMS = [1n << 40n, 1n << 62n, -1n, 0n, (1n << 31n) - 1n, 3n];
const LOCATIONS = ['w.bin', '../w.bin', '/etc/passwd', 'link.bin', 'sub', '.', 'fifo.bin', 'missing.bin', '', 'sub/../w.bin', 'w.bin\u0000.txt'];
const NUMBERS = ['0', '4', '4096', '4097', '-1', '1e3', '18446744073709551616', '9007199254740993', 'x'];
const TYPES = [TensorProto_DataType.FLOAT, TensorProto_DataType.DOUBLE, TensorProto_DataType.INT64, TensorProto_DataType.INT8, TensorProto_DataType.STRING, TensorProto_DataType.BFLOAT16, TensorProto_DataType.UNDEFINED, 99];
const INTS = [0n, -1n, 1n << 40n, (1n << 63n) - 1n, -(1n << 63n), 7n, 2n];

/** One edit of a decoded model that knows its schema. */
function mutateModel(model: ModelProto, random: () => number): void {
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T | undefined => items[int(items.length)];
  const graph = model.graph;
  if (graph === undefined) return;
  const tensor = pick(graph.initializer) as TensorProto | undefined;
  const node = pick(graph.node);
  switch (int(10)) {
    case 0:
      if (tensor) tensor.dims[int(tensor.dims.length + 1)] = pick(HUGE_DIMS) as bigint;
      break;
    case 1:
      if (tensor) tensor.rawData = random() < 0.5 ? tensor.rawData.subarray(0, int(tensor.rawData.length)) : Uint8Array.from([...tensor.rawData, ...new Uint8Array(1 + int(64))]);
      break;
    case 2:
      if (tensor) tensor.dataType = pick(TYPES) as number;
      break;
    case 3:
      if (tensor) {
        tensor.rawData = new Uint8Array(0);
        tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
        const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
        tensor.externalData = [entry('location', pick(LOCATIONS) as string)];
        if (random() < 0.5) tensor.externalData.push(entry('offset', pick(NUMBERS) as string));
        if (random() < 0.5) tensor.externalData.push(entry('length', pick(NUMBERS) as string));
      }
      break;
    case 4: {
      const attribute = node && pick(node.attribute);
      if (attribute) {
        attribute.i = pick(INTS) as bigint;
        attribute.ints = attribute.ints.map((v) => (random() < 0.5 ? (pick(INTS) as bigint) : v));
        if (random() < 0.3) attribute.ints.push(pick(INTS) as bigint);
        attribute.f = pick([Number.NaN, Infinity, -1, 1e30, 0]) as number;
      }
      break;
    }
    case 5:
      if (node) node.input[int(node.input.length + 1)] = pick([...graph.node.flatMap((n) => n.output), '', 'nowhere', ...graph.initializer.map((t) => t.name)]) as string;
      break;
    case 6: {
      const i = int(graph.node.length);
      const j = int(graph.node.length);
      const [a, b] = [graph.node[i], graph.node[j]];
      if (a && b) [graph.node[i], graph.node[j]] = random() < 0.5 ? [b, a] : [a, a];
      else graph.node.splice(i, 1);
      break;
    }
    case 7: {
      const opset = pick(model.opsetImport);
      if (opset) opset.version = pick([0n, 5n, 6n, 12n, 19n, 1n << 40n, -1n]) as bigint;
      break;
    }
    case 8: {
      const input = graph.input[0]?.type?.value;
      const dims = input?.case === 'tensorType' ? input.value.shape?.dim : undefined;
      const dim = dims && pick(dims);
      if (dim) dim.value = { case: 'dimValue', value: pick(HUGE_DIMS) as bigint };
      break;
    }
    default:
      if (node) node.opType = pick(['Conv', 'Gemm', 'Concat', 'Gather', 'Reshape', 'Slice', 'Pad', 'MaxPool', 'Loop', '']) as string;
  }
}

test('ONNX: byte and schema-aware mutants of two exported nets import or are refused with a one-line error naming the file', async (t) => {
  const random = generator(FUZZ_SEED + 30);
  const runs = fuzzRuns(150);
  function* byteMutants(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < runs; i++) yield [`byte mutant ${i}`, mutateBytes(SEEDS[i % 2] as Uint8Array, random, 3000)];
  }
  const decoded = SEEDS.map((bytes, i) => decodeModel(bytes, `seed ${i}`));
  function* schemaMutants(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < runs * 2; i++) {
      const model = clone(ModelProtoSchema, decoded[i % 2] as ModelProto);
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) mutateModel(model, random);
      yield [`schema mutant ${i}`, toBinary(ModelProtoSchema, model)];
    }
  }
  const bytes = await fuzz(byteMutants());
  const schema = await fuzz(schemaMutants());
  assert.ok(bytes.refused > bytes.tried / 3, `${bytes.refused} of ${bytes.tried} byte mutants refused`);
  assert.ok(schema.refused > schema.tried / 2, `${schema.refused} of ${schema.tried} schema mutants refused`);
  t.diagnostic(`ONNX: ${bytes.tried} byte mutants (${bytes.refused} refused), ${schema.tried} schema mutants (${schema.refused} refused); slowest ${Math.max(bytes.slowestMs, schema.slowestMs).toFixed(1)} ms`);
});

type NodeInit = { opType: string; input: string[]; output: string[]; name?: string; attribute?: { name: string; type: number; i?: bigint; ints?: bigint[] }[] };
type TensorInit = { name: string; dims: bigint[]; dataType: number; rawData?: Uint8Array; int64Data?: bigint[]; dataLocation?: number; externalData?: { key: string; value: string }[] };
const floats = (n: number, value = 0.5): Uint8Array => new Uint8Array(new Float32Array(n).fill(value).buffer);
const float = (name: string, dims: number[], raw = floats(dims.reduce((a, b) => a * b, 1))): TensorInit => ({ name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: raw });

/** A model of `nodes` over a 1x2x4x4 input `x`, its output `y`, opset 13. */
function model(nodes: NodeInit[], initializer: TensorInit[], inputDims: bigint[] = [1n, 2n, 4n, 4n]): Uint8Array {
  const tensorType = (dims: bigint[]) => ({ value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: d } })) } } } });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    graph: { node: nodes, initializer, input: [{ name: 'x', type: tensorType(inputDims) }], output: [{ name: 'y', type: tensorType([1n, 2n, 2n, 2n]) }] },
  }));
}

/** `count` Concat nodes, each of the previous output with itself. */
const doublings = (count: number): NodeInit[] => Array.from({ length: count }, (_, i) => ({ opType: 'Concat', input: [`c${i}`, `c${i}`], output: [`c${i + 1}`], attribute: [{ name: 'axis', type: 2, i: 0n }] }));
/** `count` 3x3 Convs of 16 channels, padded, that all use the initializer `w`. */
const sharedConvs = (count: number): NodeInit[] =>
  Array.from({ length: count }, (_, i) => ({ opType: 'Conv', name: `conv${i}`, input: [i === 0 ? 'x' : `h${i}`, 'w'], output: [i === count - 1 ? 'y' : `h${i + 1}`], attribute: [{ name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] }] }));
const external = (name: string, location: string): TensorInit => ({ name, dims: [2n, 2n, 3n, 3n], dataType: TensorProto_DataType.FLOAT, dataLocation: TensorProto_DataLocation.EXTERNAL, externalData: [{ key: 'location', value: location }, { key: 'length', value: '144' }] });

test('ONNX: hand-made models that would fold, copy or read far beyond their bytes, or wait forever, are refused', async (t) => {
  const conv = (w: TensorInit, extra: Partial<NodeInit> = {}): Uint8Array => model([{ opType: 'Conv', name: 'conv0', input: ['x', 'w', ...(extra.input ?? [])], output: ['y'] }], [w, ...((extra as { initializer?: TensorInit[] }).initializer ?? [])]);
  assert.ok((await fuzz([['a good Conv', conv(float('w', [2, 2, 3, 3]))]])).refused === 0, 'the good model the cases differ from imports');
  const cases: [string, Uint8Array, RegExp][] = [
    ['a Concat of a 1,024-value tensor with itself, 30 times over', model(doublings(30), [float('c0', [1024])]), /Concat node 'c\d+' .*would make \d+ values, more than the bytes of the model and its data justify/],
    ['a Gather of 100,000 indices from a 10,000-value tensor', model([{ opType: 'Gather', input: ['d', 'i'], output: ['g'] }], [float('d', [1, 10_000]), { name: 'i', dims: [100_000n], dataType: TensorProto_DataType.INT64, rawData: new Uint8Array(800_000) }]), /Gather .*would make 1000000000 values/],
    ['an Add of [4000, 1] and [1, 4000]', model([{ opType: 'Add', input: ['a', 'b'], output: ['s'] }], [float('a', [4000, 1]), float('b', [1, 4000])]), /Add .*would make 16000000 values/],
    ['1,000 Conv layers sharing one 9 KB initializer', model(sharedConvs(1000), [float('w', [16, 16, 3, 3])], [1n, 16n, 4n, 4n]), /Conv node 'conv\d+' .*would make 2304 values/],
    ['300 initializers reading the same 144 bytes of external data', model([], Array.from({ length: 300 }, (_, i) => external(`e${i}`, 'w.bin'))), /external data 'w\.bin': the tensors read from it add up to more than its 4096 bytes: their ranges overlap/],
    ['external data from a FIFO', conv(external('w', 'fifo.bin')), /external data 'fifo\.bin': not a regular file/],
    ['external data from a folder', conv(external('w', 'sub')), /external data 'sub': not a regular file/],
    ['external data through a symlink out of the folder', conv(external('w', 'link.bin')), /a symlink that leads out/],
    ['external data up and out of the folder', conv(external('w', '../w.bin')), /'\.\.' leads out/],
    ['an offset beyond 2^53', conv({ ...external('w', 'w.bin'), externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '18446744073709551616' }] }), /external data offset '18446744073709551616' is not a whole number/],
    ['a node name and input with newlines', model([{ opType: 'Relu', name: 'two\nlines', input: ['x\n'], output: ['y'] }], []), /Relu node 'two\\u000alines' \(opset 13\): input 'x\\u000a' is not computed by any earlier node$/],
    ['a Conv bias longer than its filters', model([{ opType: 'Conv', name: 'conv0', input: ['x', 'w', 'b'], output: ['y'] }], [float('w', [2, 2, 3, 3]), float('b', [5])]), /a bias of 5 values for 2 filters/],
    ['a Squeeze of a dimension of 3 feeding a Conv weight', model([{ opType: 'Squeeze', input: ['w5', 'axes'], output: ['w'] }, { opType: 'Conv', name: 'conv0', input: ['x', 'w'], output: ['y'] }], [float('w5', [2, 2, 3, 3]), { name: 'axes', dims: [1n], dataType: TensorProto_DataType.INT64, int64Data: [2n] }]), /input 2 \('w'\) holds 36 values for shape \[2, 2, 3\]|weight of shape \[2, 2, 3\]/],
    ['weights of shape [2^62]', conv({ ...float('w', [2, 2, 3, 3]), dims: [1n << 62n] }), /invalid dimensions \[4611686018427387904\]/],
    ['a negative dimension', conv({ ...float('w', [2, 2, 3, 3]), dims: [-2n, 2n, 3n, 3n] }), /invalid dimensions \[-2, 2, 3, 3\]/],
    ['raw data that disagrees with the shape', conv(float('w', [2, 2, 3, 3], floats(30))), /120 bytes of data for shape \[2, 2, 3, 3\], which needs 144/],
  ];
  let refused = 0;
  let slowestMs = 0;
  for (const [what, bytes, message] of cases) {
    const file = path.join(dir, 'hand-made.onnx');
    await writeFile(file, bytes);
    const started = performance.now();
    await assert.rejects(importOnnxFile(file), (error: unknown) => {
      checkReaderError(error, file, [OnnxError], what);
      assert.match((error as Error).message, message, what);
      return true;
    }, what);
    slowestMs = Math.max(slowestMs, performance.now() - started);
    refused++;
  }
  const missing = path.join(dir, 'missing.onnx');
  await assert.rejects(importOnnxFile(missing), new Error(`cannot read ${missing}: no such file`));
  t.diagnostic(`ONNX: ${refused} hand-made models refused; slowest ${slowestMs.toFixed(1)} ms`);
});
