import type { Backend } from '../backends/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
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
  /** The name within the layer (`weight`, `bias`, `running_mean`). */
  name: string;
  /** Its shape, e.g. (O, C/groups, KH, KW) for a CONV weight. */
  shape: Shape;
  /** How it starts out. */
  init: Init;
  /** Buffers (BN running statistics) are state, not trained by the optimizer. */
  trainable: boolean;
}

/** What every op's forward and backward run with: the backend, the mode, the dropout generator. */
export interface ForwardContext {
  /** Where the tensors live and the kernels run. */
  backend: Backend;
  /** Training mode: batch statistics in BN, masks in DROPOUT, and state saved for backward. */
  training: boolean;
  /** The generator dropout masks are drawn from. */
  rng: Rng;
  /**
   * The layer is frozen (fine-tuning): backward computes no parameter gradients (`params` is empty),
   * and BN normalises with its running statistics and leaves them unchanged, even in training.
   */
  frozen?: boolean;
}

/** The result of a forward pass: the output and whatever backward will need. */
export interface ForwardResult<S> {
  /** The op's output, owned by the caller. */
  output: Tensor;
  /** What backward needs (indices, statistics, masks); the op's `release` frees it. */
  saved: S;
}

/** The gradients one op's backward returns. */
export interface BackwardResult {
  /** Gradient for each input, in order; null where the caller said it is not wanted. */
  inputs: (Tensor | null)[];
  /** Gradient for each trainable parameter, by name; none when `ForwardContext.frozen`. */
  params: Record<string, Tensor>;
}

/**
 * One layer type: a pure shape rule on per-image shapes ([C, H, W] or [F]), the parameters it owns,
 * its cost, and forward and backward through the backend. The notation's shape inference calls the
 * same `outputShape`, so the table and the engine never disagree.
 */
export interface Op<A, S = unknown> {
  /** The op's name, the key of `ops` (`conv`, `maxpool`, ...). */
  readonly type: string;
  /**
   * What backward reads of the forward pass's tensors: the inputs (CONV, FC, BN, LRN) and/or the
   * output (RELU, LRN, SOFTMAX). In training, a value nobody's backward reads is freed as soon as its
   * last reader's forward has run, which is what an in-place RELU saves in other frameworks.
   */
  readonly backwardReads: { readonly inputs: boolean; readonly output: boolean };
  /**
   * What backward reads when the layer is frozen (`ForwardContext.frozen`: no parameter gradients),
   * where that is less than `backwardReads`: a frozen CONV or FC needs only its input's shape for the
   * input gradient, a frozen BN only its parameters. Absent: `backwardReads`.
   */
  readonly frozenBackwardReads?: { readonly inputs: boolean; readonly output: boolean };
  /** The output's per-image shape for these per-image input shapes; throws a ShapeError or SizingError when they do not fit. */
  outputShape(inputs: readonly Shape[], attrs: A): Shape;
  /** The parameters and buffers the op owns for these input shapes. */
  params(inputs: readonly Shape[], attrs: A): ParamSpec[];
  /** Multiply-adds for one image. */
  macs(inputs: readonly Shape[], output: Shape, attrs: A): number;
  /** Output for `inputs` (with the batch axis) and the state backward needs; `params` by ParamSpec name. */
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
  /**
   * What `forward` allocates, in order, as kernel calls and the buffers they return: the output, and
   * in training what it saves for backward (`frozen` as `ForwardContext.frozen`). The step schedule
   * replays this for the memory estimate.
   */
  forwardMemory(shapes: BatchedShapes, attrs: A, training: boolean, frozen?: boolean): KernelUse[];
  /**
   * What `backward` allocates, in order, for the same `inputGradWanted` backward gets; `frozen` as
   * `ForwardContext.frozen` (no parameter gradients).
   */
  backwardMemory(shapes: BatchedShapes, attrs: A, inputGradWanted: readonly boolean[], frozen?: boolean): KernelUse[];
}

/** Every kernel of the Backend contract, by method name. */
export type KernelName = Exclude<keyof Backend, 'name' | 'allocator' | 'sgdUpdate' | 'dispose'>;

/** An op's forward inputs and output with the batch axis: (N, C, H, W) or (N, F). */
export interface BatchedShapes {
  /** The inputs' shapes, batch axis first. */
  inputs: readonly Shape[];
  /** The output's shape, batch axis first. */
  output: Shape;
}

/**
 * What a buffer an op allocates is for: its `output`; state `saved` for backward (freed by
 * `release`); the gradient of input `input` (`inputGrad`) or of a parameter (`paramGrad`); or a
 * `temporary` that backward frees before it returns.
 */
export type BufferRole = 'output' | 'saved' | 'inputGrad' | 'paramGrad' | 'temporary';

/** One buffer an op's forward or backward allocates. */
export interface BufferUse {
  /** What the buffer is for, and so when it is freed. */
  role: BufferRole;
  /** Values it holds (the whole batch's, for a batched buffer). */
  values: number;
  /** Bytes per value when not the tensors' element width: 4 for max-pool's Int32Array indices. */
  bytesPerValue?: number;
  /** For an `inputGrad`: which input. */
  input?: number;
}

/**
 * One backend kernel call and the buffers it returns, in order; or, with `kernel` null, buffers the
 * op allocates itself (a dropout mask, a copy).
 */
export interface KernelUse {
  /** The backend kernel called, or null for buffers the op allocates itself. */
  kernel: KernelName | null;
  /** The attrs the kernel is called with, when they are not the op's own (global average pooling's window). */
  attrs?: unknown;
  /** The buffers the call returns or the op allocates, in order. */
  buffers: BufferUse[];
}

/** One kernel call returning the op's output: the forward of most ops. */
export function outputFrom(kernel: KernelName | null, shapes: BatchedShapes): KernelUse[] {
  return [calls(kernel, buffer('output', sizeOf(shapes.output)))];
}

/** One kernel call returning the gradient of the op's one input: the backward of most ops. */
export function inputGradFrom(kernel: KernelName | null, shapes: BatchedShapes): KernelUse[] {
  return [calls(kernel, inputGrad(0, sizeOf(shapes.inputs[0] as Shape)))];
}

/** A kernel call (or, for null, the op's own allocation) returning `buffers`. */
export function calls(kernel: KernelName | null, ...buffers: BufferUse[]): KernelUse {
  return { kernel, buffers };
}

/** A buffer of `role` holding `values` numbers of the tensors' width. */
export function buffer(role: Exclude<BufferRole, 'inputGrad'>, values: number): BufferUse {
  return { role, values };
}

/** The gradient of input `input`, of `values` numbers. */
export function inputGrad(input: number, values: number): BufferUse {
  return { role: 'inputGrad', values, input };
}

/** A ParamSpec; `trainable` is false for buffers such as BN's running statistics. */
export function param(name: string, shape: Shape, init: Init, trainable = true): ParamSpec {
  return { name, shape, init, trainable };
}
