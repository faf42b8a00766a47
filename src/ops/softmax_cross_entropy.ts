import { ShapeError } from './errors.js';
import { Tensor } from '../tensor/tensor.js';

/** The mean loss over the batch and its gradient with respect to the scores. */
export interface LossResult {
  /** Mean over the batch of -log softmax(scores)[label]. */
  loss: number;
  /** dLoss/dscores, (N, K). */
  grad: Tensor;
}

/** Checks that `scores` is (N, K) and `labels` N integers in 0..K-1, naming `op` if not; returns [N, K]. */
export function checkLabels(op: string, scores: Tensor, labels: ArrayLike<number>): [number, number] {
  const [n, k] = scores.shape as [number, number];
  if (scores.shape.length !== 2 || labels.length !== n) {
    throw new ShapeError(op, `expects (N, K) scores and N labels, got ${labels.length} labels`, [scores.shape]);
  }
  for (let i = 0; i < n; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= k) throw new ShapeError(op, `label ${label} of sample ${i} is not a class in 0..${k - 1}`);
  }
  return [n, k];
}

/**
 * Softmax cross-entropy: mean over the batch of -log softmax(scores)[label], computed with the
 * max subtracted so that large scores do not overflow. Gradient: (softmax - onehot) / N.
 */
export function softmaxCrossEntropy(scores: Tensor, labels: ArrayLike<number>): LossResult {
  const [n, k] = checkLabels('softmax cross-entropy', scores, labels);
  // Beside the scores: on the net's backend, counted by its tracker.
  const grad = Tensor.zeros(scores.shape, scores.dtype, scores.allocator);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, scores.data[row + j] as number);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp((scores.data[row + j] as number) - max);
    const label = labels[i] as number;
    total += Math.log(sum) - ((scores.data[row + label] as number) - max);
    for (let j = 0; j < k; j++) {
      const p = Math.exp((scores.data[row + j] as number) - max) / sum;
      grad.data[row + j] = (p - (j === label ? 1 : 0)) / n;
    }
  }
  return { loss: total / n, grad };
}
