import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { PthError, parsePth, readPth } from '../../../src/io/pth/pth.js';
import { ALLOWED_GLOBALS } from '../../../src/io/pth/pickle.js';
import { formatSafetensors, parseSafetensors } from '../../../src/io/safetensors.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { assertClose } from '../../helpers/assert.js';

// The fixtures are written by tools/pth_fixtures.py with torch.save (PyTorch 1.13): the k-th tensor
// in file order holds sin(i + k) at its row-major index i, computed in float64 and then cast.
const FIXTURES = new URL('../../fixtures/pth/', import.meta.url);
const fixture = (name: string): string => new URL(name, FIXTURES).pathname;
const pattern = (k: number, n: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i + k));

test('plain.pth: every storage type, a view into a shared storage, a transposed tensor and a 0-d tensor', async () => {
  const { tensors, integers } = await readPth(fixture('plain.pth'));
  assert.deepEqual([...tensors.keys()], ['float', 'double', 'half', 'long', 'int', 'view', 'transposed', 'scalar', 'shared']);
  const t = (name: string): Tensor => tensors.get(name) as Tensor;
  assert.deepEqual([t('float').shape, t('float').dtype], [[2, 3], 'float32']);
  assertClose(t('float'), pattern(0, 6), 'float', 1e-7);
  assert.deepEqual([t('double').shape, t('double').dtype], [[3], 'float64']);
  assertClose(t('double'), pattern(1, 3), 'double', 1e-15);
  assert.deepEqual([t('half').shape, t('half').dtype], [[2, 2], 'float32']);
  assertClose(t('half'), pattern(2, 4), 'half', 1e-3);
  assert.deepEqual(Array.from(t('long').data), [-3, 0, 2 ** 40]);
  assert.deepEqual([t('int').shape, Array.from(t('int').data)], [[1, 2], [-7, 8]]);
  assert.deepEqual(integers, new Map([['long', 'I64'], ['int', 'I32']]));
  // shared[4:10].view(2, 3): offset 4 into the 12-element storage that 'shared' also holds.
  assert.deepEqual(t('view').shape, [2, 3]);
  assertClose(t('view'), pattern(4, 6), 'view', 1e-7);
  assertClose(t('shared'), pattern(0, 12), 'shared', 1e-7);
  // pattern(3).reshape(2, 3).t(): stride (1, 3), gathered row-major.
  const p = pattern(3, 6);
  assert.deepEqual(t('transposed').shape, [3, 2]);
  assertClose(t('transposed'), [p[0], p[3], p[1], p[4], p[2], p[5]] as number[], 'transposed', 1e-7);
  assert.deepEqual([t('scalar').shape, Array.from(t('scalar').data)], [[], [2.5]]);
});

test('lenet5_bn_half.pth: a state_dict as PyTorch saves it, BN buffers and int64 num_batches_tracked included', async () => {
  const { tensors, integers } = await readPth(fixture('lenet5_bn_half.pth'));
  const bn = (l: string): string[] => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((p) => `${l}.${p}`);
  assert.deepEqual([...tensors.keys()], ['c1.weight', 'c1.bias', ...bn('bn1'), 'c3.weight', 'c3.bias', ...bn('bn3'), 'c5.weight', 'c5.bias', 'f6.weight', 'f6.bias', 'output.weight', 'output.bias']);
  assert.deepEqual(integers, new Map([['bn1.num_batches_tracked', 'I64'], ['bn3.num_batches_tracked', 'I64']]));
  [...tensors].forEach(([name, t], k) => {
    if (name.endsWith('num_batches_tracked')) assert.deepEqual([t.shape, Array.from(t.data)], [[], [k + 100]], name);
    else if (name.endsWith('running_var')) assertClose(t, pattern(k, t.size).map((v) => Math.abs(v) + 0.5), name, 1e-7);
    else assertClose(t, pattern(k, t.size), name, 1e-7);
  });
  assert.deepEqual(tensors.get('c3.weight')?.shape, [8, 3, 5, 5]);
});

// Hand-written pickles, in torch.save's archive layout.
const bytes = (...parts: (string | number[])[]): Uint8Array => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));
const archive = (pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array =>
  zipSync({ 'archive/data.pkl': pickle, 'archive/version': bytes('3\n'), ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v])) }, { level: 0 });

