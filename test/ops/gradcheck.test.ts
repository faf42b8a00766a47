import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialise } from '../../src/net/init.js';
import { ops, type OpType } from '../../src/ops/index.js';
import type { OpAttrs } from '../../src/ops/index.js';
import type { Op } from '../../src/ops/op.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { svmLoss } from '../../src/ops/svm_loss.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Shape } from '../../src/tensor/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { testBackends } from '../helpers/backends.js';
import { checkLossGradient, checkOpGradients, distinct, gradError, randn } from '../helpers/gradcheck.js';

// Every op's backward against float64 central differences, on every backend; then both losses.

const TOLERANCE = 1e-6;

/** One op call: full (N, ...) input shapes; `distinct` inputs keep max pooling and ReLU off their kinks. */
type Case = {
  [K in OpType]: { name: string; op: K; attrs: OpAttrs[K]; inputs: Shape[]; values?: 'normal' | 'distinct'; training?: boolean; seed?: number };
}[OpType];

const conv = (outChannels: number, kernel: [number, number], stride: [number, number], padding: [number, number], groups = 1, bias = true) =>
  ({ outChannels, kernel, stride, padding, rounding: 'floor', groups, bias }) as const;
const pool = (kernel: [number, number], stride: [number, number], padding: [number, number], rounding: 'floor' | 'ceil' = 'floor') =>
  ({ kernel, stride, padding, rounding }) as const;

const cases: Case[] = [
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
  { name: 'concat of three', op: 'concat', attrs: {}, inputs: [[2, 2, 3, 3], [2, 3, 3, 3], [2, 1, 3, 3]] },
  { name: 'flatten', op: 'flatten', attrs: {}, inputs: [[2, 3, 2, 2]] },
  { name: 'softmax', op: 'softmax', attrs: {}, inputs: [[3, 5]] },
];

/** The op's params for these inputs: trainable ones random, buffers (BN running stats) as they start. */
function paramsFor(op: Op<unknown, unknown>, inputs: Shape[], attrs: unknown, rng: Rng): Record<string, Tensor> {
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

for (const backend of testBackends()) {
  describe(`gradient check of every op on the ${backend.name} backend`, () => {
    for (const c of cases) {
      it(c.name, (t) => {
        const op = ops[c.op] as Op<unknown, unknown>;
        const rng = new Rng(42);
        const inputs = c.inputs.map((shape) => (c.values === 'distinct' ? distinct(shape, rng) : randn(shape, rng)));
        const params = paramsFor(op, c.inputs, c.attrs, rng);
        const errors = checkOpGradients(backend, {
          op,
          attrs: c.attrs,
          inputs,
          params,
          ...(c.training === undefined ? {} : { training: c.training }),
          ...(c.seed === undefined ? {} : { seed: c.seed }),
        });
        const trainable = op.params(c.inputs.map((s) => s.slice(1)), c.attrs).filter((p) => p.trainable);
        const expected = [...c.inputs.map((_, i) => `input.${i}`), ...trainable.map((p) => `param.${p.name}`)];
        assert.deepEqual([...errors.keys()].sort(), expected.sort(), 'a gradient for every input and trainable param');
        for (const [what, error] of errors) assert.ok(error < TOLERANCE, `${what}: relative error ${error.toExponential(2)}`);
        t.diagnostic(`max relative error ${Math.max(...errors.values()).toExponential(2)}`);
      });
    }

    it('every case in float32 gives float32 outputs and gradients that match float64', () => {
      const toFloat32 = (t: Tensor) => Tensor.from(t.shape, t.data, 'float32');
      for (const c of cases) {
        const op = ops[c.op] as Op<unknown, unknown>;
        const rng = new Rng(42);
        const inputs = c.inputs.map((shape) => (c.values === 'distinct' ? distinct(shape, rng) : randn(shape, rng)));
        const params = paramsFor(op, c.inputs, c.attrs, rng);
        const run = (xs: Tensor[], ps: Record<string, Tensor>) => {
          const ctx = { backend, training: c.training ?? true, rng: new Rng(c.seed ?? 0) };
          const { output, saved } = op.forward(ctx, xs, ps, c.attrs);
          const grads = op.backward(ctx, saved, Tensor.from(output.shape, randn(output.shape, new Rng(1)).data, output.dtype), ps, c.attrs);
          op.release(saved);
          return [output, ...grads.inputs.map((g) => g as Tensor), ...Object.values(grads.params)];
        };
        const exact = run(inputs, params);
        const single = run(inputs.map(toFloat32), Object.fromEntries(Object.entries(params).map(([name, p]) => [name, toFloat32(p)])));
        single.forEach((t, i) => {
          const reference = exact[i] as Tensor;
          assert.equal(t.dtype, 'float32', `${c.name}: result ${i} is float32`);
          assert.ok(gradError(t.data, reference.data) < 1e-5, `${c.name}: result ${i} differs from float64 by ${gradError(t.data, reference.data)}`);
        });
      }
    });

    it('dropout really drops: the checked mask zeroes some values and scales the rest', () => {
      const x = Tensor.from([1, 200], new Array<number>(200).fill(1), 'float64');
      const { output, saved } = ops.dropout.forward({ backend, training: true, rng: new Rng(3) }, [x], {}, { p: 0.3 });
      const values = [...output.data];
      const dropped = values.filter((v) => v === 0).length;
      assert.ok(values.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-12), 'survivors scaled by 1/(1-p)');
      assert.ok(dropped > 40 && dropped < 80, `about 30% of 200 dropped, got ${dropped}`);
      ops.dropout.release(saved);
    });
  });
}

it('the gradient check covers every op', () => {
  const covered = new Set(cases.map((c) => c.op));
  assert.deepEqual(
    Object.keys(ops).filter((op) => !covered.has(op as OpType)),
    [],
  );
});

describe('gradient check of the losses', () => {
  const labels = [0, 5, 2, 2];

  it('softmax cross-entropy', () => {
    const scores = randn([4, 6], new Rng(5), 2);
    const error = checkLossGradient((s) => softmaxCrossEntropy(s, labels), scores);
    assert.ok(error < TOLERANCE, `relative error ${error.toExponential(2)}`);
  });

  it('softmax cross-entropy with large scores (the max is subtracted)', () => {
    const scores = randn([4, 6], new Rng(6), 2);
    for (let i = 0; i < scores.size; i++) scores.data[i] = (scores.data[i] as number) + 500;
    const error = checkLossGradient((s) => softmaxCrossEntropy(s, labels), scores);
    assert.ok(error < TOLERANCE, `relative error ${error.toExponential(2)}`);
  });

  it('svm (hinge) loss, no margin near its kink', () => {
    const scores = randn([4, 6], new Rng(8));
    // The hinge has a kink where margin - s_label + s_j = 0; these scores stay clear of it and
    // have both active and inactive margins.
    const margins = labels.flatMap((label, i) =>
      [0, 1, 2, 3, 4, 5].filter((j) => j !== label).map((j) => 1 - (scores.data[i * 6 + label] as number) + (scores.data[i * 6 + j] as number)),
    );
    assert.ok(margins.every((m) => Math.abs(m) > 1e-3), 'no margin within 1e-3 of the kink');
    assert.ok(margins.some((m) => m > 0) && margins.some((m) => m < 0), 'active and inactive margins');
    const error = checkLossGradient((s) => svmLoss(s, labels), scores);
    assert.ok(error < TOLERANCE, `relative error ${error.toExponential(2)}`);
  });
});
