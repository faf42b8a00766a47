import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMnistDigits, mnist } from '../../src/data/mnist.js';

const all = loadMnistDigits();
const splits = mnist();

function countByClass(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l] = (counts[l] as number) + 1;
  return counts;
}

test('reads all 10,000 digits of the mnist package as [1, 28, 28] images in [0, 1]', () => {
  assert.equal(all.length, 10000);
  assert.deepEqual(all.shape, [1, 28, 28]);
  assert.deepEqual(all.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const image = new Float32Array(784);
  all.read(1234, image, 0);
  assert.ok(image.every((v) => v >= 0 && v <= 1));
  assert.ok(image.some((v) => v > 0.5), 'a digit has ink');
});

test('the split is 8,000 / 2,000, disjoint, and covers every digit', () => {
  assert.equal(splits.train.length, 8000);
  assert.equal(splits.test.length, 2000);
  const seen = new Set<string>();
  const image = new Float32Array(784);
  for (const ds of [splits.train, splits.test]) {
    for (let i = 0; i < ds.length; i++) {
      ds.read(i, image, 0);
      seen.add(`${ds.labels[i]}:${image.join(',')}`);
    }
  }
  // Distinct (label, pixels) pairs: the mnist package has a few duplicate images, so allow for them.
  assert.ok(seen.size > 9990, `${seen.size} distinct images`);
});

test('the split is stratified: each class keeps its share within one image', () => {
  const total = countByClass(all.labels);
  const test = countByClass(splits.test.labels);
  const train = countByClass(splits.train.labels);
  total.forEach((n, c) => {
    assert.equal((train[c] as number) + (test[c] as number), n);
    assert.ok(Math.abs((test[c] as number) - n * 0.2) <= 1, `class ${c}: ${test[c]} of ${n} held out`);
  });
});

test('the split is deterministic, and another seed holds out other digits', () => {
  const again = mnist();
  assert.deepEqual(again.test.labels, splits.test.labels);
  const a = new Float32Array(784);
  const b = new Float32Array(784);
  for (const i of [0, 999, 1999]) {
    splits.test.read(i, a, 0);
    again.test.read(i, b, 0);
    assert.deepEqual(a, b);
  }
  const other = mnist({ splitSeed: 1 });
  let differs = false;
  for (let i = 0; i < 2000 && !differs; i++) {
    splits.test.read(i, a, 0);
    other.test.read(i, b, 0);
    differs = a.some((v, k) => v !== b[k]);
  }
  assert.ok(differs);
});
