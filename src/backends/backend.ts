import type { Allocator, Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import type { AdaptiveAvgPoolAttrs, AvgPoolAttrs, Conv2dAttrs, LrnAttrs, PoolAttrs } from '../ops/attrs.js';

/**
 * The arithmetic every op runs through: one typed method per kernel. The reference backend
 * (plain TypeScript loops) defines what is correct; a fast backend implements the same contract and
 * must pass the same tests. Kernels allocate their outputs and scratch through the backend's own
 * allocator. Shapes in comments: x is (N, C, H, W) unless stated.
 */
export interface Backend {
  /** The name `--backend` takes and the registry (registry.ts) lists. */
  readonly name: string;
  /** Where this backend's tensors live; its tracker counts all a net on this backend holds. */
  readonly allocator: Allocator;
  /** How this instance runs, for people ("2 threads, relaxed SIMD with FMA"); optional. */
  readonly details?: string;

  /** y (N, O, OH, OW) = x (N, C, H, W) conv weight (O, C/groups, KH, KW) + bias (O). */
  conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs): Tensor;
  /** dx (N, C, H, W) from dy (N, O, OH, OW) and weight. */
  conv2dGradInput(dy: Tensor, weight: Tensor, xShape: Shape, attrs: Conv2dAttrs): Tensor;
  /** dweight (O, C/groups, KH, KW) from dy and the forward input x. */
  conv2dGradWeight(dy: Tensor, x: Tensor, attrs: Conv2dAttrs): Tensor;
  /** dbias (C): dy summed over every axis but axis 1. */
  biasGrad(dy: Tensor): Tensor;

  /** y (N, C, OH, OW) and, for backward, the flat index in its (H, W) plane of each maximum. */
  maxPool2d(x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array };
  /** dx (N, C, H, W) of `xShape`: each dy value added at the input position `argmax` recorded for it. */
  maxPool2dGrad(dy: Tensor, argmax: Int32Array, xShape: Shape): Tensor;
  /**
   * Optional: maxPool2d with the window's taps `attrs.dilation` apart; argmax as maxPool2d's, so
   * maxPool2dGrad takes it. A backend without it runs the reference kernel (`kernelOf`).
   */
  maxPool2dDilated?(x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array };
  /** y (N, C, OH, OW): the mean of each window, divided as `attrs.countIncludePad` says. */
  avgPool2d(x: Tensor, attrs: AvgPoolAttrs): Tensor;
  /** dx (N, C, H, W) of `xShape`: each dy value spread evenly over its window, by the forward's divisor. */
  avgPool2dGrad(dy: Tensor, xShape: Shape, attrs: AvgPoolAttrs): Tensor;

  /** y (N, M) = x (N, K) weight(M, K)^T + bias (M). */
  linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor;
  /** dx (N, K) = dy (N, M) weight (M, K). */
  linearGradInput(dy: Tensor, weight: Tensor): Tensor;
  /** dweight (M, K) = dy^T (M, N) x (N, K). */
  linearGradWeight(dy: Tensor, x: Tensor): Tensor;

  /** y = max(0, x), any shape. */
  relu(x: Tensor): Tensor;
  /** dx = dy where the forward output y was positive, else 0. */
  reluGrad(dy: Tensor, y: Tensor): Tensor;

  /** Batch statistics over (N, H, W) per channel; mean and invStd = 1/sqrt(var + eps) are (C). */
  batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; invStd: Tensor };
  /** dx (N, C, ...), dgamma (C) and dbeta (C) of batch-statistics normalisation, from the forward's mean and invStd. */
  batchNormGrad(
    dy: Tensor,
    x: Tensor,
    gamma: Tensor,
    mean: Tensor,
    invStd: Tensor,
  ): { dx: Tensor; dgamma: Tensor; dbeta: Tensor };
  /** y = gamma (x - mean) / sqrt(variance + eps) + beta per channel, with the running statistics (C). */
  batchNormInfer(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor;

  /** Local response normalisation across channels; `scale` is k + alpha/size * sum(x^2) per value. */
  lrn(x: Tensor, attrs: LrnAttrs): { y: Tensor; scale: Tensor };
  /** dx of LRN, from the forward's x, y and `scale`. */
  lrnGrad(dy: Tensor, x: Tensor, y: Tensor, scale: Tensor, attrs: LrnAttrs): Tensor;

  /**
   * Optional: y (N, C, OH, OW), the mean of each adaptive window (AdaptiveAvgPoolAttrs). A backend
   * without it runs the reference kernel (`withReferenceFallback`, `kernelOf`), so none needs to change.
   */
  adaptiveAvgPool2d?(x: Tensor, attrs: AdaptiveAvgPoolAttrs): Tensor;
  /** Optional: dx (N, C, H, W) of `xShape`, each dy value spread evenly over its adaptive window. */
  adaptiveAvgPool2dGrad?(dy: Tensor, xShape: Shape, attrs: AdaptiveAvgPoolAttrs): Tensor;

  /** y = a + b, same shapes. */
  add(a: Tensor, b: Tensor): Tensor;
  /** y = x * mask * scale, element-wise (inverted dropout, forward and backward). */
  mulMask(x: Tensor, mask: Tensor, scale: number): Tensor;
  /** y = a * b, element-wise, same shapes (MUL's forward, and its backward: dy * b, dy * a). */
  mul(a: Tensor, b: Tensor): Tensor;
  /** y = a / b, element-wise, same shapes (DIV's forward, and the gradient of its dividend: dy / b). */
  div(a: Tensor, b: Tensor): Tensor;
  /** db = -dy * a / b^2, the gradient of a / b with respect to the divisor b; all four the same shape. */
  divGradDivisor(dy: Tensor, a: Tensor, b: Tensor): Tensor;

  /** Concatenates (N, Ci, H, W) tensors along channels. */
  concatChannels(xs: readonly Tensor[]): Tensor;
  /** Splits dy (N, sum Ci, H, W) back into (N, Ci, H, W) parts. */
  splitChannels(dy: Tensor, channels: readonly number[]): Tensor[];

  /** Softmax over axis 1 of x (N, K). */
  softmax(x: Tensor): Tensor;

  /**
   * Optional fused kernel: relu(conv2d(x, weight, bias)) in one pass over the output. The Net uses it
   * where a CONV's only reader is a RELU; without it, the two run one after the other.
   */
  conv2dRelu?(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs): Tensor;

  /**
   * Optional fused kernel: conv2d(x, weight) times scale[o] plus shift[o] for each filter o, plus
   * `residual` (a tensor of the output's shape) where given, ReLU'd when `relu`, in one pass over the
   * output. The Net uses it in inference for a CONV whose only reader is a BN (and that BN's only
   * reader a RELU, or a RES join's ADD and then its RELU): the BN's running statistics become the
   * scale and shift, so neither the conv's output nor the BN's (nor the sum) is ever stored.
   */
  conv2dAffine?(x: Tensor, weight: Tensor, scale: Tensor, shift: Tensor, attrs: Conv2dAttrs, relu: boolean, residual?: Tensor | null): Tensor;

  /**
   * Optional: maxPool2d's values without the argmax, which only backward reads. The Net uses it in
   * inference for an undilated max POOL.
   */
  maxPool2dValues?(x: Tensor, attrs: PoolAttrs): Tensor;

  /**
   * Optional SGD update, in place, as torch.optim.SGD: d = g + weightDecay * w; with momentum,
   * buf = d on the first step, else momentum * buf + (1 - dampening) * d; d = nesterov ?
   * d + momentum * buf : buf; w -= lr * d. Without it, the optimizer runs in TypeScript.
   */
  sgdUpdate?(weight: Tensor, grad: Tensor, momentumBuffer: Tensor | null, options: SgdUpdateOptions): void;

  /**
   * Optional: `sgdUpdate` on several float32 parameters in one call (the optimizer's whole step: one
   * call instead of one per parameter), each with its own `firstStep`. Without it, the optimizer
   * calls `sgdUpdate` per parameter.
   */
  sgdUpdateMany?(updates: readonly SgdParameterUpdate[], options: Omit<SgdUpdateOptions, 'firstStep'>): void;

  /** Releases what the backend holds (worker threads, memory); it must not be used afterwards. */
  dispose(): Promise<void>;
}

