import { calls, inputGrad, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sameShape, sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Element-wise sum of two volumes of one shape: the join of a residual connection. */
export type AddAttrs = Record<string, never>;

/** The ADD op: a + b; backward hands dy to both inputs. */
export const add: Op<AddAttrs, null> = {
  type: 'add',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs) {
    const [a, b] = inputs;
    if (inputs.length !== 2 || a === undefined || b === undefined || !sameShape(a, b)) {
      throw new ShapeError('add', 'expects two volumes of the same shape', inputs);
    }
    return a;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [a, b]) {
    return { output: ctx.backend.add(a as Tensor, b as Tensor), saved: null };
  },

  backward(ctx, _saved, dy) {
    return { inputs: [dy.clone(ctx.backend.allocator), dy.clone(ctx.backend.allocator)], params: {} };
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('add', shapes),
  // Two copies of dy, one per input.
  backwardMemory: ({ output }) => [calls(null, inputGrad(0, sizeOf(output))), calls(null, inputGrad(1, sizeOf(output)))],
};
