import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import type { AdaptiveAvgPoolAttrs } from './attrs.js';
import { kernelOf } from '../backends/fallback.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type { AdaptiveAvgPoolAttrs };

interface Saved {
  xShape: Shape;
}

/**
 * ADAPTIVEPOOL: average pooling to a fixed grid whatever the input's size, (N, C, H, W) -> (N, C, OH,
 * OW), windows [floor(i*H/OH), ceil((i+1)*H/OH)) as PyTorch's AdaptiveAvgPool2d. Its kernels are
 * optional in the backend contract; the reference ones run where a backend has none.
 */
export const adaptiveAvgPool2d: Op<AdaptiveAvgPoolAttrs, Saved> = {
  type: 'adaptiveavgpool',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs, attrs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || x.length !== 3) throw new ShapeError('adaptiveavgpool', 'expects one [C, H, W] volume', inputs);
    const [oh, ow] = attrs.output;
    if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh >= 1 && ow >= 1)) throw new ShapeError('adaptiveavgpool', `an output grid of ${oh}x${ow}: expected whole numbers of at least 1`, inputs);
    return [x[0] as number, oh, ow];
  },
  params: () => [],
  // NOTE: additions only, as for the other pools.
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    return { output: kernelOf(ctx.backend, 'adaptiveAvgPool2d')(input, attrs), saved: { xShape: input.shape } };
  },

  backward(ctx, { xShape }, dy, _params, attrs) {
    return { inputs: [kernelOf(ctx.backend, 'adaptiveAvgPool2dGrad')(dy, xShape, attrs)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom('adaptiveAvgPool2d', shapes),
  backwardMemory: (shapes) => inputGradFrom('adaptiveAvgPool2dGrad', shapes),
};
