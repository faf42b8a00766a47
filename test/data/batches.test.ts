import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augment, channelStats, normalize } from '../../src/data/augment.js';
import { batchCount, batches } from '../../src/data/batches.js';
import { ArrayDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/tensor/rng.js';

/** Six 1x3x3 images; image i holds i + 1 at the centre and 0 elsewhere. */
const pixels = new Float32Array(6 * 9);
for (let i = 0; i < 6; i++) pixels[i * 9 + 4] = i + 1;
const dataset = new ArrayDataset('toy', [1, 3, 3], ['even', 'odd'], pixels, Uint8Array.from([0, 1, 0, 1, 0, 1]));

test('batches follow the given order, keep the last partial batch, and carry labels', () => {
  const seen = [...batches(dataset, { batchSize: 4, order: [5, 0, 3, 2, 1, 4] })];
  assert.deepEqual(seen.map((b) => b.x.shape), [[4, 1, 3, 3], [2, 1, 3, 3]]);
  assert.deepEqual(seen.map((b) => [...b.labels]), [[1, 0, 1, 0], [1, 0]]);
  assert.deepEqual(seen.map((b) => Array.from({ length: b.labels.length }, (_, k) => b.x.data[k * 9 + 4])), [[6, 1, 4, 3], [2, 5]]);
  for (const b of seen) b.x.dispose();
});

test('normalisation uses per-channel statistics', () => {
  const stats = channelStats(dataset);
  const values = [...pixels];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs((stats.mean[0] as number) - mean) < 1e-12);
  const [b] = [...batches(dataset, { batchSize: 6, normalization: stats })];
  const out = [...(b?.x.data ?? [])];
  const m = out.reduce((a, v) => a + v, 0) / out.length;
  const v = out.reduce((a, x) => a + (x - m) ** 2, 0) / out.length;
  assert.ok(Math.abs(m) < 1e-6 && Math.abs(v - 1) < 1e-5, `mean ${m}, variance ${v}`);
  const image = Float64Array.from([1, 2, 3, 4]);
  normalize(image, 0, [1, 2, 2], { mean: [2], std: [0.5] });
  assert.deepEqual([...image], [-2, 0, 2, 4]);
});

test('a shift moves the image with zero fill; a flip mirrors it', () => {
  // A 1x3x3 image 1..9; find the draws that give each transform rather than assuming the generator.
  const source = Float32Array.from({ length: 9 }, (_, i) => i + 1);
  const seen = new Set<string>();
  const rng = new Rng(7);
  for (let k = 0; k < 200; k++) {
    const image = Float32Array.from(source);
    augment(image, 0, [1, 3, 3], { shift: 1, flip: true }, rng, new Float32Array(9));
    seen.add(image.join(','));
  }
  assert.ok(seen.has('0,0,0,0,1,2,0,4,5'), 'shift down-right by one');
  assert.ok(seen.has('3,2,1,6,5,4,9,8,7'), 'flip');
  assert.ok(seen.has('1,2,3,4,5,6,7,8,9'), 'identity');
  assert.equal(seen.size, 18, '9 shifts times flip or not');
});

test('augmented batches are the same for the same seed and differ for another', () => {
  const run = (seed: number): number[] => {
    const rng = new Rng(seed);
    return [...batches(dataset, { batchSize: 3, augmentation: { shift: 1, flip: true }, rng })].flatMap((b) => {
      const values = [...b.x.data];
      b.x.dispose();
      return values;
    });
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
  assert.throws(() => [...batches(dataset, { batchSize: 3, augmentation: { shift: 1 } })], /needs a seeded generator/);
});

test('dropLast leaves out a smaller last batch; firstBatch starts later without drawing from the generator', () => {
  const order = [5, 0, 3, 2, 1, 4];
  const centres = (bs: Iterable<{ x: { data: ArrayLike<number> }; labels: Uint8Array }>): number[][] => [...bs].map((b) => Array.from(b.labels, (_, k) => b.x.data[k * 9 + 4] as number));
  assert.deepEqual(centres(batches(dataset, { batchSize: 4, order, dropLast: true })), [[6, 1, 4, 3]]);
  assert.deepEqual(centres(batches(dataset, { batchSize: 3, order, dropLast: true })), [[6, 1, 4], [3, 2, 5]], 'no smaller batch: nothing dropped');
  assert.deepEqual(centres(batches(dataset, { batchSize: 2, order, firstBatch: 2 })), [[2, 5]]);
  assert.deepEqual(centres(batches(dataset, { batchSize: 4, order, firstBatch: 1, dropLast: true })), []);
  assert.deepEqual([batchCount(6, 4), batchCount(6, 4, true), batchCount(6, 3, true), batchCount(0, 3)], [2, 1, 2, 0]);
  // Resuming at batch 1 draws what an uninterrupted pass draws from batch 1 on.
  const augmented = (firstBatch: number, rng: Rng): number[] => [...batches(dataset, { batchSize: 2, order, augmentation: { shift: 1, flip: true }, rng, firstBatch })].slice(firstBatch === 0 ? 1 : 0).flatMap((b) => [...b.x.data]);
  const straight = new Rng(5);
  const skipped = new Rng(5);
  [...batches(dataset, { batchSize: 2, order: order.slice(0, 2), augmentation: { shift: 1, flip: true }, rng: skipped })];
  assert.deepEqual(augmented(1, skipped), augmented(0, straight));
  assert.throws(() => [...batches(dataset, { batchSize: 2, firstBatch: -1 })], /the first batch must be a count, got -1/);
});
