import { initialise } from '../../src/net/init.js';
import { ops, type OpAttrs, type OpType } from '../../src/ops/index.js';
import type { Op } from '../../src/ops/op.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Shape } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { distinct, randn } from './gradcheck.js';

// One small call of every op, with the odd shapes, strides, padding and rounding that catch indexing
// mistakes: the gradient checks run them in float64, and the conformance suite compares every
// backend's float32 forward and backward on them with the reference backend's float64 ones.

/**
 * One op call: full (N, ...) input shapes; `distinct` inputs keep max pooling and ReLU off their kinks,
 * `away from zero` ones keep a quotient's divisor at least 0.5 from its pole.
 */
export type OpCase = {
  [K in OpType]: { name: string; op: K; attrs: OpAttrs[K]; inputs: Shape[]; values?: 'normal' | 'distinct' | 'away from zero'; training?: boolean; seed?: number };
}[OpType];

const conv = (outChannels: number, kernel: [number, number], stride: [number, number], padding: [number, number], groups = 1, bias = true) =>
  ({ outChannels, kernel, stride, padding, rounding: 'floor', groups, bias }) as const;
const pool = (kernel: [number, number], stride: [number, number], padding: [number, number], rounding: 'floor' | 'ceil' = 'floor') =>
  ({ kernel, stride, padding, rounding }) as const;

export const OP_CASES: OpCase[] = [
  { name: 'conv 3x3, padding 1, batch 2', op: 'conv', attrs: conv(4, [3, 3], [1, 1], [1, 1]), inputs: [[2, 3, 5, 6]] },
  { name: 'conv 3x3, stride 2, padding 0, partial last window dropped', op: 'conv', attrs: conv(3, [3, 3], [2, 2], [0, 0]), inputs: [[2, 2, 8, 7]] },
  { name: 'conv 5x5, padding 2', op: 'conv', attrs: conv(2, [5, 5], [1, 1], [2, 2]), inputs: [[1, 2, 6, 5]] },
  { name: 'conv 2x3, groups 2, stride 2x1, non-square input', op: 'conv', attrs: conv(6, [2, 3], [2, 1], [1, 0], 2), inputs: [[2, 4, 5, 7]] },
  { name: 'conv 3x5, stride 2, padding 2x1, no bias', op: 'conv', attrs: conv(3, [3, 5], [2, 2], [2, 1], 1, false), inputs: [[2, 2, 6, 7]] },
  { name: 'conv 1x1, groups 3', op: 'conv', attrs: conv(6, [1, 1], [1, 1], [0, 0], 3), inputs: [[2, 3, 3, 4]] },
  { name: 'maxpool 2x2, stride 2', op: 'maxpool', attrs: pool([2, 2], [2, 2], [0, 0]), inputs: [[2, 3, 4, 6]], values: 'distinct' },
  { name: 'maxpool 3x3, stride 2, ceil (partial last window)', op: 'maxpool', attrs: pool([3, 3], [2, 2], [0, 0], 'ceil'), inputs: [[1, 2, 6, 6]], values: 'distinct' },
  { name: 'maxpool 3x3, stride 2, padding 1', op: 'maxpool', attrs: pool([3, 3], [2, 2], [1, 1]), inputs: [[2, 2, 5, 5]], values: 'distinct' },
  { name: 'maxpool 2x2, stride 2, padding 1, ceil', op: 'maxpool', attrs: pool([2, 2], [2, 2], [1, 1], 'ceil'), inputs: [[1, 2, 5, 4]], values: 'distinct' },
  { name: 'maxpool 3x2, stride 2x1', op: 'maxpool', attrs: pool([3, 2], [2, 1], [0, 0]), inputs: [[2, 1, 7, 5]], values: 'distinct' },
  {
    name: 'avgpool 3x3, padding 1, padding counted',
    op: 'avgpool',
    attrs: { ...pool([3, 3], [1, 1], [1, 1]), countIncludePad: true },
    inputs: [[2, 2, 4, 5]],
  },
  {
    name: 'avgpool 3x3, padding 1, padding not counted',
    op: 'avgpool',
    attrs: { ...pool([3, 3], [1, 1], [1, 1]), countIncludePad: false },
    inputs: [[2, 2, 4, 5]],
  },
  {
    name: 'avgpool 3x3, stride 2, padding 1, ceil, padding counted',
    op: 'avgpool',
    attrs: { ...pool([3, 3], [2, 2], [1, 1], 'ceil'), countIncludePad: true },
    inputs: [[1, 2, 6, 6]],
  },
  {
    name: 'avgpool 3x3, stride 2, padding 1, ceil, padding not counted',
    op: 'avgpool',
    attrs: { ...pool([3, 3], [2, 2], [1, 1], 'ceil'), countIncludePad: false },
    inputs: [[1, 2, 6, 6]],
  },
  { name: 'avgpool 2x2, stride 2, ceil', op: 'avgpool', attrs: { ...pool([2, 2], [2, 2], [0, 0], 'ceil'), countIncludePad: true }, inputs: [[2, 2, 5, 5]] },
  { name: 'globalavgpool', op: 'globalavgpool', attrs: {}, inputs: [[2, 3, 4, 5]] },
  { name: 'fc on a volume', op: 'fc', attrs: { outFeatures: 4, bias: true }, inputs: [[2, 3, 2, 3]] },
  { name: 'fc on a vector, no bias', op: 'fc', attrs: { outFeatures: 2, bias: false }, inputs: [[3, 5]] },
  { name: 'relu', op: 'relu', attrs: {}, inputs: [[2, 3, 4, 4]], values: 'distinct' },
  { name: 'bn, training, volume', op: 'bn', attrs: { eps: 1e-5, momentum: 0.1 }, inputs: [[4, 3, 3, 2]] },
  { name: 'bn, training, vector', op: 'bn', attrs: { eps: 1e-5, momentum: 0.1 }, inputs: [[6, 4]] },
  { name: 'dropout p=0.3, one fixed mask', op: 'dropout', attrs: { p: 0.3 }, inputs: [[3, 4, 5]], seed: 3 },
  { name: 'lrn size 5 (odd)', op: 'lrn', attrs: { size: 5, alpha: 0.5, beta: 0.75, k: 2 }, inputs: [[2, 7, 3, 3]] },
  { name: 'lrn size 4 (even: the window is not centred)', op: 'lrn', attrs: { size: 4, alpha: 1, beta: 0.75, k: 1 }, inputs: [[2, 6, 2, 3]] },
  { name: 'add', op: 'add', attrs: {}, inputs: [[2, 3, 4, 4], [2, 3, 4, 4]] },
  { name: 'mul', op: 'mul', attrs: {}, inputs: [[2, 3, 4, 4], [2, 3, 4, 4]] },
  { name: 'mul of vectors', op: 'mul', attrs: {}, inputs: [[3, 5], [3, 5]] },
  { name: 'div, divisors at least 0.5 from zero, of both signs', op: 'div', attrs: {}, inputs: [[2, 3, 4, 4], [2, 3, 4, 4]], values: 'away from zero' },
  { name: 'concat of three', op: 'concat', attrs: {}, inputs: [[2, 2, 3, 3], [2, 3, 3, 3], [2, 1, 3, 3]] },
  { name: 'flatten', op: 'flatten', attrs: {}, inputs: [[2, 3, 2, 2]] },
  { name: 'softmax', op: 'softmax', attrs: {}, inputs: [[3, 5]] },
  { name: 'pad, asymmetric', op: 'pad', attrs: { top: 0, left: 1, bottom: 2, right: 1, value: 0, forMax: false }, inputs: [[2, 3, 3, 4]] },
  { name: 'affine, volume', op: 'affine', attrs: {}, inputs: [[2, 3, 2, 3]] },
  { name: 'affine, vector', op: 'affine', attrs: {}, inputs: [[3, 4]] },
  { name: 'conv 3x3, dilation 2, padding 2 (a dense 5x5 with zeros between the taps)', op: 'conv', attrs: { ...conv(3, [3, 3], [1, 1], [2, 2]), dilation: [2, 2] }, inputs: [[2, 2, 7, 8]] },
  { name: 'conv 3x2, dilation 3x2, stride 2x1, groups 2', op: 'conv', attrs: { ...conv(4, [3, 2], [2, 1], [1, 0], 2), dilation: [3, 2] }, inputs: [[2, 4, 9, 7]] },
  { name: 'maxpool 3x3, dilation 2, stride 2, padding 1, ceil', op: 'maxpool', attrs: { ...pool([3, 3], [2, 2], [1, 1], 'ceil'), dilation: [2, 2] }, inputs: [[1, 2, 9, 10]], values: 'distinct' },
  { name: 'softmax over the channels of a volume', op: 'softmax', attrs: { axis: 0 }, inputs: [[2, 4, 3, 2]] },
  { name: 'softmax over the rows of a volume', op: 'softmax', attrs: { axis: 1 }, inputs: [[2, 2, 3, 4]] },
  { name: 'adaptive average pool 14x14 to 4x4', op: 'adaptiveavgpool', attrs: { output: [4, 4] }, inputs: [[1, 2, 14, 14]] },
  { name: 'adaptive average pool 5x3 to 4x4 (overlapping and repeated windows)', op: 'adaptiveavgpool', attrs: { output: [4, 4] }, inputs: [[2, 2, 5, 3]] },
  { name: 'affine, values written', op: 'affine', attrs: { scale: [0.458, 0.448, 0.45], shift: [-0.03, -0.088, -0.188] }, inputs: [[2, 3, 2, 3]] },
  { name: 'leakyrelu 0.1', op: 'leakyrelu', attrs: { alpha: 0.1 }, inputs: [[2, 3, 4, 4]], values: 'distinct' },
];

