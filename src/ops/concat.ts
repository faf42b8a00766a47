import { calls, inputGrad, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Concatenation along channels of volumes with equal H and W: the join of an inception module. */
export type ConcatAttrs = Record<string, never>;

interface Saved {
  channels: number[];
}

/** The CONCAT op: inputs joined along channels; backward splits dy back. */
export const concat: Op<ConcatAttrs, Saved> = {
  type: 'concat',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs) {
    const first = inputs[0];
    if (first === undefined || inputs.some((s) => s.length !== 3 || s[1] !== first[1] || s[2] !== first[2])) {
      throw new ShapeError('concat', 'expects [C, H, W] volumes that share H and W', inputs);
    }
    return [inputs.reduce((c, s) => c + (s[0] as number), 0), first[1] as number, first[2] as number];
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, inputs) {
    return { output: ctx.backend.concatChannels(inputs), saved: { channels: inputs.map((x) => x.shape[1] as number) } };
  },

  backward(ctx, { channels }, dy) {
    return { inputs: ctx.backend.splitChannels(dy, channels), params: {} };
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('concatChannels', shapes),
  backwardMemory: ({ inputs }) => [calls('splitChannels', ...inputs.map((x, k) => inputGrad(k, sizeOf(x))))],
};
