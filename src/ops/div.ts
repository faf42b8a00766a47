import { calls, inputGrad, outputFrom, type KernelUse, type Op } from './op.js';
import { sharedShape } from './mul.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** The element-wise quotient of two values of one shape: the join of `DIV[a | b]` (an ONNX Div of two computed tensors). */
export type DivAttrs = Record<string, never>;

interface Saved {
  a: Tensor;
  b: Tensor;
}

/**
 * The DIV op: y = a / b, IEEE division (x / 0 is infinite, as in PyTorch and ONNX). Backward reads
 * both inputs: da = dy / b, db = -dy * a / b^2, each only where it is wanted.
 */
export const div: Op<DivAttrs, Saved> = {
  type: 'div',
  backwardReads: { inputs: true, output: false },
  outputShape: (inputs) => sharedShape('div', inputs),
  params: () => [],
  macs: () => 0,

  forward(ctx, [a, b]) {
    return { output: ctx.backend.div(a as Tensor, b as Tensor), saved: { a: a as Tensor, b: b as Tensor } };
  },

  backward(ctx, { a, b }, dy, _params, _attrs, wanted = [true, true]) {
    return {
      inputs: [wanted[0] === false ? null : ctx.backend.div(dy, b), wanted[1] === false ? null : ctx.backend.divGradDivisor(dy, a, b)],
      params: {},
    };
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('div', shapes),
  backwardMemory: ({ output }, _attrs, wanted) => {
    const uses: KernelUse[] = [];
    if (wanted[0] !== false) uses.push(calls('div', inputGrad(0, sizeOf(output))));
    if (wanted[1] !== false) uses.push(calls('divGradDivisor', inputGrad(1, sizeOf(output))));
    return uses;
  },
};
