import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops, type OpType } from '../../src/ops/index.js';
import { softmaxCrossEntropy } from '../../src/ops/softmax_cross_entropy.js';
import { svmLoss } from '../../src/ops/svm_loss.js';
import { Rng } from '../../src/tensor/rng.js';
import { checkLossGradient, randn } from '../helpers/gradcheck.js';
import { OP_CASES } from '../helpers/op_cases.js';

// Both losses' gradients against float64 central differences. Every op's gradient check runs in the
// conformance suite (test/backends/conformance.test.ts) on each backend that computes float64 itself.

const TOLERANCE = 1e-6;

it('the gradient check covers every op', () => {
  const covered = new Set(OP_CASES.map((c) => c.op));
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
