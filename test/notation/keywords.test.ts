import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCKS, LAYERS, layerText, onnxNodes, toNetSpec } from '../../src/notation/index.js';

/** One written example per keyword, with what its write-back reads and the ONNX ops it lowers to. */
const EXAMPLES: [string, string, string[]][] = [
  ['CONV3-8(s=2, p=0x1, groups=2, bias=no, floor)', 'CONV3-8(s=2, p=0x1, groups=2, bias=no, floor)', ['Conv']],
  ['CONV1x3', 'CONV1x3-32', ['Conv']],
  ['POOL3(s=2, ceil)', 'POOL3(s=2, ceil)', ['MaxPool']],
  ['AVGPOOL3(s=1, p=1)', 'AVGPOOL3(s=1, p=1)', ['AveragePool']],
  ['GAP', 'GAP', ['GlobalAveragePool']],
  ['FC-7(bias=no)', 'FC-7(bias=no)', ['Flatten', 'Gemm']],
  ['RELU', 'RELU', ['Relu']],
  ['BN(eps=0.001, momentum=0.2)', 'BN(eps=0.001, momentum=0.2)', ['BatchNormalization']],
  ['DROPOUT(0.25)', 'DROPOUT(0.25)', ['Identity']],
  ['LRN(size=3, k=1)', 'LRN(size=3, k=1)', ['LRN']],
  ['SOFTMAX', 'SOFTMAX', ['Softmax']],
  ['FLATTEN', 'FLATTEN', ['Flatten']],
  ['PAD(t=0, l=1, b=2, r=3)', 'PAD(t=0, l=1, b=2, r=3)', ['Pad']],
  ['PAD(b=1, r=1, max=1)', 'PAD(t=0, l=0, b=1, r=1, max=1)', ['Pad']],
  ['AFFINE', 'AFFINE', ['Mul', 'Add']],
  ['LEAKYRELU(0.2)', 'LEAKYRELU(0.2)', ['LeakyRelu']],
  ['AVGPOOL3(s=1, p=1, countpad=0)', 'AVGPOOL3(s=1, p=1, countpad=0)', ['AveragePool']],
  // A dilated conv: its default padding keeps the 5-pixel span's size.
  ['CONV3-8(d=2)', 'CONV3-8(d=2)', ['Conv']],
  ['CONV3-8(d=2, p=1)', 'CONV3-8(p=1, d=2)', ['Conv']],
  ['SOFTMAX(over=c)', 'SOFTMAX(over=c)', ['Softmax']],
  ['POOL3(s=1, p=1, d=2)', 'POOL3(s=1, p=1, d=2)', ['MaxPool']],
  ['AFFINE(scale=0.5x2x1x-1, shift=-0.25x0x1e-3x3)', 'AFFINE(scale=0.5x2x1x-1, shift=-0.25x0x0.001x3)', ['Mul', 'Add']],
  // Even windows are an AveragePool; uneven ones the matrix of window means.
  ['ADAPTIVEPOOL-4', 'ADAPTIVEPOOL-4', ['AveragePool']],
  ['ADAPTIVEPOOL-3', 'ADAPTIVEPOOL-3', ['MatMul', 'MatMul']],
  // A grid of another height than width (8 high -> 3: uneven; 8 wide -> 4: even).
  ['ADAPTIVEPOOL-3x4', 'ADAPTIVEPOOL-3x4', ['MatMul', 'MatMul']],
  ['ADAPTIVEPOOL-4x4', 'ADAPTIVEPOOL-4', ['AveragePool']],
];

test('every layer keyword has an entry, and each entry writes back what compiles to the same op and attrs', () => {
  const covered = new Set(EXAMPLES.map(([text]) => /^[A-Z]+/.exec(text)?.[0]));
  assert.deepEqual([...covered].sort(), Object.keys(LAYERS).sort());
  for (const [text, written, onnx] of EXAMPLES) {
    // SOFTMAX takes a vector of scores.
    const input = text === 'SOFTMAX' ? 'INPUT[8x8x4] -> FLATTEN ->' : 'INPUT[8x8x4] ->';
    const node = toNetSpec(`${input} ${text}`).nodes.at(-1);
    assert.ok(node !== undefined);
    assert.equal(layerText(node), written, text);
    const again = toNetSpec(`${input} ${layerText(node)}`).nodes.at(-1);
    assert.deepEqual([again?.op, again?.attrs], [node.op, node.attrs], text);
    assert.deepEqual(onnxNodes(node, [4, 8, 8]).map((n) => n.op), onnx, text);
  }
});

