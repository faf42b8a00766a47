import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { asNotation } from '../../src/io/onnx/renamed.js';
import { ModelProtoSchema } from '../../src/io/onnx/onnx_pb.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec, NodeSpec } from '../../src/net/spec.js';
import { layerText, toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { zooNet } from '../../src/zoo/index.js';
import { assertClose } from '../helpers/assert.js';

function resnet18At32(): NetSpec {
  const entry = zooNet('resnet18') ?? assert.fail('resnet18');
  return toNetSpec(entry.source, { bindings: entry.bindings, input: [32, 32, 3] });
}

// Import of our own export (src/io/onnx/import.ts, the `onnx` branch's importer).
const CASES: [string, NetSpec][] = [
  ['a spec with BN, a pool and an FC on a volume', toNetSpec('INPUT[12x12x3] -> conv1: CONV3-4 -> bn: BN -> RELU -> POOL2 -> FC-5')],
  ['resnet18 at 32x32', resnet18At32()],
  [
    'a spec of every keyword ONNX carries',
    toNetSpec(`INPUT[16x16x3] -> AFFINE(scale=0.458x0.448x0.45, shift=-0.03x-0.088x-0.188) -> c1: CONV3-6(d=2, floor) -> bn: BN(eps=0.001, momentum=0.2) -> LEAKYRELU(0.1) -> LRN(size=3)
      -> POOL3(s=2, p=1, ceil) -> POOL2(s=1, d=2) -> CONCAT[CONV1-4(bias=no) | [PAD(t=0, l=1, b=1, r=0) -> AVGPOOL2(s=1, countpad=1)]]
      -> RES[CONV3-10 -> RELU] -> MUL[CONV1-10 -> RELU | ] -> DIV[ | MUL[ | ] -> AFFINE(scale=1x1x1x1x1x1x1x1x1x1, shift=1x1x1x1x1x1x1x1x1x1)] -> SOFTMAX(over=c) -> DROPOUT(0.3) -> FC-7 -> SOFTMAX`),
  ],
  // ONNX has no adaptive pooling. Uneven windows (14 -> 4: at 0, 3, 7, 10, each 4 wide) are written as
  // two MatMuls by window means; even ones (16 -> 4) as the AveragePool they are; 14x16 mixes both axes.
  ['ADAPTIVEPOOL-4 on 14x14 (uneven windows)', toNetSpec('INPUT[14x14x3] -> CONV3-4 -> ADAPTIVEPOOL-4 -> FC-5')],
  ['ADAPTIVEPOOL-4 on 16x16 (even windows)', toNetSpec('INPUT[16x16x3] -> CONV3-4 -> ADAPTIVEPOOL-4 -> FC-5')],
  ['ADAPTIVEPOOL-4 on 14x16 and an AVGPOOL4 on the same input', toNetSpec('INPUT[14x16x3] -> CONCAT[ADAPTIVEPOOL-4 | [PAD(t=1, l=0, b=1, r=0) -> AVGPOOL4]] -> FC-5')],
  ['ADAPTIVEPOOL-7x4 on 14x10 (even rows, uneven columns)', toNetSpec('INPUT[14x10x3] -> CONV3-4 -> ADAPTIVEPOOL-7x4 -> FC-5')],
];

for (const [what, spec] of CASES) {
  test(`round trip of ${what}: the same weights in the same order, and the same function`, () => {
    const net = new Net(spec, { seed: 3 });
    const back = importOnnx(exportOnnx(net));
    const original = [...net.params.values()];
    assert.equal(back.weights.size, original.length);
    [...back.weights.values()].forEach((t, i) => assert.deepEqual(t.data, original[i]?.value.data, original[i]?.name));
    const imported = new Net(back.spec, { seed: 9 });
    imported.loadState(back.weights);
    const x = Tensor.from([2, ...spec.input], Array.from({ length: 2 * spec.input.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)));
    assertClose(imported.forward(x), net.forward(x), what, 1e-6);
  });

  // ONNX has no 'exact' rounding and its floats are float32: the export writes each layer's notation
  // in its last node's doc_string, which the import keeps where it computes the same function; an FC
  // on a volume (exported as Flatten -> Gemm) comes back as one FC, and dotted names stay dotted.
  test(`round trip of ${what}: the same notation and weight names, layer by layer`, () => {
    const net = new Net(spec, { seed: 3 });
    const back = importOnnx(exportOnnx(net));
    assert.deepEqual([...back.weights.keys()], [...net.params.keys()]);
    assert.deepEqual(
      back.spec.nodes.map((n) => [n.name, layerText(n), n.inputs]),
      spec.nodes.map((n) => [n.name, layerText(n), n.inputs]),
    );
  });
}

// MUL and DIV through ONNX's Mul and Div and back: the same text, an empty branch on the side it was
// written, the same weights under the same names, and the same outputs.
test('round trip of MUL and DIV joins: the notation text comes back as written, with the same function', () => {
  const text = 'INPUT[6x6x3]\n-> CONV3-4\n-> MUL[CONV1-4 -> RELU | ]\n-> DIV[ | MUL[ | ] -> AFFINE(scale=1x1x1x1, shift=1x1x1x1)]\n-> DIV[CONV1-4 | CONV3-4]\n-> FC-2';
  const net = new Net(toNetSpec(text), { seed: 4 });
  const back = asNotation(importOnnx(exportOnnx(net)), 'joins.onnx');
  assert.equal(back.text, text);
  const imported = new Net(back.spec);
  imported.loadState(back.weights);
  const x = Tensor.from([2, 3, 6, 6], Array.from({ length: 216 }, (_, i) => Math.sin(i)));
  assertClose(imported.forward(x), net.forward(x), 'MUL and DIV', 1e-6);
});

test('the import takes a MatMul of a volume only by a matrix of adaptive window means', () => {
  const net = new Net(toNetSpec('INPUT[14x14x3] -> ADAPTIVEPOOL-4 -> FC-5'), { seed: 3 });
  const model = fromBinary(ModelProtoSchema, exportOnnx(net));
  assert.deepEqual(model.graph?.node.map((n) => n.opType), ['MatMul', 'MatMul', 'Flatten', 'Gemm']);
  const columns = model.graph?.initializer.find((t) => t.name === 'adaptivepool1.columns') ?? assert.fail('no column means');
  // A window of 0.25s moved one column to the right is still a linear map, but no ADAPTIVEPOOL.
  const values = new Float32Array(columns.rawData.slice().buffer);
  values.copyWithin(4, 0, 52);
  values.fill(0, 0, 4);
  columns.rawData = new Uint8Array(values.buffer);
  assert.throws(() => importOnnx(toBinary(ModelProtoSchema, model)), /MatMul node 'adaptivepool1\.matmul0' \(opset 13\): a volume times a matrix is supported only as adaptive average pooling, and this \[14, 4\] matrix is not the 14 -> 4 window means/);
});

test('an AveragePool whose doc_string is an ADAPTIVEPOOL with other windows stays an AVGPOOL', () => {
  const net = new Net(toNetSpec('INPUT[16x16x3] -> ADAPTIVEPOOL-4 -> FC-5'), { seed: 3 });
  const model = fromBinary(ModelProtoSchema, exportOnnx(net));
  const pool = model.graph?.node[0] ?? assert.fail('no node');
  assert.equal(pool.opType, 'AveragePool');
  assert.equal(pool.docString, 'ADAPTIVEPOOL-4');
  // ADAPTIVEPOOL-2 on 16x16 has 8-wide windows, not this pool's 4-wide ones, and gives another shape.
  pool.docString = 'ADAPTIVEPOOL-2';
  assert.equal(layerText(importOnnx(toBinary(ModelProtoSchema, model)).spec.nodes[0] as NodeSpec), 'AVGPOOL4(floor)');
});
