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
import { flatten, type FlattenAttrs } from './flatten.js';
import { softmax, type SoftmaxAttrs } from './softmax.js';
import { affine, type AffineAttrs } from './affine.js';
import { leakyRelu, type LeakyReluAttrs } from './leakyrelu.js';
import { pad, type PadAttrs } from './pad.js';

/** Every layer type, by the name a net spec uses, with the attributes it takes. */
export interface OpAttrs {
  conv: Conv2dAttrs;
  maxpool: PoolAttrs;
  avgpool: AvgPoolAttrs;
  globalavgpool: GlobalAvgPoolAttrs;
  fc: LinearAttrs;
  relu: ReluAttrs;
  bn: BatchNormAttrs;
  dropout: DropoutAttrs;
  lrn: LrnAttrs;
  add: AddAttrs;
  concat: ConcatAttrs;
  flatten: FlattenAttrs;
  softmax: SoftmaxAttrs;
  affine: AffineAttrs;
  leakyrelu: LeakyReluAttrs;
  pad: PadAttrs;
}

export type OpType = keyof OpAttrs;

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
  flatten,
  softmax,
  affine,
  leakyrelu: leakyRelu,
  pad,
};

export type { Op } from './op.js';
export type { Conv2dAttrs, PoolAttrs, AvgPoolAttrs, LinearAttrs, BatchNormAttrs, DropoutAttrs, LrnAttrs, AffineAttrs, LeakyReluAttrs, PadAttrs };