test('an FC on a vector needs no Flatten; RES, CONCAT, MUL and DIV join with Add, Concat, Mul and Div', () => {
  const spec = toNetSpec('INPUT[8x8x4] -> RES[CONV3-4] -> CONCAT[CONV1-2 | CONV1-2] -> MUL[CONV1-4 | ] -> DIV[ | CONV1-4] -> GAP -> FC-3');
  const byOp = (op: string) => spec.nodes.find((n) => n.op === op);
  assert.deepEqual(onnxNodes(byOp('fc')!, [4]).map((n) => [n.op, n.params]), [['Gemm', ['weight', 'bias']]]);
  assert.deepEqual(onnxNodes(byOp('add')!, [4, 8, 8]).map((n) => n.op), ['Add']);
  assert.deepEqual(onnxNodes(byOp('concat')!, [2, 8, 8]), [{ op: 'Concat', params: [], attrs: [{ name: 'axis', int: 1 }] }]);
  assert.deepEqual(onnxNodes(byOp('mul')!, [4, 8, 8]), [{ op: 'Mul', params: [], attrs: [] }]);
  assert.deepEqual(onnxNodes(byOp('div')!, [4, 8, 8]), [{ op: 'Div', params: [], attrs: [] }]);
  assert.deepEqual(['add', 'mul', 'div'].map((op) => layerText(byOp(op)!)), ['ADD', 'MUL', 'DIV']);
  assert.deepEqual(Object.keys(BLOCKS), ['RES', 'CONCAT', 'MUL', 'DIV', 'AUX']);
});

test("a ceil CONV lowers to ONNX's Conv (which has no ceil_mode) with its partial window as padding at the bottom and right", () => {
  const conv = toNetSpec('INPUT[8x8x4] -> CONV3-4(s=2, ceil)').nodes[0];
  // (8 - 3 + 2)/2 + 1 = 4.5, ceil 5: the fifth window covers rows 7..9; the input is rows 0..7 padded at -1 and 8, so row 9 is one more.
  const [lowered] = onnxNodes(conv!, [4, 8, 8]);
  assert.deepEqual(lowered?.attrs.find((a) => a.name === 'pads'), { name: 'pads', ints: [1, 1, 2, 2] });
  const floor = toNetSpec('INPUT[8x8x4] -> CONV3-4(s=2, floor)').nodes[0];
  assert.deepEqual(onnxNodes(floor!, [4, 8, 8])[0]?.attrs.find((a) => a.name === 'pads'), { name: 'pads', ints: [1, 1, 1, 1] });
});

test('SOFTMAX(over=) takes c, h or w; AFFINE one value per channel; ADAPTIVEPOOL its size; CONV a dilation of at least 1', () => {
  const fails = (text: string, message: RegExp): void => assert.throws(() => toNetSpec(`INPUT[8x8x4] -> ${text}`), message, text);
  fails('SOFTMAX(over=x)', /'over' takes one of c, h, w/);
  fails('AFFINE(scale=1x2x3x4)', /AFFINE takes scale= and shift= together/);
  fails('AFFINE(scale=1x2x3, shift=0x0x0)', /3 values of scale for 4 channels/);
  fails('ADAPTIVEPOOL', /ADAPTIVEPOOL needs its output size/);
  fails('ADAPTIVEPOOL-3x0', /the output width/);
  fails('FC-3x4', /./);
  fails('CONV3-8(d=0)', /the dilation must be a whole number of at least 1/);
  fails('CONV3-8(s=1x2x3)', /'s' takes one number or two/);
  const node = toNetSpec('INPUT[14x14x4] -> CONV3-8(d=2) -> SOFTMAX(over=c) -> ADAPTIVEPOOL-4').nodes;
  assert.deepEqual(node.map((n) => n.attrs), [
    { kernel: [3, 3], stride: [1, 1], padding: [2, 2], rounding: 'exact', outChannels: 8, groups: 1, bias: true, dilation: [2, 2] },
    { axis: 0 },
    { output: [4, 4] },
  ]);
});