/** The op's params for these inputs: trainable ones random, buffers (BN running stats) as they start. */
export function paramsFor(op: Op<unknown, unknown>, inputs: Shape[], attrs: unknown, rng: Rng): Record<string, Tensor> {
  const params: Record<string, Tensor> = {};
  for (const spec of op.params(inputs.map((s) => s.slice(1)), attrs)) {
    if (spec.trainable) {
      params[spec.name] = randn(spec.shape, rng, 0.5);
    } else {
      const buffer = Tensor.zeros(spec.shape, 'float64');
      initialise(buffer, spec.init, rng);
      params[spec.name] = buffer;
    }
  }
  return params;
}

/** The case's float64 inputs and params, the same for the same case every time. */
export function caseValues(c: OpCase): { inputs: Tensor[]; params: Record<string, Tensor> } {
  const op = ops[c.op] as Op<unknown, unknown>;
  const rng = new Rng(42);
  const inputs = c.inputs.map((shape) => (c.values === 'distinct' ? distinct(shape, rng) : c.values === 'away from zero' ? awayFromZero(randn(shape, rng)) : randn(shape, rng)));
  return { inputs, params: paramsFor(op, c.inputs, c.attrs, rng) };
}

/** Each value moved 0.5 further from zero, keeping its sign: a divisor then stays clear of its pole. */
function awayFromZero(t: Tensor): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sign(t.data[i] as number) * (0.5 + Math.abs(t.data[i] as number));
  return t;
}
