import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CIFAR10_CLASSES, cifar10 } from '../../src/data/cifar10.js';
import { DataError } from '../../src/data/errors.js';

/** Writes a batch file in CIFAR-10's binary format: per record, the label byte then R, G, B 32x32 planes. */
async function writeBatch(file: string, labels: number[], pixel: (record: number, channel: number, y: number, x: number) => number): Promise<void> {
  const bytes = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    bytes[r * 3073] = label;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) bytes[r * 3073 + 1 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
  });
  await writeFile(file, bytes);
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-cifar-'));
  for (let b = 1; b <= 5; b++) await writeBatch(path.join(dir, `data_batch_${b}.bin`), [b, b + 1, 0], (r, c, y, x) => (b * 40 + r * 10 + c + y + x) % 256);
  await writeBatch(path.join(dir, 'test_batch.bin'), [9, 3], (r, c) => (r === 0 ? 255 : c * 100));
});
after(() => rm(dir, { recursive: true, force: true }));

test('reads the five training batches and the test batch: labels, class names and [3, 32, 32] planes', async () => {
  const { train, test: held } = await cifar10(dir);
  assert.equal(train.length, 15);
  assert.deepEqual([...train.labels], [1, 2, 0, 2, 3, 0, 3, 4, 0, 4, 5, 0, 5, 6, 0]);
  assert.deepEqual(train.shape, [3, 32, 32]);
  assert.deepEqual(train.classes, CIFAR10_CLASSES);
  const image = new Float32Array(3072);
  train.read(4, image, 0); // batch 2, record 1
  assert.equal(image[1024 + 3 * 32 + 5], Math.fround((2 * 40 + 10 + 1 + 3 + 5) / 255));
  assert.deepEqual([...held.labels], [9, 3]);
  held.read(1, image, 0);
  assert.deepEqual([image[0], image[1024], image[2048]], [0, Math.fround(100 / 255), Math.fround(200 / 255)]);
});

test('a file that is not whole records is refused, naming the file and the sizes', async () => {
  const bad = await mkdtemp(path.join(tmpdir(), 'convstack-cifar-bad-'));
  try {
    for (let b = 1; b <= 5; b++) await writeBatch(path.join(bad, `data_batch_${b}.bin`), [0], () => 0);
    await writeFile(path.join(bad, 'test_batch.bin'), new Uint8Array(3073 + 100));
    await assert.rejects(cifar10(bad), (e: unknown) => e instanceof DataError && e.message === `${path.join(bad, 'test_batch.bin')}: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records (an official batch file is 30730000 bytes)`);
    await writeFile(path.join(bad, 'test_batch.bin'), new Uint8Array(0));
    await assert.rejects(cifar10(bad), /test_batch\.bin: 0 bytes is not a whole number/);
  } finally {
    await rm(bad, { recursive: true, force: true });
  }
});

test('a missing batch file and a bad label are named', async () => {
  const bad = await mkdtemp(path.join(tmpdir(), 'convstack-cifar-bad-'));
  try {
    await assert.rejects(cifar10(bad), new RegExp(`${path.join(bad, 'data_batch_1.bin')}: missing`));
    for (let b = 1; b <= 5; b++) await writeBatch(path.join(bad, `data_batch_${b}.bin`), [0, b === 3 ? 12 : 1], () => 0);
    await assert.rejects(cifar10(bad), /data_batch_3\.bin: record 1 has label 12; CIFAR-10 labels are 0\.\.9/);
  } finally {
    await rm(bad, { recursive: true, force: true });
  }
});
