import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxError } from '../../../src/io/onnx/errors.js';
import { importOnnx } from '../../../src/io/onnx/import.js';
import { asNotation } from '../../../src/io/onnx/renamed.js';
import { Net } from '../../../src/net/net.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { floatTensor, onnxModel } from '../../helpers/onnx_model.js';

// Arithmetic of two computed tensors: Add is a RES join, Sub a RES join with an AFFINE of -1 on its
// second branch, Mul and Div are MUL and DIV joins; tensors of different shapes are refused.

/** x (1, 2, 3, 3) -> a = Conv 1x1 by wa, b = Conv 1x1 by wb -> `op`(a, b). */
function twoBranches(op: string): Uint8Array {
  const nodes = [
    { opType: 'Conv', name: 'a', input: ['x', 'wa'], output: ['a'] },
    { opType: 'Conv', name: 'b', input: ['x', 'wb'], output: ['b'] },
    { opType: op, name: 'join', input: ['a', 'b'], output: ['y'] },
  ];
  return onnxModel(nodes, [floatTensor('wa', [2, 2, 1, 1], [1, 2, 3, 4]), floatTensor('wb', [2, 2, 1, 1], [0.5, -1, 2, 0.25])], [1, 2, 3, 3], [1, 2, 3, 3]);
}

test('Sub of two computed tensors is a RES join with an AFFINE of -1, and computes a - b', () => {
  const imported = importOnnx(twoBranches('Sub'), { file: 'sub.onnx' });
  const notated = asNotation(imported, 'sub.onnx');
  assert.equal(notated.text, 'INPUT[3x3x2]\n-> RES[CONV1-2(bias=no, floor) | CONV1-2(bias=no, floor) -> AFFINE]');
  const net = new Net(notated.spec);
  net.loadState(notated.weights);
  const x = Tensor.from([1, 2, 3, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i)));
  const y = net.forward(x);
  // Channel o of a 1x1 conv: w[o][0] x0 + w[o][1] x1; a - b has weights wa - wb.
  const diff: [number, number][] = [[1 - 0.5, 2 + 1], [3 - 2, 4 - 0.25]];
  diff.forEach(([w0, w1], o) => {
    for (let p = 0; p < 9; p++) {
      const expected = w0 * (x.data[p] as number) + w1 * (x.data[9 + p] as number);
      assert.ok(Math.abs((y.data[o * 9 + p] as number) - expected) < 1e-5, `channel ${o}, pixel ${p}`);
    }
  });
});

