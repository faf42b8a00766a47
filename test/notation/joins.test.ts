import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, NotationError, parse, summary, toNetSpec } from '../../src/notation/index.js';

// MUL[a | b] and DIV[a | b]: two branches on one value joined element-wise, a(x) * b(x) and
// a(x) / b(x); an empty branch is the block's input.

test('MUL and DIV join their branches in order, an empty branch reading the block input', () => {
  const spec = toNetSpec('INPUT[8x8x3] -> CONV3-4 -> MUL[CONV1-4 -> RELU | CONV3-4] -> DIV[ | CONV1-4] -> DIV[CONV1-4 | ] -> MUL[ | ] -> FC-2');
  assert.deepEqual(
    spec.nodes.filter((n) => n.op === 'mul' || n.op === 'div').map((n) => [n.name, n.op, n.inputs, n.source?.text]),
    [
      ['mul1', 'mul', ['relu1', 'conv3'], 'MUL[...]'],
      ['div1', 'div', ['mul1', 'conv4'], 'DIV[...]'],
      ['div2', 'div', ['conv5', 'div1'], 'DIV[...]'],
      ['mul2', 'mul', ['div2', 'div2'], 'MUL[...]'],
    ],
  );
});

test('a labelled MUL names its layers under its label', () => {
  const spec = toNetSpec('INPUT[8x8x3] -> gate: MUL[CONV1-3 -> RELU | ] -> FC-2');
  assert.deepEqual(spec.nodes.map((n) => n.name), ['gate.conv1', 'gate.relu1', 'gate.mul1', 'fc1']);
});

test('format writes MUL and DIV back, empty branches included, and the text parses to the same net', () => {
  const text = 'INPUT[8x8x3] -> MUL[CONV1-3 -> RELU | ] -> DIV[ | CONV1-3] -> MUL[ | ] -> FC-2';
  assert.equal(format(parse(text)), text);
  assert.deepEqual(toNetSpec(format(parse(text))).nodes.map((n) => [n.op, n.inputs]), toNetSpec(text).nodes.map((n) => [n.op, n.inputs]));
});

test('MUL and DIV take exactly two branches, and say how to write the block input', () => {
  assert.throws(
    () => parse('INPUT[8x8x3] -> MUL[CONV1-3]'),
    (e: unknown) => e instanceof NotationError && e.line === 1 && e.column === 17 && e.message.includes("MUL takes two branches, MUL[a | b] = a(x) * b(x); an empty branch is the block's input: MUL[a | ] = a(x) * x"),
  );
  assert.throws(
    () => parse('INPUT[8x8x3] -> DIV[CONV1-3 | CONV1-3 | CONV1-3]'),
    (e: unknown) => e instanceof NotationError && e.column === 17 && e.message.includes('DIV takes a dividend and a divisor, DIV[a | b] = a(x) / b(x)'),
  );
  // Only MUL and DIV have empty branches.
  assert.throws(() => parse('INPUT[8x8x3] -> CONCAT[CONV1-3 | ]'), (e: unknown) => e instanceof NotationError && e.column === 34);
});

test('branches of different shapes are an error at the block naming both shapes', () => {
  for (const [keyword, name] of [['MUL', 'mul1'], ['DIV', 'div1']] as const) {
    assert.throws(
      () => summary(`INPUT[8x8x3]\n  -> ${keyword}[CONV1-3 | CONV3-4(s=2, floor)]`),
      (e: unknown) =>
        e instanceof NotationError &&
        e.kind === 'shape' &&
        e.line === 2 &&
        e.column === 6 &&
        e.message.includes(`layer 3 ${keyword}[...] ('${name}'): ${name.slice(0, 3)}: expects two values of the same shape`) &&
        e.message.includes('its input is [8x8x3] and [4x4x4]'),
    );
  }
});

test('the table has a row per join: its output, no weights, the larger receptive field of its branches', () => {
  const rows = summary('INPUT[8x8x3] -> MUL[CONV3-3 -> CONV3-3 | CONV1-3] -> FC-2').layers;
  const join = rows.find((r) => r.name === 'mul1');
  assert.deepEqual(join && [join.text, join.output, join.activations, join.params, join.macs, join.receptiveField], ['MUL', [8, 8, 3], 192, 0, 0, { size: [5, 5], stride: [1, 1] }]);
});
