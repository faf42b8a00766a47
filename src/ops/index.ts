import type { Op } from './op.js';
import { conv2d, type Conv2dAttrs } from './conv2d.js';
import { maxPool2d, type PoolAttrs } from './maxpool2d.js';
import { avgPool2d, type AvgPoolAttrs } from './avgpool2d.js';
import { globalAvgPool, type GlobalAvgPoolAttrs } from './globalavgpool.js';
import { linear, type LinearAttrs } from './linear.js';
import { relu, type ReluAttrs } from './relu.js';
import { batchNorm, type BatchNormAttrs } from './batchnorm.js';
import { dropout, type DropoutAttrs } from './dropout.js';
import { lrn, type LrnAttrs } from './lrn.js';
import { add, type AddAttrs } from './add.js';
import { concat, type ConcatAttrs } from './concat.js';
import { mul, type MulAttrs } from './mul.js';
import { div, type DivAttrs } from './div.js';
import { flatten, type FlattenAttrs } from './flatten.js';
import { softmax, type SoftmaxAttrs } from './softmax.js';
import { affine, type AffineAttrs } from './affine.js';
import { leakyRelu, type LeakyReluAttrs } from './leakyrelu.js';
import { pad, type PadAttrs } from './pad.js';
import { adaptiveAvgPool2d, type AdaptiveAvgPoolAttrs } from './adaptiveavgpool.js';

/** Every layer type, by the name a net spec uses, with the attributes it takes. */
export interface OpAttrs {
  /** CONV. */
  conv: Conv2dAttrs;
  /** POOL (max). */
  maxpool: PoolAttrs;
  /** POOL (average). */
  avgpool: AvgPoolAttrs;
  /** Average over each whole (H, W) plane: (N, C, H, W) -> (N, C, 1, 1). */
  globalavgpool: GlobalAvgPoolAttrs;
  /** FC. */
  fc: LinearAttrs;
  /** RELU. */
  relu: ReluAttrs;
  /** BN (batch normalisation). */
  bn: BatchNormAttrs;
  /** DROPOUT. */
  dropout: DropoutAttrs;
  /** LRN. */
  lrn: LrnAttrs;
  /** The sum of two volumes of one shape (a residual block's join). */
  add: AddAttrs;
  /** Volumes concatenated along channels (an inception module's join). */
  concat: ConcatAttrs;
  /** The element-wise product of two values of one shape (MUL's join). */
  mul: MulAttrs;
  /** The element-wise quotient of two values of one shape (DIV's join). */
  div: DivAttrs;
  /** (N, C, H, W) -> (N, C*H*W), in PyTorch's order. */
  flatten: FlattenAttrs;
  /** SOFTMAX over the scores of each image. */
  softmax: SoftmaxAttrs;
  /** AFFINE: a fixed per-channel scale and shift (an input normalisation), its scale and shift buffers not trained. */
  affine: AffineAttrs;
  /** LEAKYRELU: x where x >= 0, alpha * x elsewhere. */
  leakyrelu: LeakyReluAttrs;
  /** ADAPTIVEPOOL: average pooling to a fixed grid, (N, C, H, W) -> (N, C, OH, OW), PyTorch's adaptive windows. */
  adaptiveavgpool: AdaptiveAvgPoolAttrs;
  /** PAD: constant padding of each image's planes, (N, C, H, W) -> (N, C, H + top + bottom, W + left + right). */
  pad: PadAttrs;
}

/** The name of a layer type in a net spec: `conv`, `maxpool`, `fc`, ... */
export type OpType = keyof OpAttrs;

/** Every op by its OpType: the shape rule, parameters, forward and backward the engine runs. */
export const ops: { [K in OpType]: Op<OpAttrs[K], unknown> } = {
  conv: conv2d,
  maxpool: maxPool2d,
  avgpool: avgPool2d,
  globalavgpool: globalAvgPool,
  fc: linear,
  relu,
  bn: batchNorm,
  dropout,
  lrn,
  add,
  concat,
  mul,
  div,
  flatten,
  softmax,
  affine,
  leakyrelu: leakyRelu,
  pad,
  adaptiveavgpool: adaptiveAvgPool2d,
};

export type { Op } from './op.js';
export type { Conv2dAttrs, PoolAttrs, AvgPoolAttrs, LinearAttrs, BatchNormAttrs, DropoutAttrs, LrnAttrs, AffineAttrs, LeakyReluAttrs, PadAttrs, AdaptiveAvgPoolAttrs };
