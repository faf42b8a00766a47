import { buffer, calls, outputFrom, type Op } from './op.js';
import { conv2d, convLayerRules, type Conv2dAttrs } from './conv2d.js';
import { isDilated, onDenseWeight, withDenseWeight } from './dilation.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

interface Saved {
  x: Tensor;
  y: Tensor;
}

/**
 * CONV followed by RELU as one op, for a backend with the fused `conv2dRelu` kernel: the conv's
 * output is never stored, and the output is written once. Not a layer of the notation: the Net uses
 * it in place of a CONV whose only reader is a RELU. Shape, parameters and cost are the CONV's.
 */
export const conv2dRelu: Op<Conv2dAttrs, Saved> = {
  type: 'conv+relu',
  backwardReads: { inputs: true, output: true },
  frozenBackwardReads: { inputs: false, output: true },
  ...convLayerRules,

  forward(ctx, [x], params, attrs) {
    const fused = ctx.backend.conv2dRelu;
    if (fused === undefined) throw new Error(`conv+relu: the ${ctx.backend.name} backend has no conv2dRelu kernel`);
    const input = x as Tensor;
    // A dilated conv runs as a dense one (dilation.ts).
    const y = onDenseWeight(params['weight'] as Tensor, attrs, ctx.backend.allocator, (weight, dense) => fused(input, weight, params['bias'] ?? null, dense));
    return { output: y, saved: { x: input, y } };
  },

  // The RELU's backward, then the CONV's, on the gradient of the conv's output.
  backward(ctx, { x, y }, dy, params, attrs, inputGradWanted) {
    const dz = ctx.backend.reluGrad(dy, y);
    const result = conv2d.backward(ctx, { x }, dz, params, attrs, inputGradWanted);
    dz.dispose();
    return result;
  },

  release() {},

  forwardMemory: (shapes, attrs) => {
    const uses = outputFrom('conv2dRelu', shapes);
    return isDilated(attrs) ? withDenseWeight((shapes.inputs[0] as number[])[1] as number, attrs, uses) : uses;
  },

  // dz, the conv's gradients, and dz freed before backward returns.
  backwardMemory: (shapes, attrs, inputGradWanted, frozen) => [
    calls('reluGrad', buffer('temporary', sizeOf(shapes.output))),
    ...conv2d.backwardMemory(shapes, attrs, inputGradWanted, frozen),
  ],
};
