import type { Net } from '../net/net.js';
import type { LossResult } from '../ops/softmax_cross_entropy.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The weight of each auxiliary classifier's loss in the total: "during training, their loss gets
 * added to the total loss of the network with a discount weight (the losses of the auxiliary
 * classifiers were weighted by 0.3)" (Szegedy et al. 2015, GoogLeNet, Section 5).
 */
export const AUX_LOSS_WEIGHT = 0.3;

/** The loss of a training step: the main head's plus the weighted losses of any auxiliary heads. */
export interface StepLoss {
  /** The main head's loss plus AUX_LOSS_WEIGHT times each auxiliary head's, averaged over the batch. */
  loss: number;
  /** dLoss/dscores of the main head. */
  grad: Tensor;
  /** dLoss/d(each auxiliary output), for `net.backward(grad, { auxGrads })`. */
  auxGrads: Tensor[];
}

/** Applies `lossFn` to the main output and, weighted, to every auxiliary head of the last training forward. */
export function stepLoss(net: Net, scores: Tensor, labels: ArrayLike<number>, lossFn: (scores: Tensor, labels: ArrayLike<number>) => LossResult): StepLoss {
  const main = lossFn(scores, labels);
  let loss = main.loss;
  const auxGrads = net.auxiliaryOutputs().map((output) => {
    const aux = lossFn(output, labels);
    loss += AUX_LOSS_WEIGHT * aux.loss;
    for (let i = 0; i < aux.grad.size; i++) aux.grad.data[i] = (aux.grad.data[i] as number) * AUX_LOSS_WEIGHT;
    return aux.grad;
  });
  return { loss, grad: main.grad, auxGrads };
}