test('Mul and Div of two computed tensors are MUL and DIV joins, and compute a * b and a / b', () => {
  const x = Tensor.from([1, 2, 3, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i) + 0.1));
  // Channel o of a 1x1 conv: w[o][0] x0 + w[o][1] x1.
  const conv = (w: [number, number, number, number], o: number, p: number): number => (w[2 * o] as number) * (x.data[p] as number) + (w[2 * o + 1] as number) * (x.data[9 + p] as number);
  for (const [op, apply] of [['Mul', (a: number, b: number) => a * b], ['Div', (a: number, b: number) => a / b]] as const) {
    const notated = asNotation(importOnnx(twoBranches(op), { file: `${op}.onnx` }), `${op}.onnx`);
    assert.equal(notated.text, `INPUT[3x3x2]\n-> ${op.toUpperCase()}[CONV1-2(bias=no, floor) | CONV1-2(bias=no, floor)]`);
    const net = new Net(notated.spec);
    net.loadState(notated.weights);
    const y = net.forward(x);
    for (let o = 0; o < 2; o++) {
      for (let p = 0; p < 9; p++) {
        const expected = apply(conv([1, 2, 3, 4], o, p), conv([0.5, -1, 2, 0.25], o, p));
        assert.ok(Math.abs((y.data[o * 9 + p] as number) - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${op}: channel ${o}, pixel ${p}`);
      }
    }
  }
});

/** x (1, 2, 3, 3) -> b = Conv 1x1 -> `op`(x, b) or `op`(b, x): one operand is the images themselves. */
function inputAndBranch(op: string, order: 'x first' | 'x second'): Uint8Array {
  const nodes = [
    { opType: 'Conv', name: 'b', input: ['x', 'w'], output: ['b'] },
    { opType: op, name: 'join', input: order === 'x first' ? ['x', 'b'] : ['b', 'x'], output: ['y'] },
  ];
  return onnxModel(nodes, [floatTensor('w', [2, 2, 1, 1], [1, 0.5, -0.25, 2])], [1, 2, 3, 3], [1, 2, 3, 3]);
}

test('an operand that is the images is an empty branch of MUL or DIV, on the side ONNX wrote it', () => {
  const texts = (['x first', 'x second'] as const).map((order) => asNotation(importOnnx(inputAndBranch('Div', order), { file: 'div.onnx' }), 'div.onnx').text);
  assert.deepEqual(texts, ['INPUT[3x3x2]\n-> DIV[ | CONV1-2(bias=no, floor)]', 'INPUT[3x3x2]\n-> DIV[CONV1-2(bias=no, floor) | ]']);
  const notated = asNotation(importOnnx(inputAndBranch('Div', 'x first'), { file: 'div.onnx' }), 'div.onnx');
  const net = new Net(notated.spec);
  net.loadState(notated.weights);
  const x = Tensor.from([1, 2, 3, 3], Array.from({ length: 18 }, (_, i) => 1 + i / 10));
  const y = net.forward(x);
  // x / conv(x) at channel 1, pixel 4: x1 / (-0.25 x0 + 2 x1).
  const [x0, x1] = [x.data[4] as number, x.data[13] as number];
  assert.ok(Math.abs((y.data[13] as number) - x1 / (-0.25 * x0 + 2 * x1)) < 1e-6);
});

test('Mul and Div of two computed tensors of different shapes are refused naming both shapes', () => {
  const nodes = [
    { opType: 'GlobalAveragePool', name: 'g', input: ['x'], output: ['g'] },
    { opType: 'Mul', name: 'join', input: ['x', 'g'], output: ['y'] },
  ];
  const bytes = onnxModel(nodes, [], [1, 2, 3, 3], [1, 2, 3, 3]);
  assert.throws(
    () => importOnnx(bytes, { file: 'se.onnx' }),
    (e: unknown) => e instanceof OnnxError && e.message === "se.onnx: Mul node 'join' (opset 13): Mul of two computed tensors of shapes [2, 3, 3] and [2, 1, 1]: only tensors of equal shapes are supported",
  );
});

test('x * scale + shift by per-channel constants (a Mul, then an Add) imports as one AFFINE', () => {
  const nodes = [
    { opType: 'Mul', name: 'mul', input: ['x', 's'], output: ['m'] },
    { opType: 'Add', name: 'add', input: ['m', 't'], output: ['a'] },
    { opType: 'Relu', name: 'relu', input: ['a'], output: ['y'] },
  ];
  const bytes = onnxModel(nodes, [floatTensor('s', [2, 1, 1], [2, -0.5]), floatTensor('t', [2, 1, 1], [1, 3])], [1, 2, 3, 3], [1, 2, 3, 3]);
  const imported = importOnnx(bytes, { file: 'affine.onnx' });
  assert.deepEqual(imported.spec.nodes.map((n) => [n.name, n.op, n.inputs]), [['add', 'affine', ['input']], ['relu', 'relu', ['add']]]);
  assert.deepEqual([...imported.weights.keys()], ['add.scale', 'add.shift']);
  assert.deepEqual([...(imported.weights.get('add.scale')?.data ?? [])], [2, -0.5]);
  assert.deepEqual([...(imported.weights.get('add.shift')?.data ?? [])], [1, 3]);
});
