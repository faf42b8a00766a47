import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNpy, NpyError, parseNpy } from '../../src/io/npy.js';
import { formatSafetensors, parseSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { modelMetadata, ModelFileError, netFromFile, netTensors, type ModelInfo } from '../../src/train/model_file.js';
import { checkReaderError, FUZZ_SEED, fuzzRuns, generator, mutateBytes, mutateText } from './mutate.js';

/**
 * Fuzzing the in-memory readers (.npy, safetensors, model files) with truncated, bit-flipped and
 * hand-made files: each either reads the file or throws its own error, on one line, naming the file;
 * never a RangeError from an allocation the file's size does not justify, never a TypeError.
 * FUZZ_VERBOSE=1 prints every refusal.
 */
type Reader = (bytes: Uint8Array, file: string) => unknown;
type ErrorType = abstract new (...args: never[]) => Error;

/** Runs `reader` on every case; returns how many were refused and the slowest case in ms. */
function fuzz(cases: Iterable<[string, Uint8Array]>, reader: Reader, types: readonly ErrorType[]): { tried: number; refused: number; slowestMs: number } {
  let tried = 0;
  let refused = 0;
  let slowestMs = 0;
  for (const [what, bytes] of cases) {
    const file = `fuzz-${tried}.bin`;
    const started = performance.now();
    try {
      reader(bytes, file);
    } catch (error) {
      checkReaderError(error, file, types, what);
      if (process.env["FUZZ_VERBOSE"]) console.log(what, "->", (error as Error).message);
      refused++;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    tried++;
  }
  return { tried, refused, slowestMs };
}

function* mutants(seeds: readonly Uint8Array[], runs: number, seed: number, head: (bytes: Uint8Array) => number): Generator<[string, Uint8Array]> {
  const random = generator(seed);
  for (let i = 0; i < runs; i++) {
    const original = seeds[i % seeds.length] as Uint8Array;
    yield [`mutant ${i} of seed file ${i % seeds.length}`, mutateBytes(original, random, head(original))];
  }
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

function npyWithHeader(header: string, data = new Uint8Array(0), version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(ascii(header), 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + header.length);
  return out;
}

function* handMadeNpy(): Generator<[string, Uint8Array]> {
  const header = (shape: string, descr = '<f4'): string => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }\n`;
  const withLength = (length: number, version: number): Uint8Array => {
    const bytes = npyWithHeader(header('(2,)'), new Uint8Array(8), version);
    const view = new DataView(bytes.buffer);
    if (version === 1) view.setUint16(8, length, true);
    else view.setUint32(8, length, true);
    return bytes;
  };
  yield ['header length 65535 in a small file', withLength(0xffff, 1)];
  yield ['header length 2^32 - 1', withLength(0xffffffff, 2)];
  yield ['header length 2^31', withLength(0x80000000, 3)];
  yield ['shape whose product overflows', npyWithHeader(header('(4294967296, 4294967296, 4294967296)'), new Uint8Array(16))];
  yield ['shape of 2^53 + 1', npyWithHeader(header('(9007199254740993,)'), new Uint8Array(16))];
  yield ['shape of 400 digits', npyWithHeader(header(`(${'9'.repeat(400)},)`), new Uint8Array(16))];
  yield ['negative dimension', npyWithHeader(header('(-4,)'), new Uint8Array(16))];
  yield ['dtype that lies: <f4 over float64 data', npyWithHeader(header('(3,)'), new Uint8Array(24))];
  yield ['dtype that lies: <f8 over float32 data', npyWithHeader(header('(3,)', '<f8'), new Uint8Array(12))];
  yield ['big-endian dtype', npyWithHeader(header('(3,)', '>f4'), new Uint8Array(12))];
  yield ['object dtype', npyWithHeader(header('(3,)', '|O'), new Uint8Array(12))];
  yield ['header of 70,000 bytes', npyWithHeader(header('(1,)') + ' '.repeat(70_000), new Uint8Array(4), 2)];
  yield ['header with 20,000 dimensions of 2', npyWithHeader(header(`(${'2, '.repeat(20_000)})`), new Uint8Array(4), 2)];
  yield ['version 9', npyWithHeader(header('(1,)'), new Uint8Array(4), 9)];
  yield ['no magic', ascii('not an array at all')];
  yield ['empty file', new Uint8Array(0)];
}

test('.npy: truncated, bit-flipped and hand-made files are read or refused with a one-line error naming the file', (t) => {
  const seeds = [formatNpy(Tensor.from([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]))), formatNpy(Tensor.from([4], Float64Array.from([1, -2, 3.5, 4]), 'float64'))];
  const reader: Reader = (bytes, file) => parseNpy(bytes, file);
  const handMade = fuzz(handMadeNpy(), reader, [NpyError]);
  assert.equal(handMade.refused, handMade.tried, 'every hand-made file is refused');
  const mutated = fuzz(mutants(seeds, fuzzRuns(600), FUZZ_SEED, () => 80), reader, [NpyError]);
  assert.ok(mutated.refused > mutated.tried / 2, `${mutated.refused} of ${mutated.tried} refused`);
  t.diagnostic(`npy: ${handMade.tried} hand-made, ${mutated.tried} mutants (${mutated.refused} refused); slowest ${Math.max(handMade.slowestMs, mutated.slowestMs).toFixed(1)} ms`);
});

function safetensorsWithHeader(header: string, data = new Uint8Array(0), claimed?: bigint): Uint8Array {
  const json = ascii(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimed ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function* handMadeSafetensors(): Generator<[string, Uint8Array]> {
  const one = (info: object, data = new Uint8Array(16)): Uint8Array => safetensorsWithHeader(JSON.stringify({ w: info }), data);
  yield ['header length 2^64 - 1', safetensorsWithHeader('{}', new Uint8Array(0), 2n ** 64n - 1n)];
  yield ['header length 2^63', safetensorsWithHeader('{}', new Uint8Array(0), 2n ** 63n)];
  yield ['header length 2^53 + 1', safetensorsWithHeader('{}', new Uint8Array(0), 2n ** 53n + 1n)];
  yield ['header length one past the file', safetensorsWithHeader('{}', new Uint8Array(0), 3n)];
  yield ['shape whose product overflows', one({ dtype: 'F32', shape: [2 ** 26, 2 ** 26, 2 ** 26], data_offsets: [0, 16] })];
  yield ['shape of 2^53', one({ dtype: 'F32', shape: [2 ** 53], data_offsets: [0, 16] })];
  yield ['shape with a fraction', one({ dtype: 'F32', shape: [1.5], data_offsets: [0, 16] })];
  yield ['shape with a string', one({ dtype: 'F32', shape: ['4'], data_offsets: [0, 16] })];
  yield ['offsets past the end', one({ dtype: 'F32', shape: [4], data_offsets: [0, 2 ** 40] })];
  yield ['offsets reversed', one({ dtype: 'F32', shape: [4], data_offsets: [16, 0] })];
  yield ['negative offsets', one({ dtype: 'F32', shape: [4], data_offsets: [-16, 0] })];
  yield ['dtype that lies: F64 over 4 floats', one({ dtype: 'F64', shape: [4], data_offsets: [0, 16] })];
  yield ['dtype that lies: F32 over 2 doubles, shape of 2', one({ dtype: 'F32', shape: [2], data_offsets: [0, 16] })];
  yield ['unknown dtype', one({ dtype: 'F128', shape: [1], data_offsets: [0, 16] })];
  yield ['dtype not read', one({ dtype: 'BF16', shape: [8], data_offsets: [0, 16] })];
  yield ['overlapping tensors', safetensorsWithHeader(JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), new Uint8Array(16))];
  yield ['trailing bytes', one({ dtype: 'F32', shape: [2], data_offsets: [0, 8] })];
  yield ['header that is a list', safetensorsWithHeader('[1, 2]')];
  yield ['header of 100,000 nested lists', safetensorsWithHeader('{"w": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}')];
  yield ['header of 5 MB of tensor entries', safetensorsWithHeader(JSON.stringify(Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [2 ** 30], data_offsets: [0, 4] }]))))];
  yield ['header that is not UTF-8', safetensorsWithHeader('{"\xff": 1}'.replace('\xff', '\u00ff')).map((b, i) => (i === 10 ? 0xff : b))];
  yield ['metadata that is not strings', safetensorsWithHeader(JSON.stringify({ __metadata__: { a: 1 } }))];
  yield ['fewer than 8 bytes', new Uint8Array(5)];
}

test('safetensors: truncated, bit-flipped and hand-made files are read or refused with a one-line error naming the file', (t) => {
  const tensors = new Map([
    ['conv1.weight', Tensor.from([2, 1, 2, 2], Float32Array.from({ length: 8 }, (_, i) => i / 8))],
    ['conv1.bias', Tensor.from([2], Float64Array.from([1, 2]), 'float64')],
  ]);
  const seeds = [formatSafetensors(tensors, { note: 'a seed' }), formatSafetensors(new Map([...tensors].slice(0, 1)))];
  const reader: Reader = (bytes, file) => parseSafetensors(bytes, file);
  const handMade = fuzz(handMadeSafetensors(), reader, [SafetensorsError]);
  assert.equal(handMade.refused, handMade.tried, 'every hand-made file is refused');
  const headerEnd = (bytes: Uint8Array): number => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const mutated = fuzz(mutants(seeds, fuzzRuns(600), FUZZ_SEED + 1, headerEnd), reader, [SafetensorsError]);
  assert.ok(mutated.refused > mutated.tried / 2, `${mutated.refused} of ${mutated.tried} refused`);
  t.diagnostic(`safetensors: ${handMade.tried} hand-made, ${mutated.tried} mutants (${mutated.refused} refused); slowest ${Math.max(handMade.slowestMs, mutated.slowestMs).toFixed(1)} ms`);
});

const TEXT = 'INPUT[8x8x1] -> CONV3-4(p=1) -> BN -> RELU -> POOL2 -> FC-3';
const modelInfo = (architecture: boolean): ModelInfo => {
  const spec = toNetSpec(TEXT);
  return { spec, ...(architecture && { architecture: TEXT }), classes: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.25] }, init: 'he' };
};

test('model files: mutated metadata (architecture, spec, classes, normalisation) and bytes are loaded or refused naming the file', (t) => {
  const net = new Net(toNetSpec(TEXT), { seed: 1 });
  const reader: Reader = (bytes, file) => netFromFile(parseSafetensors(bytes, file), file).net.dispose();
  const seedsMetadata = [modelMetadata(modelInfo(true)), modelMetadata(modelInfo(false))];
  const random = generator(FUZZ_SEED + 2);
  const runs = fuzzRuns(300);
  function* metadataMutants(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < runs; i++) {
      const metadata = { ...(seedsMetadata[i % 2] as Record<string, string>) };
      const keys = Object.keys(metadata);
      const key = keys[Math.floor(random() * keys.length)] as string;
      if (random() < 0.1) delete metadata[key];
      else metadata[key] = mutateText(metadata[key] as string, random);
      yield [`metadata mutant ${i}: ${key} = ${JSON.stringify(metadata[key])}`, formatSafetensors(netTensors(net), metadata)];
    }
  }
  const types = [SafetensorsError, ModelFileError];
  const byMetadata = fuzz(metadataMutants(), reader, types);
  const seeds = seedsMetadata.map((m) => formatSafetensors(netTensors(net), m));
  const byBytes = fuzz(mutants(seeds, fuzzRuns(300), FUZZ_SEED + 3, () => 600), reader, types);
  assert.ok(byMetadata.refused > byMetadata.tried / 3, `${byMetadata.refused} of ${byMetadata.tried} metadata mutants refused`);
  t.diagnostic(`model files: ${byMetadata.tried} metadata mutants (${byMetadata.refused} refused), ${byBytes.tried} byte mutants (${byBytes.refused} refused); slowest ${Math.max(byMetadata.slowestMs, byBytes.slowestMs).toFixed(1)} ms`);
});

test('model files: hand-made metadata that would build a net far larger than the file is refused before any allocation', (t) => {
  const net = new Net(toNetSpec(TEXT), { seed: 1 });
  const reader: Reader = (bytes, file) => netFromFile(parseSafetensors(bytes, file), file).net.dispose();
  const withMetadata = (changes: Record<string, string>): Uint8Array => formatSafetensors(netTensors(net), { ...modelMetadata(modelInfo(true)), ...changes });
  const specOf = (nodes: unknown): string => JSON.stringify({ input: [1, 8, 8], nodes });
  const cases: [string, Uint8Array][] = [
    ['an architecture of 2e12 weights', withMetadata({ architecture: 'INPUT[1024x1024x3] -> CONV3-512(p=1) -> FC-4096 -> FC-3' })],
    ['an architecture of 40M weights', withMetadata({ architecture: 'INPUT[8x8x1] -> FC-100000 -> FC-400 -> FC-3' })],
    ['an architecture too large for any array', withMetadata({ architecture: 'INPUT[65536x65536x3] -> FC-3' })],
    ['a spec whose nodes are numbers', withMetadata({ architecture: '', spec: specOf([1, 2]) }).slice()],
    ['a spec whose node has no op', withMetadata({ spec: specOf([{ name: 'x', inputs: ['input'] }]) })],
    ['a spec with a huge FC', withMetadata({ spec: specOf([{ name: 'fc', op: 'fc', inputs: ['input'], attrs: { outFeatures: 2 ** 40 } }]) })],
    ['classes that are not names', withMetadata({ classes: '[1, 2, 3]' })],
    ['a class list of another length', withMetadata({ classes: '["a"]' })],
    ['normalisation with NaN', withMetadata({ normalization: '{"mean": [0.5], "std": [NaN]}' })],
    ['normalisation with a string', withMetadata({ normalization: '{"mean": "0.5", "std": [1]}' })],
    ['an unknown init', withMetadata({ init: 'magic' })],
    ['compile options that are a number', withMetadata({ compile_options: '7' })],
  ];
  const withoutArchitecture = cases.map(([what, bytes]): [string, Uint8Array] => {
    if (!what.startsWith('a spec')) return [what, bytes];
    const { tensors, metadata } = parseSafetensors(bytes, 'seed');
    delete metadata['architecture'];
    return [what, formatSafetensors(tensors, metadata)];
  });
  const result = fuzz(withoutArchitecture, reader, [SafetensorsError, ModelFileError]);
  assert.equal(result.refused, result.tried, 'every hand-made model file is refused');
  t.diagnostic(`model files: ${result.tried} hand-made; slowest ${result.slowestMs.toFixed(1)} ms`);
});
