import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, lint, RULES } from '../../src/notation/index.js';

test('lint warns, citing the rule, where a net departs from the rules of thumb', () => {
  const found = lint('INPUT[100x100x3] -> CONV7-64(s=2, floor) -> POOL2 -> CONV5-64(p=0) -> CONV7-64 -> CONV3-64(s=2, floor) -> POOL5(s=1) -> FC');
  assert.deepEqual(
    found.map((d) => [d.severity, d.rule, d.layer?.text ?? null]),
    [
      ['warning', 'input-divisible', null],
      ['warning', 'conv-keeps-size', 'CONV5-64(p=0)'],
      ['warning', 'small-filters', 'CONV7-64'],
      ['warning', 'conv-stride', 'CONV3-64(s=2, floor)'],
      ['warning', 'pool-window', 'POOL5(s=1)'],
    ],
  );
  assert.match(found[0]?.message ?? '', /the input 100x100 is not divisible by 8/);
  assert.match(found[1]?.message ?? '', /from 25x25 to 21x21/);
  assert.match(RULES['small-filters'], /very first conv layer/);
});

test("lint has nothing to say about the notes' own advice, and reports an invalid spec as an error", () => {
  assert.deepEqual(lint('INPUT[224x224x3] -> [[CONV3-64 -> RELU]*2 -> POOL2]*3 -> FC-10'), []);
  const [error] = lint('INPUT -> CONV5(s=2) -> FC');
  assert.equal(error?.severity, 'error');
  assert.equal(error?.column, 10);
});

test('three 3x3 CONVs against one 7x7: 27C^2 against 49C^2 weights, the same 7x7 field, 3 non-linearities', () => {
  for (const c of [8, 64]) {
    const { a, b } = compare('CONV7-C', '[CONV3-C -> RELU]*3', { bindings: { C: c } });
    assert.equal(a.totals.weights, 49 * c * c);
    assert.equal(b.totals.weights, 27 * c * c);
    assert.deepEqual(a.receptiveField, { size: [7, 7], stride: [1, 1] });
    assert.deepEqual(b.receptiveField, { size: [7, 7], stride: [1, 1] });
    assert.equal(a.nonlinearities, 0);
    assert.equal(b.nonlinearities, 3);
    assert.equal(a.totals.macs, 49 * c * c * 32 * 32);
    assert.equal(b.totals.macs, 27 * c * c * 32 * 32);
    // Input plus one output for the 7x7; input plus three outputs for the stack (RELU in place).
    assert.equal(a.totals.activations, 2 * 32 * 32 * c);
    assert.equal(b.totals.activations, 4 * 32 * 32 * c);
  }
});

test("lint warns about the rules of thumb a student breaks, each with its figures and the notes' reasoning", () => {
  const cases: [string, string, string, RegExp][] = [
    ['INPUT[224x224x3] -> CONV3-64 -> RELU -> FC-4096', 'fc-after-volume', 'FC-4096', /straight after the \[224x224x64\] volume: 13,153,341,440 parameters \(49\.00 GiB of float32\)/],
    ['INPUT -> CONV -> RELU -> POOL2 -> FC -> SOFTMAX', 'scores-last', 'SOFTMAX', /trained through two softmaxes/],
    ['INPUT -> CONV -> RELU -> POOL2 -> FC -> RELU -> FC -> RELU -> DROPOUT', 'scores-last', 'RELU', /a RELU after the last FC clips the negative class scores/],
    ['INPUT[4x4x3] -> CONV5-8(p=2) -> FC', 'filter-fits-input', 'CONV5-8(p=2)', /a 5x5 filter on a 4x4 input/],
    ['INPUT[32x32x3] -> CONV4-16 -> FC', 'odd-filter', 'CONV4-16', /a 4x4 filter cannot keep the size: .* pads by 1 and gives 31x31 from 32x32/],
  ];
  for (const [text, rule, layer, message] of cases) {
    const found = lint(text);
    assert.deepEqual(found.map((d) => [d.rule, d.layer?.text]), [[rule, layer]], text);
    assert.match(found[0]?.message ?? '', message, text);
  }
  assert.match(RULES['fc-after-volume'], /merged spatially to a small size/);
  assert.match(RULES['scores-last'], /The last fully-connected layer holds the output/);
  assert.match(RULES['odd-filter'], /P=\(F-1\)\/2 preserves the input size/);
});

test("lint's new rules stay quiet on sound nets: a small classifier on a volume, strided even filters, the zoo's classifiers", () => {
  assert.deepEqual(lint('INPUT[64x64x3] -> [CONV3-16 -> RELU -> POOL2]*3 -> FC-3'), []);
  assert.deepEqual(lint('INPUT[32x32x3] -> CONV2-16(s=2) -> RELU -> POOL2 -> FC -> RELU -> DROPOUT -> FC'), []);
  assert.deepEqual(lint('INPUT[224x224x3] -> [[CONV3-64 -> RELU]*2 -> POOL2]*5 -> FC-4096 -> RELU -> FC-10').map((d) => d.rule), []);
});

test('lint looks each input up in a map, not by a search per layer: 20,000 layers', () => {
  const found = lint('INPUT[32x32x3] -> [CONV3-8 -> RELU]*10000');
  assert.deepEqual(found, []);
});
