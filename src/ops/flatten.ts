import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Flattens each image's volume to a vector in C, H, W order: (N, C, H, W) -> (N, C*H*W). */
export type FlattenAttrs = Record<string, never>;

interface Saved {
  xShape: Shape;
}

/** The FLATTEN op: a copy of each image's volume as a vector. */
export const flatten: Op<FlattenAttrs, Saved> = {
  type: 'flatten',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined) throw new ShapeError('flatten', 'expects one input', inputs);
    return [sizeOf(x)];
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x]) {
    const input = x as Tensor;
    const copy = input.clone(ctx.backend.allocator);
    return { output: copy.reshape([input.shape[0] as number, sizeOf(input.shape.slice(1))]), saved: { xShape: input.shape } };
  },

  backward(ctx, { xShape }, dy) {
    return { inputs: [dy.clone(ctx.backend.allocator).reshape(xShape)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom(null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};
