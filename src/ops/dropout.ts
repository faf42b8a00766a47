import { buffer, calls, inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * DROPOUT (inverted): in training each value is zeroed with probability p and the survivors are
 * scaled by 1/(1-p), so inference is the identity. The mask is drawn from the seeded generator.
 */
export interface DropoutAttrs {
  /** Probability of dropping a value, in [0, 1). */
  p: number;
}

type Saved = Tensor | null;

/** The DROPOUT op (inverted): a seeded mask in training, a copy in inference. */
export const dropout: Op<DropoutAttrs, Saved> = {
  type: 'dropout',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs, attrs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined) throw new ShapeError('dropout', 'expects one input', inputs);
    if (!(attrs.p >= 0 && attrs.p < 1)) throw new ShapeError('dropout', `p must be in [0, 1), got ${attrs.p}`);
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    // NOTE: a copy, not the input itself, so that every node owns its output; FC-sized, so cheap.
    if (!ctx.training || attrs.p === 0) return { output: input.clone(ctx.backend.allocator), saved: null };
    const mask = Tensor.zeros(input.shape, input.dtype, ctx.backend.allocator);
    for (let i = 0; i < mask.size; i++) mask.data[i] = ctx.rng.next() >= attrs.p ? 1 : 0;
    return { output: ctx.backend.mulMask(input, mask, 1 / (1 - attrs.p)), saved: mask };
  },

  backward(ctx, mask, dy, _params, attrs) {
    if (mask === null) return { inputs: [dy.clone(ctx.backend.allocator)], params: {} };
    return { inputs: [ctx.backend.mulMask(dy, mask, 1 / (1 - attrs.p))], params: {} };
  },

  release(mask) {
    mask?.dispose();
  },

  // The mask the op draws, then the masked output; without a mask, a copy.
  forwardMemory(shapes, attrs, training) {
    if (!training || attrs.p === 0) return outputFrom(null, shapes);
    return [calls(null, buffer('saved', sizeOf(shapes.output))), ...outputFrom('mulMask', shapes)];
  },
  backwardMemory: (shapes, attrs) => inputGradFrom(attrs.p === 0 ? null : 'mulMask', shapes),
};
