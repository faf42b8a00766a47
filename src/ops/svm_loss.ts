import { checkLabels, type LossResult } from './softmax_cross_entropy.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Multiclass SVM (hinge) loss, as PyTorch's MultiMarginLoss with p=1: mean over the batch of
 * sum over wrong classes j of max(0, margin - s_label + s_j) / K.
 */
export function svmLoss(scores: Tensor, labels: ArrayLike<number>, margin = 1): LossResult {
  const [n, k] = checkLabels('svm loss', scores, labels);
  // Beside the scores: on the net's backend, counted by its tracker.
  const grad = Tensor.zeros(scores.shape, scores.dtype, scores.allocator);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const label = labels[i] as number;
    const correct = scores.data[row + label] as number;
    for (let j = 0; j < k; j++) {
      if (j === label) continue;
      const violation = margin - correct + (scores.data[row + j] as number);
      if (violation <= 0) continue;
      total += violation;
      grad.data[row + j] = (grad.data[row + j] as number) + 1 / (n * k);
      grad.data[row + label] = (grad.data[row + label] as number) - 1 / (n * k);
    }
  }
  return { loss: total / (n * k), grad };
}
