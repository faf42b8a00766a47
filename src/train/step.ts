import type { Net } from '../net/net.js';
import { softmaxCrossEntropy } from '../ops/softmax_cross_entropy.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from './optimizers/optimizer.js';

/**
 * One training step of a net without auxiliary heads: forward, softmax cross-entropy against
 * `labels`, backward, the optimizer's update. What the bench times in Node and in the page's
 * Worker, so both measure the same work; the training loop (loop.ts) adds auxiliary heads,
 * accuracy and progress around its own.
 */
export function trainingStep(net: Net, optimizer: Optimizer, x: Tensor, labels: ArrayLike<number>): void {
  const scores = net.forward(x, { training: true });
  const { grad } = softmaxCrossEntropy(scores, labels);
  scores.dispose();
  net.backward(grad);
  grad.dispose();
  optimizer.step();
}
