import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summary } from '../../src/notation/index.js';
import { zooNet } from '../../src/zoo/index.js';

/**
 * The notes' VGGNet table, row by row: the volume and the weights the notes print, against what our
 * code computes from the zoo's VGG-16. The notes count weights without biases.
 */
const NOTES_TABLE: [string, [number, number, number], number][] = [
  ['INPUT[224x224x3]', [224, 224, 3], 0],
  ['CONV3-64', [224, 224, 64], 1_728],
  ['CONV3-64', [224, 224, 64], 36_864],
  ['POOL2', [112, 112, 64], 0],
  ['CONV3-128', [112, 112, 128], 73_728],
  ['CONV3-128', [112, 112, 128], 147_456],
  ['POOL2', [56, 56, 128], 0],
  ['CONV3-256', [56, 56, 256], 294_912],
  ['CONV3-256', [56, 56, 256], 589_824],
  ['CONV3-256', [56, 56, 256], 589_824],
  ['POOL2', [28, 28, 256], 0],
  ['CONV3-512', [28, 28, 512], 1_179_648],
  ['CONV3-512', [28, 28, 512], 2_359_296],
  ['CONV3-512', [28, 28, 512], 2_359_296],
  ['POOL2', [14, 14, 512], 0],
  ['CONV3-512', [14, 14, 512], 2_359_296],
  ['CONV3-512', [14, 14, 512], 2_359_296],
  ['CONV3-512', [14, 14, 512], 2_359_296],
  ['POOL2', [7, 7, 512], 0],
  ['FC-4096', [1, 1, 4096], 102_760_448],
  ['FC-4096', [1, 1, 4096], 16_777_216],
  ['FC-1000', [1, 1, 1000], 4_096_000],
];

const vgg16 = zooNet('vgg16');
if (vgg16 === undefined) throw new Error('vgg16 is missing from the zoo');
const table = summary(vgg16.source, { bindings: vgg16.bindings });

test("VGG-16's table reproduces the notes' rows: layer, volume and weights", () => {
  assert.equal(table.layers.length, NOTES_TABLE.length);
  table.layers.forEach((row, i) => {
    const [text, output, weights] = NOTES_TABLE[i] as (typeof NOTES_TABLE)[number];
    assert.equal(row.text, text, `row ${i}`);
    assert.deepEqual(row.output, output, `row ${i}`);
    assert.equal(row.weights, weights, `row ${i}`);
    // "memory: 224*224*64=3.2M": one activation per output value.
    assert.equal(row.activations, output[0] * output[1] * output[2], `row ${i}`);
  });
  assert.deepEqual(table.inPlace, { RELU: 15, 'DROPOUT': 2 });
});

test("VGG-16's totals: 138M parameters as the notes say, but 15.2M activations, not the notes' 24M", () => {
  assert.equal(table.totals.params, 138_357_544);
  assert.equal(table.totals.weights, 138_344_128);
  assert.equal(table.totals.biases, 13_416);
  // NOTE: the notes' slip. Their own rows add up to 15,237,608 values (about 58 MB of float32),
  // not "24M * 4 bytes ~= 93MB" as their TOTAL memory line says.
  assert.equal(table.totals.activations, 15_237_608);
  assert.equal(table.totals.activationBytes, 60_950_432);
  assert.equal(table.totals.macs, 15_470_264_320);
  // "the first FC layer contains 100M weights, out of a total of 140M"
  assert.equal(table.layers[19]?.params, 102_764_544);
});

test('receptive fields grow by (F-1) * jump: 3, 5, 6, 10, ... 212 at pool5', () => {
  const fields = table.layers.map((r) => `${r.receptiveField.size[0]}/${r.receptiveField.stride[0]}`);
  assert.deepEqual(fields.slice(0, 8), ['1/1', '3/1', '5/1', '6/2', '10/2', '14/2', '16/4', '24/4']);
  assert.equal(fields[18], '212/32');
});
