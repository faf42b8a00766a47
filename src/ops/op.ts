import type { Backend } from '../backends/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import type { Rng } from '../tensor/rng.js';

/**
 * How a parameter or buffer starts out. A layer's `weight` and `bias` give their fans, and the net's
 * initialisation scheme (net/init.ts) draws them; the others are fixed.
 */
export type Init =
  | { kind: 'weight'; layer: 'conv' | 'fc'; fanIn: number; fanOut: number }
  | { kind: 'bias'; fanIn: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'zeros' }
  | { kind: 'ones' };

/** A tensor an op owns, named as in PyTorch's state_dict (`weight`, `bias`, `running_mean`). */
export interface ParamSpec {
  name: string;
  shape: Shape;
  init: Init;
  /** Buffers (BN running statistics) are state, not trained by the optimizer. */
  trainable: boolean;
}

export interface ForwardContext {
  backend: Backend;
  training: boolean;
  rng: Rng;
}

/** The result of a forward pass: the output and whatever backward will need. */
export interface ForwardResult<S> {
  output: Tensor;
  saved: S;
}

export interface BackwardResult {
  /** Gradient for each input, in order; null where the caller said it is not wanted. */
  inputs: (Tensor | null)[];
  /** Gradient for each trainable parameter, by name. */
  params: Record<string, Tensor>;
}

/**
 * One layer type: a pure shape rule on per-image shapes ([C, H, W] or [F]), the parameters it owns,
 * its cost, and forward and backward through the backend. The notation's shape inference calls the
 * same `outputShape`, so the table and the engine never disagree.
 */
export interface Op<A, S = unknown> {
  readonly type: string;
  /**
   * What backward reads of the forward pass's tensors: the inputs (CONV, FC, BN, LRN) and/or the
   * output (RELU, LRN, SOFTMAX). In training, a value nobody's backward reads is freed as soon as its
   * last reader's forward has run, which is what an in-place RELU saves in other frameworks.
   */
  readonly backwardReads: { readonly inputs: boolean; readonly output: boolean };
  outputShape(inputs: readonly Shape[], attrs: A): Shape;
  params(inputs: readonly Shape[], attrs: A): ParamSpec[];
  /** Multiply-adds for one image. */
  macs(inputs: readonly Shape[], output: Shape, attrs: A): number;
  forward(ctx: ForwardContext, inputs: readonly Tensor[], params: Readonly<Record<string, Tensor>>, attrs: A): ForwardResult<S>;
  /**
   * Gradients of the inputs and parameters. `inputGradWanted[i] === false` lets an op skip the
   * gradient of input i (the images, for a first layer): ops whose input gradient is costly honour it.
   */
  backward(
    ctx: ForwardContext,
    saved: S,
    dy: Tensor,
    params: Readonly<Record<string, Tensor>>,
    attrs: A,
    inputGradWanted?: readonly boolean[],
  ): BackwardResult;
  /** Frees what forward saved (called when backward is done or not needed). */
  release(saved: S): void;
}

export function param(name: string, shape: Shape, init: Init, trainable = true): ParamSpec {
  return { name, shape, init, trainable };
}
