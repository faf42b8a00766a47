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
