import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArrayDataset, type DataSplits } from '../../src/data/dataset.js';
import { DataError, openData, parseSubset, resolveClasses, subsetData } from '../../src/data/index.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** 10 one-pixel images per digit whose value says which image it is, training and test alike. */
function digits(): DataSplits {
  const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 10);
  const pixels = Float32Array.from({ length: 100 }, (_, i) => i / 100);
  const make = (name: string): ArrayDataset => new ArrayDataset(name, [1, 1, 1], DIGITS, pixels, labels);
  return { train: make('digits (train)'), test: make('digits (test)') };
}

const read = (dataset: { length: number; read(i: number, out: Float32Array, offset: number): void }): number[] => {
  const out = new Float32Array(dataset.length);
  for (let i = 0; i < dataset.length; i++) dataset.read(i, out, i);
  return [...out].map((v) => Math.round(v * 100));
};

test('parseSubset takes classes=, per-class= and seed= off the end of a source, in any order', () => {
  assert.deepEqual(parseSubset('mnist'), { source: 'mnist', subset: null });
  assert.deepEqual(parseSubset('mnist,classes=5-9,per-class=20'), { source: 'mnist', subset: { classes: '5-9', perClass: 20 } });
  assert.deepEqual(parseSubset('folder:pets,holdout=0.1,seed=3,classes=cat+dog'), { source: 'folder:pets,holdout=0.1', subset: { seed: 3, classes: 'cat+dog' } });
  assert.throws(() => parseSubset('mnist,per-class=0'), /mnist,per-class=0: per-class must be a whole number of at least 1, got '0'/);
  assert.throws(() => parseSubset('mnist,per-class=2.5'), DataError);
  assert.throws(() => parseSubset('mnist,classes='), /classes= needs names/);
});

test('resolveClasses: names joined by +, ranges in the source order; unknown or repeated names are errors', () => {
  assert.deepEqual(resolveClasses('5-9', DIGITS, 'mnist'), ['5', '6', '7', '8', '9']);
  assert.deepEqual(resolveClasses('7+0-2', DIGITS, 'mnist'), ['7', '0', '1', '2']);
  assert.throws(() => resolveClasses('5-x', DIGITS, 'mnist'), /mnist: no class or range of classes '5-x' \(the classes are 0, 1, 2/);
  assert.throws(() => resolveClasses('9-5', DIGITS, 'mnist'), /no class or range of classes '9-5'/);
  assert.throws(() => resolveClasses('1+0-2', DIGITS, 'mnist'), /class '1' is named twice/);
});

test('subsetData keeps the classes asked for, relabelled in order, and per-class training images chosen by the seed', () => {
  const splits = subsetData(digits(), { classes: '8+5', perClass: 3, seed: 1 });
  assert.deepEqual(splits.train.classes, ['8', '5']);
  assert.equal(splits.train.length, 6);
  assert.deepEqual([...splits.train.labels].sort(), [0, 0, 0, 1, 1, 1]);
  // Each image's pixel names it (i / 100), so the labels can be checked against the original digits.
  const images = read(splits.train);
  images.forEach((image, i) => assert.equal(splits.train.labels[i], image % 10 === 8 ? 0 : 1));
  assert.deepEqual(read(subsetData(digits(), { classes: '8+5', perClass: 3, seed: 1 }).train), images, 'the same seed picks the same images');
  assert.notDeepEqual(read(subsetData(digits(), { classes: '8+5', perClass: 3, seed: 2 }).train), images);
  // The test split keeps every image of the classes.
  assert.deepEqual(read(splits.test), [5, 8, 15, 18, 25, 28, 35, 38, 45, 48, 55, 58, 65, 68, 75, 78, 85, 88, 95, 98]);
  assert.equal(splits.train.name, 'digits (train) [classes=8+5,per-class=3]');
  assert.throws(() => subsetData(digits(), { perClass: 11 }), /digits \(train\): class '0' has 10 training images, fewer than per-class=11/);
});

test("openData: mnist,classes=5-9,per-class=20 is 100 training images of five digits and every held-out 5-9", async () => {
  const splits = await openData('mnist,classes=5-9,per-class=20', [1, 28, 28]);
  assert.equal(splits.train.length, 100);
  assert.deepEqual(splits.train.classes, ['5', '6', '7', '8', '9']);
  for (let label = 0; label < 5; label++) assert.equal(splits.train.labels.filter((l) => l === label).length, 20);
  const whole = await openData('mnist', [1, 28, 28]);
  assert.equal(splits.test.length, whole.test.labels.filter((l) => l >= 5).length);
});