test('a pickle naming os.system, builtins.eval or any other global is refused by name, and nothing runs', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'convstack-pth-'));
  const marker = path.join(dir, 'pwned');
  try {
    const command = `touch ${marker}`;
    const systemCall = bytes([0x80, 2], 'cos\nsystem\n', 'X', [command.length, 0, 0, 0], command, [0x85], 'R.');
    assert.throws(() => parsePth(archive(systemCall), 'evil.pth'), (e: Error) => e instanceof PthError && /^evil\.pth: archive\/data\.pkl: refuses the global 'os\.system'/.test(e.message));
    // Protocol 4's STACK_GLOBAL takes the names from the stack.
    const evalCall = bytes([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93, 0x8c, command.length], command, [0x85], 'R.');
    assert.throws(() => parsePth(archive(evalCall), 'evil.pth'), /refuses the global 'builtins\.eval'/);
    // Inside a state_dict, in place of a tensor.
    const nested = bytes([0x80, 2], 'ccollections\nOrderedDict\n)R(X', [1, 0, 0, 0], 'a', 'cposix\nsystem\n', 'X', [command.length, 0, 0, 0], command, [0x85], 'Ru.');
    assert.throws(() => parsePth(archive(nested), 'evil.pth'), /refuses the global 'posix\.system': a state_dict names only collections\.OrderedDict, torch\._utils\._rebuild_tensor_v2/);
    // Old-style INST and OBJ build instances by name: not opcodes a state_dict uses.
    assert.throws(() => parsePth(archive(bytes('(ios\nsystem\nX', [2, 0, 0, 0], 'ls', '.')), 'evil.pth'), /opcode 0x69 is not one a state_dict uses \(pickle byte 1\)/);
    assert.equal(existsSync(marker), false, 'the command never ran');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.ok(!ALLOWED_GLOBALS.has('builtins.eval'));
});

test('bad files: each a one-line error naming the file and what is wrong', () => {
  // {'w': a FloatStorage of `numel` elements viewed at `offset` with one size and stride}
  const tensor = (numel: number, offset: number, size: number, stride: number): Uint8Array =>
    bytes(
      [0x80, 2],
      'ccollections\nOrderedDict\n)R(X',
      [1, 0, 0, 0],
      'w',
      'ctorch._utils\n_rebuild_tensor_v2\n((X',
      [7, 0, 0, 0],
      'storage',
      'ctorch\nFloatStorage\nX',
      [1, 0, 0, 0],
      '0X',
      [3, 0, 0, 0],
      'cpu',
      [0x4b, numel],
      'tQ',
      [0x4b, offset, 0x4b, size, 0x85, 0x4b, stride, 0x85, 0x89],
      'ccollections\nOrderedDict\n)R',
      'tRu.',
    );
  const f32 = (n: number): Uint8Array => new Uint8Array(new Float32Array(n).fill(1).buffer);
  // A well-formed one first, so the cases below fail for the reason they say.
  assert.deepEqual(Array.from(parsePth(archive(tensor(4, 1, 3, 1), { 0: f32(4) })).tensors.get('w')?.data ?? []), [1, 1, 1]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['not a zip', bytes('INPUT[28x28x1]'), /^x\.pth: not a PyTorch file \(torch\.save writes a zip archive\)$/],
    ['a bare pickle', bytes([0x80, 2], 'N.'), /a bare pickle \(torch\.save before PyTorch 1\.6/],
    ['no data.pkl', zipSync({ 'a/b': bytes('x') }), /expected one '<name>\/data\.pkl' in the archive, found 0/],
    ['a truncated pickle', archive(tensor(4, 1, 3, 1).subarray(0, 60), { 0: f32(4) }), /truncated/],
    ['a missing storage', archive(tensor(4, 1, 3, 1)), /'w': the archive has no storage 'archive\/data\/0'/],
    ['a storage of the wrong size', archive(tensor(4, 1, 3, 1), { 0: f32(3) }), /'w': its storage holds 12 bytes, 4 FloatStorage elements need 16/],
    ['a view past the storage', archive(tensor(4, 2, 3, 1), { 0: f32(4) }), /'w': size \(3\), stride \(1\) and offset 2 reach past its 4-element storage/],
    ['not a dict', archive(bytes([0x80, 2], 'K', [5], '.')), /the pickle is not a state_dict/],
    ['a zip bomb', zipSync({ 'a/data.pkl': new Uint8Array(4_000_000) }, { level: 9 }), /the archive declares 4000000 bytes of contents, more than 16 times its size/],
  ];
  for (const [what, file, message] of cases) assert.throws(() => parsePth(file, 'x.pth'), (e: Error) => e instanceof PthError && message.test(e.message) && e.message.startsWith('x.pth: '), what);
});

test('the converted file reads back as the same tensors', async () => {
  const { tensors, integers } = parsePth(await readFile(fixture('lenet5_bn_half.pth')));
  const back = parseSafetensors(formatSafetensors(tensors, {}, integers)).tensors;
  assert.deepEqual([...back.keys()], [...tensors.keys()]);
  for (const [name, t] of tensors) assert.deepEqual((back.get(name) as Tensor).data, t.data, name);
});