/** The kernels every backend has: the Backend contract less its properties and optional kernels. */
export type KernelName = Exclude<keyof Backend, 'name' | 'allocator' | 'details' | 'dispose' | 'conv2dRelu' | 'conv2dAffine' | 'maxPool2dValues' | 'sgdUpdate' | 'sgdUpdateMany'>;

/** One parameter of an `sgdUpdateMany` call: its values, gradient, momentum buffer (null for plain SGD) and whether this is its first step. */
export interface SgdParameterUpdate {
  /** The parameter's values, updated in place. */
  weight: Tensor;
  /** Its gradient. */
  grad: Tensor;
  /** Its momentum buffer, or null for plain SGD. */
  momentumBuffer: Tensor | null;
  /** The first step with this buffer: it is set to d rather than updated. */
  firstStep: boolean;
}

/** The hyperparameters of one `sgdUpdate` call. */
export interface SgdUpdateOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor; 0 for plain SGD (the buffer is then not read). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer, as torch.optim.SGD. */
  dampening: number;
  /** Nesterov momentum: step along d + momentum * buffer rather than the buffer. */
  nesterov: boolean;
  /** L2 penalty added to the gradient (weight * weightDecay) before momentum. */
  weightDecay: number;
  /** The first step with this buffer: it is set to d rather than updated. */
  firstStep: boolean;
}
