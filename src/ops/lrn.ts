import { buffer, calls, inputGradFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import type { LrnAttrs } from './attrs.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type { LrnAttrs };

interface Saved {
  x: Tensor;
  y: Tensor;
  scale: Tensor;
}

/** The LRN op: saves its per-value scale for backward. */
export const lrn: Op<LrnAttrs, Saved> = {
  type: 'lrn',
  backwardReads: { inputs: true, output: true },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || x.length !== 3) throw new ShapeError('lrn', 'expects one [C, H, W] volume', inputs);
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    const { y, scale } = ctx.backend.lrn(input, attrs);
    return { output: y, saved: { x: input, y, scale } };
  },

  backward(ctx, { x, y, scale }, dy, _params, attrs) {
    return { inputs: [ctx.backend.lrnGrad(dy, x, y, scale, attrs)], params: {} };
  },

  release({ scale }) {
    scale.dispose();
  },

  // The output and the per-value scale backward reuses (saved in inference too, then released).
  forwardMemory: (shapes) => [calls('lrn', buffer('output', sizeOf(shapes.output)), buffer('saved', sizeOf(shapes.output)))],
  backwardMemory: (shapes) => inputGradFrom('lrnGrad', shapes),
};
