import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** RELU: max(0, x) element-wise; any shape. Backward needs only the output. */
export type ReluAttrs = Record<string, never>;

interface Saved {
  y: Tensor;
}

/** The RELU op: backward reads its output. */
export const relu: Op<ReluAttrs, Saved> = {
  type: 'relu',
  backwardReads: { inputs: false, output: true },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined) throw new ShapeError('relu', 'expects one input', inputs);
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x]) {
    const y = ctx.backend.relu(x as Tensor);
    return { output: y, saved: { y } };
  },

  backward(ctx, { y }, dy) {
    return { inputs: [ctx.backend.reluGrad(dy, y)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom('relu', shapes),
  backwardMemory: (shapes) => inputGradFrom('reluGrad', shapes),
};
