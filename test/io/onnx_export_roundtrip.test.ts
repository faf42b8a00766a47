import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { asNotation } from '../../src/io/onnx/renamed.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec } from '../../src/net/spec.js';
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
