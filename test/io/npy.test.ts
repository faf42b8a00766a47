import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNpy, parseNpy, NpyError } from '../../src/io/npy.js';
import { Tensor } from '../../src/tensor/tensor.js';

// Bytes of `np.save(f, np.arange(6, dtype='<f4').reshape(2, 3))` from NumPy 1.24, header and data.
function numpyArange6(): Uint8Array {
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const padded = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
  const bytes = new Uint8Array(128 + 24);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) bytes[10 + i] = padded.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 6; i++) view.setFloat32(128 + i * 4, i, true);
  return bytes;
}

test('reads a NumPy-written float32 array', () => {
  const t = parseNpy(numpyArange6());
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual([...t.data], [0, 1, 2, 3, 4, 5]);
});

test('writes what NumPy writes: 64-byte aligned data, and reads it back', () => {
  const t = Tensor.from([2, 3], [0, 1, 2, 3, 4, 5]);
  const bytes = formatNpy(t);
  assert.deepEqual(bytes, numpyArange6());
  const back = parseNpy(bytes);
  assert.deepEqual([...back.data], [...t.data]);
});

test('round-trips float64 and 1-d shapes', () => {
  const t = Tensor.from([3], [0.1, -2.5, 1e-300], 'float64');
  const back = parseNpy(formatNpy(t));
  assert.equal(back.dtype, 'float64');
  assert.deepEqual(back.shape, [3]);
  assert.deepEqual([...back.data], [0.1, -2.5, 1e-300]);
});

test('refuses broken or hostile files with a message that says what is wrong', () => {
  const good = numpyArange6();
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3]), 'x.npy'), { name: 'NpyError', message: /x\.npy: not a \.npy file/ });
  const truncated = good.subarray(0, good.length - 4);
  assert.throws(() => parseNpy(truncated, 'x.npy'), /needs 24 data bytes, the file has 20/);
  const bigHeader = good.slice();
  new DataView(bigHeader.buffer).setUint16(8, 60000, true);
  assert.throws(() => parseNpy(bigHeader), /header length 60000 does not fit/);
  const int64 = good.slice();
  int64.set([...'<i8'].map((c) => c.charCodeAt(0)), 21);
  assert.throws(() => parseNpy(int64), /dtype '<i8' is not supported/);
  const huge = new TextEncoder().encode("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n");
  const hostile = new Uint8Array(10 + huge.length);
  hostile.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(hostile.buffer).setUint16(8, huge.length, true);
  hostile.set(huge, 10);
  assert.throws(() => parseNpy(hostile), NpyError);
});
