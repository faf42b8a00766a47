import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { parsePth, PthError } from '../../src/io/pth/pth.js';
import { checkReaderError, FUZZ_SEED, fuzzRuns, generator, mutateBytes } from './mutate.js';

/**
 * Fuzzing the .pth reader (src/io/pth/): byte mutants of a torch.save archive, pickle mutants that
 * know the opcodes (an integer argument pushed to its limits, a global swapped for a forbidden one
 * or another storage type, opcodes dropped, doubled or swapped, strings replaced), storages cut or
 * grown, and hand-made archives that try to make the reader allocate far more than the file holds.
 * Every case is read or refused with a one-line PthError naming the file; what is read holds no
 * more bytes of tensors than MAX_EXPANSION times the file's size.
 */
const SEED_FILE = new URL('../fixtures/pth/plain.pth', import.meta.url);
/** The reader's limit on what a file may expand to (src/io/pth/pth.ts). */
const MAX_EXPANSION = 16;

const ascii = (text: string): number[] => [...new TextEncoder().encode(text)];

/** Reads every case with parsePth; returns how many were refused and the slowest case in ms. */
function fuzz(cases: Iterable<[string, Uint8Array]>): { tried: number; refused: number; slowestMs: number } {
  let tried = 0;
  let refused = 0;
  let slowestMs = 0;
  for (const [what, bytes] of cases) {
    const file = `fuzz-${tried}.pth`;
    const started = performance.now();
    try {
      const { tensors } = parsePth(bytes, file);
      const held = [...tensors.values()].reduce((n, t) => n + t.data.byteLength, 0);
      assert.ok(held <= MAX_EXPANSION * bytes.length, `${what}: ${held} bytes of tensors from a file of ${bytes.length}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      checkReaderError(error, file, [PthError], what);
      if (process.env['FUZZ_VERBOSE']) console.log(what, '->', (error as Error).message);
      refused++;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    tried++;
  }
  return { tried, refused, slowestMs };
}

/** Bytes each opcode of a state_dict pickle takes after it (null: to the end of two text lines, GLOBAL). */
const ARGUMENT_BYTES: Readonly<Record<number, (bytes: Uint8Array, at: number) => number | null>> = {
  0x80: () => 1, 0x95: () => 8, 0x4b: () => 1, 0x4d: () => 2, 0x4a: () => 4, 0x47: () => 8, 0x71: () => 1, 0x72: () => 4, 0x68: () => 1, 0x6a: () => 4,
  0x8a: (b, at) => 1 + (b[at] ?? 0),
  0x8c: (b, at) => 1 + (b[at] ?? 0),
  0x58: (b, at) => 4 + new DataView(b.buffer, b.byteOffset).getUint32(at, true),
  0x63: () => null,
};

/** The opcodes of a pickle as [start, end) byte ranges, each with its arguments. */
function opcodes(pickle: Uint8Array): [number, number][] {
  const ops: [number, number][] = [];
  for (let at = 0; at < pickle.length; ) {
    const op = pickle[at] as number;
    const argument = ARGUMENT_BYTES[op];
    let end = at + 1 + (argument?.(pickle, at + 1) ?? 0);
    if (op === 0x63) end = pickle.indexOf(0x0a, pickle.indexOf(0x0a, at) + 1) + 1;
    ops.push([at, end]);
    at = end;
  }
  return ops;
}

const LIMITS: readonly number[][] = [
  [0x4a, 0xff, 0xff, 0xff, 0x7f], // BININT 2^31 - 1
  [0x4a, 0xff, 0xff, 0xff, 0xff], // BININT -1
  [0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x40], // LONG1 2^62
  [0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80], // LONG1 -2^63
  [0x8a, 7, 1, 0, 0, 0, 0, 0x20, 0], // LONG1 2^53 + 1
  [0x4b, 0], // BININT1 0
  [0x47, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], // BINFLOAT Infinity
];
const GLOBALS = ['os\nsystem\n', 'builtins\neval\n', 'torch\nLongStorage\n', 'torch\nHalfStorage\n', 'torch\nByteStorage\n', 'torch._utils\n_rebuild_parameter\n', 'collections\nOrderedDict\n'];
const STRINGS = ['../../etc/passwd', '', '0', 'storage', '9'.repeat(40), 'x'.repeat(300), 'two\nlines\r\u0000'];

/** One pickle mutant that knows where each opcode starts and ends. */
function mutatePickle(pickle: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n);
  const ops = opcodes(pickle);
  const pick = (filter: (op: number) => boolean): [number, number] | undefined => {
    const found = ops.filter(([at]) => filter(pickle[at] as number));
    return found[int(found.length)];
  };
  const splice = ([at, end]: [number, number], replacement: number[]): Uint8Array => Uint8Array.from([...pickle.subarray(0, at), ...replacement, ...pickle.subarray(end)]);
  const some = ops[int(ops.length)] as [number, number];
  switch (int(6)) {
    case 0: {
      const number = pick((op) => op === 0x4b || op === 0x4d || op === 0x4a || op === 0x8a);
      return number === undefined ? pickle : splice(number, LIMITS[int(LIMITS.length)] as number[]);
    }
    case 1: {
      const global = pick((op) => op === 0x63);
      return global === undefined ? pickle : splice(global, [0x63, ...ascii(GLOBALS[int(GLOBALS.length)] as string)]);
    }
    case 2:
      return splice(some, []);
    case 3:
      return splice(some, [...pickle.subarray(some[0], some[1]), ...pickle.subarray(some[0], some[1])]);
    case 4: {
      const other = ops[int(ops.length)] as [number, number];
      const [first, second] = some[0] < other[0] ? [some, other] : [other, some];
      if (first[1] > second[0]) return pickle;
      return Uint8Array.from([...pickle.subarray(0, first[0]), ...pickle.subarray(...second), ...pickle.subarray(first[1], second[0]), ...pickle.subarray(...first), ...pickle.subarray(second[1])]);
    }
    default: {
      const text = pick((op) => op === 0x58);
      const value = ascii(STRINGS[int(STRINGS.length)] as string);
      return text === undefined ? pickle : splice(text, [0x58, value.length, 0, 0, 0, ...value]);
    }
  }
}

/** A torch.save archive of `entries` (stored, uncompressed, as torch.save writes them). */
const archive = (entries: Record<string, Uint8Array>): Uint8Array => zipSync(entries, { level: 0 });

test('.pth: byte, pickle and storage mutants of a torch.save file are read or refused with a one-line error naming the file', (t) => {
  const seed = new Uint8Array(readFileSync(SEED_FILE));
  const entries = unzipSync(seed);
  const pickleName = 'plain/data.pkl';
  const pickle = entries[pickleName] as Uint8Array;
  assert.equal(parsePth(archive(entries), 'seed.pth').tensors.size, 9, 'the seed, rezipped, reads');
  const random = generator(FUZZ_SEED + 20);
  const runs = fuzzRuns(300);
  function* byteMutants(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < runs; i++) yield [`byte mutant ${i}`, mutateBytes(seed, random)];
  }
  function* pickleMutants(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < runs; i++) {
      let mutated = pickle;
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) mutated = mutatePickle(mutated, random);
      yield [`pickle mutant ${i}`, archive({ ...entries, [pickleName]: random() < 0.2 ? mutateBytes(mutated, random) : mutated })];
    }
  }
  function* storageMutants(): Generator<[string, Uint8Array]> {
    const storages = Object.keys(entries).filter((name) => name.includes('/data/'));
    for (let i = 0; i < runs / 3; i++) {
      const name = storages[i % storages.length] as string;
      yield [`storage mutant ${i} (${name})`, archive({ ...entries, [name]: mutateBytes(entries[name] as Uint8Array, random) })];
    }
  }
  const bytes = fuzz(byteMutants());
  const pickles = fuzz(pickleMutants());
  const storages = fuzz(storageMutants());
  assert.ok(bytes.refused > bytes.tried / 2, `${bytes.refused} of ${bytes.tried} byte mutants refused`);
  assert.ok(pickles.refused > pickles.tried / 2, `${pickles.refused} of ${pickles.tried} pickle mutants refused`);
  t.diagnostic(`.pth: ${bytes.tried} byte mutants (${bytes.refused} refused), ${pickles.tried} pickle mutants (${pickles.refused} refused), ${storages.tried} storage mutants (${storages.refused} refused); slowest ${Math.max(bytes.slowestMs, pickles.slowestMs, storages.slowestMs).toFixed(1)} ms`);
});

// Hand-written pickles in torch.save's layout, as in test/io/pth/pth.test.ts.
const bytes = (...parts: (string | number[])[]): Uint8Array => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? ascii(p) : p)));
const int32 = (v: number): number[] => [0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const text = (s: string): (string | number[])[] => [[0x58, s.length, 0, 0, 0], s];
/** `_rebuild_tensor_v2` of FloatStorage '0' of `numel` elements, with `size` and `stride` written as given (pickle ops). */
const tensorOps = (numel: number[], size: number[], stride: number[], offset: number[] = [0x4b, 0], key = '0'): (string | number[])[] => [
  'ctorch._utils\n_rebuild_tensor_v2\n((', ...text('storage'), 'ctorch\nFloatStorage\n', ...text(key), ...text('cpu'), numel, 'tQ',
  offset, size, stride, [0x89], 'ccollections\nOrderedDict\n)R', 'tR',
];
const stateDict = (...entries: (string | number[])[]): Uint8Array => bytes([0x80, 2], 'ccollections\nOrderedDict\n)R(', ...entries, 'u.');
const tuple = (...values: number[][]): number[] => [0x28, ...values.flat(), 0x74];
const pthArchive = (pickle: Uint8Array, storage: Uint8Array): Uint8Array => archive({ 'a/data.pkl': pickle, 'a/version': bytes('3\n'), 'a/data/0': storage });

/**
 * The archive with a zip64 end record and locator before its end record, claiming `entries` entries
 * from a directory past the end of the file, which fflate reads as zeros: empty entries, one after another.
 */
function withZip64Entries(zip: Uint8Array, entries: number): Uint8Array {
  const end = zip.length - 22;
  const out = new Uint8Array(zip.length + 76);
  out.set(zip.subarray(0, end));
  const view = new DataView(out.buffer);
  view.setUint32(end, 0x06064b50, true);
  view.setBigUint64(end + 4, 44n, true);
  view.setBigUint64(end + 24, BigInt(entries), true);
  view.setBigUint64(end + 32, BigInt(entries), true);
  view.setBigUint64(end + 48, BigInt(out.length), true);
  view.setUint32(end + 56, 0x07064b50, true);
  view.setBigUint64(end + 64, BigInt(end), true);
  view.setUint32(end + 72, 1, true);
  out.set(zip.subarray(end), end + 76);
  return out;
}

test('.pth: hand-made archives that would make the reader allocate far beyond the file, or loop, are refused', (t) => {
  const floats = 16_384;
  const storage = new Uint8Array(floats * 4);
  const shared = (names: number): Uint8Array => stateDict(...text('w0'), ...tensorOps(int32(floats), tuple(int32(floats)), tuple([0x4b, 1])), [0x71, 0], ...Array.from({ length: names }, (_, i) => [...text(`w${i + 1}`), [0x68, 0]]).flat());
  assert.equal(parsePth(pthArchive(shared(3), storage), 'ok.pth').tensors.size, 4, 'four names for one storage read');
  const huge = (size: number[], stride: number[]): Uint8Array => pthArchive(stateDict(...text('w'), ...tensorOps(int32(floats), size, stride)), storage);
  const cases: [string, Uint8Array][] = [
    ['2,000 names for one 64 KB storage (128 MB of tensors)', pthArchive(shared(2000), storage)],
    ['a size of 2^40 x 2^40 with strides of 0', huge(tuple([0x8a, 6, 0, 0, 0, 0, 0, 1], [0x8a, 6, 0, 0, 0, 0, 0, 1]), tuple([0x4b, 0], [0x4b, 0]))],
    ['a size of 2^60', huge(tuple([0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x10]), tuple([0x4b, 1]))],
    ['a negative stride', huge(tuple(int32(4)), tuple(int32(-1)))],
    ['a negative offset', pthArchive(stateDict(...text('w'), ...tensorOps(int32(floats), tuple(int32(4)), tuple([0x4b, 1]), int32(-2))), storage)],
    ['a storage of 2^53 elements', pthArchive(stateDict(...text('w'), ...tensorOps([0x8a, 7, 0, 0, 0, 0, 0, 0, 0x20], tuple(int32(4)), tuple([0x4b, 1]))), storage)],
    ['a string of 2^32 - 1 bytes', pthArchive(bytes([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff], 'w.'), storage)],
    ['a LONG1 of 255 bytes as a size', huge(tuple([0x8a, 255, ...new Array<number>(254).fill(0), 1]), tuple([0x4b, 1]))],
    ['100,000 MARKs', pthArchive(bytes([0x80, 2], '('.repeat(100_000), '.'), storage)],
    ['a list that holds itself', pthArchive(bytes([0x80, 2], ']q', [0], 'h', [0], 'a0', 'ccollections\nOrderedDict\n)R', ...text('w'), 'h', [0], 's.'), storage)],
    ['a storage key that climbs out of the archive', pthArchive(stateDict(...text('w'), ...tensorOps(int32(4), tuple(int32(4)), tuple([0x4b, 1]), [0x4b, 0], '../../0')), storage)],
    ['a global that hides another after its name', pthArchive(bytes([0x80, 2], 'ctorch\nFloatStorage os.system\n.'), storage)],
    ['two data.pkl', archive({ 'a/data.pkl': stateDict(), 'b/data.pkl': stateDict() })],
    // Found by the fuzzer: a TypeError from TextDecoder, and fflate walking 4 billion entries.
    ['a key that is not UTF-8', pthArchive(bytes([0x80, 2], 'ccollections\nOrderedDict\n)R', [0x58, 2, 0, 0, 0, 0xc3, 0x28], 'N', 's.'), storage)],
    ['a zip64 directory claiming 2^32 - 1 entries', withZip64Entries(pthArchive(shared(1), storage), 0xffffffff)],
  ];
  const result = fuzz(cases);
  assert.equal(result.refused, result.tried, 'every hand-made archive is refused');
  t.diagnostic(`.pth: ${result.tried} hand-made archives; slowest ${result.slowestMs.toFixed(1)} ms`);
});
