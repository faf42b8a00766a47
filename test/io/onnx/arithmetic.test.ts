import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { OnnxError } from '../../../src/io/onnx/errors.js';
import { importOnnx } from '../../../src/io/onnx/import.js';
import { asNotation } from '../../../src/io/onnx/renamed.js';
import { ModelProtoSchema, TensorProto_DataType } from '../../../src/io/onnx/onnx_pb.js';
import { Net } from '../../../src/net/net.js';
import { Tensor } from '../../../src/tensor/tensor.js';

// Arithmetic of two computed tensors: Add is a RES join, Sub a RES join with an AFFINE of -1 on its
// second branch; Mul and Div of two computed tensors are refused naming the op, the node and the opset.

const tensorType = (dims: number[]) => ({
  value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } },
});

/** x (1, 2, 3, 3) -> a = Conv 1x1 by wa, b = Conv 1x1 by wb -> `op`(a, b). */
function twoBranches(op: string): Uint8Array {
  const weight = (name: string, values: number[]) => ({ name, dims: [2n, 2n, 1n, 1n], dataType: TensorProto_DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: '', version: 13n }],
      graph: {
        node: [
          { opType: 'Conv', name: 'a', input: ['x', 'wa'], output: ['a'] },
          { opType: 'Conv', name: 'b', input: ['x', 'wb'], output: ['b'] },
          { opType: op, name: 'join', input: ['a', 'b'], output: ['y'] },
        ],
        initializer: [weight('wa', [1, 2, 3, 4]), weight('wb', [0.5, -1, 2, 0.25])],
        input: [{ name: 'x', type: tensorType([1, 2, 3, 3]) }],
        output: [{ name: 'y', type: tensorType([1, 2, 3, 3]) }],
      },
    }),
  );
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

test('Mul and Div of two computed tensors are refused naming the op, the node and the opset', () => {
  for (const op of ['Mul', 'Div']) {
    assert.throws(
      () => importOnnx(twoBranches(op), { file: 'two.onnx' }),
      (e: unknown) => e instanceof OnnxError && e.message.startsWith(`two.onnx: ${op} node 'join' (opset 13): ${op} of two computed tensors`),
      op,
    );
  }
});

test('x * scale + shift by per-channel constants (a Mul, then an Add) imports as one AFFINE', () => {
  const constant = (name: string, values: number[]) => ({ name, dims: [2n, 1n, 1n], dataType: TensorProto_DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
  const bytes = toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: '', version: 13n }],
      graph: {
        node: [
          { opType: 'Mul', name: 'mul', input: ['x', 's'], output: ['m'] },
          { opType: 'Add', name: 'add', input: ['m', 't'], output: ['y'] },
          { opType: 'Relu', name: 'relu', input: ['y'], output: ['z'] },
        ],
        initializer: [constant('s', [2, -0.5]), constant('t', [1, 3])],
        input: [{ name: 'x', type: tensorType([1, 2, 3, 3]) }],
        output: [{ name: 'z', type: tensorType([1, 2, 3, 3]) }],
      },
    }),
  );
  const imported = importOnnx(bytes, { file: 'affine.onnx' });
  assert.deepEqual(imported.spec.nodes.map((n) => [n.name, n.op, n.inputs]), [['add', 'affine', ['input']], ['relu', 'relu', ['add']]]);
  assert.deepEqual([...imported.weights.keys()], ['add.scale', 'add.shift']);
  assert.deepEqual([...(imported.weights.get('add.scale')?.data ?? [])], [2, -0.5]);
  assert.deepEqual([...(imported.weights.get('add.shift')?.data ?? [])], [1, 3]);
});
