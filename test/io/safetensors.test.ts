import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MAX_HEADER_BYTES, SafetensorsError, formatSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** A file with `header` as its JSON (unpadded) followed by `data`. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('round trip: float32 and float64 tensors, shapes, order and metadata', () => {
  const tensors = new Map([
    ['conv1.weight', Tensor.from([2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8.5])],
    ['scalar', Tensor.from([], [3.25], 'float64')],
    ['empty', Tensor.zeros([0, 3])],
    ['fc.bias', Tensor.from([3], [-1, 0, 1e-30])],
  ]);
  const bytes = formatSafetensors(tensors, { architecture: 'INPUT[28x28x1] -> FC10', classes: '["a","b"]' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0, 'the header is padded to 8 bytes');
  const back = parseSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [name, t] of tensors) {
    const b = back.tensors.get(name) as Tensor;
    assert.deepEqual(b.shape, t.shape, name);
    assert.equal(b.dtype, t.dtype, name);
    assert.deepEqual(b.data, t.data, name);
  }
  assert.deepEqual(back.metadata, { architecture: 'INPUT[28x28x1] -> FC10', classes: '["a","b"]' });
});

test('reads a file laid out as the Python safetensors package writes it', () => {
  // safetensors.numpy.save_file({"x": np.array([1, 2], dtype="<f4")}, f): unpadded keys, then 8 data bytes.
  const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}    ';
  const data = new Uint8Array(new Float32Array([1, 2]).buffer);
  const t = parseSafetensors(file(header, data)).tensors.get('x') as Tensor;
  assert.deepEqual([...t.data], [1, 2]);
});

const f32 = (n: number): Uint8Array => new Uint8Array(n * 4);
const hostile: [string, Uint8Array, RegExp][] = [
  ['fewer than 8 bytes', new Uint8Array(5), /fewer than the 8-byte header length/],
  ['a header length beyond the limit', file({}, new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n), /exceeds the 100000000-byte limit/],
  ['a 2^64-1 header length', file({}, new Uint8Array(0), 0xffffffffffffffffn), /exceeds the/],
  ['a header length past the end', file({}, new Uint8Array(0), 1000n), /runs past the end/],
  ['a header that is not JSON', file('{"x": '), /not valid UTF-8 JSON/],
  ['a header that is an array', file('[1, 2]'), /not a JSON object/],
  ['invalid UTF-8', file('{"\xff"}'.replace('\xff', '\u00ff')).map((b, i) => (i === 10 ? 0xff : b)), /not valid UTF-8/],
  ['an unknown dtype', file({ x: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor 'x': unknown dtype 'Q7'/],
  ['an unsupported dtype', file({ x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, f32(1)), /dtype BF16 is not supported/],
  ['a negative dimension', file({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /non-negative integers/],
  ['a fractional dimension', file({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /non-negative integers/],
  ['a huge shape', file({ x: { dtype: 'F32', shape: [1e9, 1e9, 1e9], data_offsets: [0, 4] } }, f32(1)), /needs more bytes than the file holds/],
  [
    'a shape that does not match the bytes',
    file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)),
    /tensor 'x': shape \(2\) of F32 needs 8 bytes, data_offsets give 4/,
  ],
  ['offsets past the data', file({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(1)), /lie outside the 4 data bytes/],
  ['reversed offsets', file({ x: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /lie outside/],
  [
    'overlapping tensors',
    file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)),
    /tensor 'b': data starts at 4, expected 8/,
  ],
  ['a gap', file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /data starts at 4, expected 0/],
  ['trailing bytes', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /cover 4 data bytes but the file has 8/],
  ['an extra field', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], offset: 3 } }, f32(1)), /unexpected field 'offset'/],
  ['missing offsets', file({ a: { dtype: 'F32', shape: [1] } }, f32(1)), /data_offsets must be two/],
  ['non-string metadata', file({ __metadata__: { epochs: 3 } }), /__metadata__ 'epochs' is not a string/],
];
for (const [what, bytes, message] of hostile) {
  test(`rejects ${what} with a clear error naming the file`, () => {
    assert.throws(
      () => parseSafetensors(bytes, 'evil.safetensors'),
      (error: unknown) => error instanceof SafetensorsError && error.message.startsWith('evil.safetensors: ') && message.test(error.message),
    );
  });
}

test('writes through a temporary name, leaving only the final file; a missing file is named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'convstack-st-'));
  try {
    const target = path.join(dir, 'model.safetensors');
    await writeSafetensors(target, new Map([['w', Tensor.from([2], [1, 2])]]), { note: 'x' });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const back = await readSafetensors(target);
    assert.deepEqual([...(back.tensors.get('w') as Tensor).data], [1, 2]);
    assert.equal((await readFile(target)).length > 8, true);
    await assert.rejects(readSafetensors(path.join(dir, 'nope.safetensors')), /cannot read .*nope\.safetensors: no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('integer and half tensors: I64 (num_batches_tracked), I32 and F16 read exactly; integers written back as their dtype', () => {
  const i64 = new Uint8Array(BigInt64Array.from([-3n, 0n, 1n << 40n]).buffer);
  const i32 = new Uint8Array(Int32Array.from([-7, 8]).buffer);
  const f16 = new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, 0.333251953125, 2^-24
  const data = new Uint8Array([...i64, ...i32, ...f16]);
  const read = parseSafetensors(
    file(
      {
        'bn.num_batches_tracked': { dtype: 'I64', shape: [3], data_offsets: [0, 24] },
        int: { dtype: 'I32', shape: [1, 2], data_offsets: [24, 32] },
        half: { dtype: 'F16', shape: [2, 2], data_offsets: [32, 40] },
      },
      data,
    ),
  );
  const tracked = read.tensors.get('bn.num_batches_tracked') as Tensor;
  assert.equal(tracked.dtype, 'float64');
  assert.deepEqual(Array.from(tracked.data), [-3, 0, 2 ** 40]);
  assert.deepEqual(Array.from((read.tensors.get('int') as Tensor).data), [-7, 8]);
  const half = read.tensors.get('half') as Tensor;
  assert.equal(half.dtype, 'float32');
  assert.deepEqual(Array.from(half.data), [1, -2, 0.333251953125, 2 ** -24]);

  const integers = new Map([['bn.num_batches_tracked', 'I64' as const], ['int', 'I32' as const]]);
  const bytes = formatSafetensors(new Map([...read.tensors].filter(([n]) => n !== 'half')), {}, integers);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string }>;
  assert.equal(header['bn.num_batches_tracked']?.dtype, 'I64');
  assert.equal(header['int']?.dtype, 'I32');
  assert.deepEqual(new Uint8Array(bytes.subarray(8 + headerLength)), new Uint8Array([...i64, ...i32]), 'the integers as PyTorch stores them');
  assert.throws(() => formatSafetensors(new Map([['x', Tensor.from([1], [0.5], 'float64')]]), {}, new Map([['x', 'I64']])), /tensor 'x' is stored as I64 but holds a value that is not such an integer/);
  const huge = new Uint8Array(BigInt64Array.from([(1n << 53n) + 1n]).buffer);
  assert.throws(() => parseSafetensors(file({ n: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, huge), 'w.safetensors'), /w\.safetensors: tensor 'n': the I64 value 9007199254740993 is beyond 2\^53/);
});
