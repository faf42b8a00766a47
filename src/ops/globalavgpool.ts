import { buffer, calls, inputGrad, type Op } from './op.js';
import { ShapeError } from './errors.js';
import type { AvgPoolAttrs } from './avgpool2d.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Global average pooling: (N, C, H, W) -> (N, C, 1, 1), as GoogLeNet and ResNet end. */
export type GlobalAvgPoolAttrs = Record<string, never>;

interface Saved {
  xShape: Shape;
  window: AvgPoolAttrs;
}

function wholePlane(x: Shape): AvgPoolAttrs {
  return { kernel: [x[2] ?? 1, x[3] ?? 1], stride: [1, 1], padding: [0, 0], rounding: 'floor', countIncludePad: true };
}

/** The global average pooling op (GAP): one average per channel. */
export const globalAvgPool: Op<GlobalAvgPoolAttrs, Saved> = {
  type: 'globalavgpool',
  backwardReads: { inputs: false, output: false },

  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || x.length !== 3) {
      throw new ShapeError('globalavgpool', 'expects one [C, H, W] volume', inputs);
    }
    return [x[0] as number, 1, 1];
  },

  params: () => [],
  macs: () => 0,

  forward(ctx, [x]) {
    const input = x as Tensor;
    const window = wholePlane(input.shape);
    return { output: ctx.backend.avgPool2d(input, window), saved: { xShape: input.shape, window } };
  },

  backward(ctx, { xShape, window }, dy) {
    return { inputs: [ctx.backend.avgPool2dGrad(dy, xShape, window)], params: {} };
  },

  release() {},

  forwardMemory: ({ inputs, output }) => [{ kernel: 'avgPool2d', attrs: wholePlane(inputs[0] as Shape), buffers: [buffer('output', sizeOf(output))] }],
  backwardMemory: ({ inputs }) => [{ kernel: 'avgPool2dGrad', attrs: wholePlane(inputs[0] as Shape), buffers: [inputGrad(0, sizeOf(inputs[0] as Shape))] }],
};
