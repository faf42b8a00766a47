import { inputGradFrom, outputFrom, type Op } from './op.js';
import { pooledShape } from './maxpool2d.js';
import type { AvgPoolAttrs } from './attrs.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type { AvgPoolAttrs };

interface Saved {
  xShape: Shape;
}

/** The average POOL op. */
export const avgPool2d: Op<AvgPoolAttrs, Saved> = {
  type: 'avgpool',
  backwardReads: { inputs: false, output: false },
  outputShape: (inputs, attrs) => pooledShape('avgpool', inputs, attrs),
  params: () => [],
  // NOTE: additions only; multiply-adds count the weighted layers (CONV, FC), as published figures do.
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    return { output: ctx.backend.avgPool2d(input, attrs), saved: { xShape: input.shape } };
  },

  backward(ctx, { xShape }, dy, _params, attrs) {
    return { inputs: [ctx.backend.avgPool2dGrad(dy, xShape, attrs)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom('avgPool2d', shapes),
  backwardMemory: (shapes) => inputGradFrom('avgPool2dGrad', shapes),
};
