import { calls, inputGrad, outputFrom, type KernelUse, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** The element-wise product of two values of one shape: the join of `MUL[a | b]` (a gate, an ONNX Mul of two computed tensors). */
export type MulAttrs = Record<string, never>;

interface Saved {
  a: Tensor;
  b: Tensor;
}

/** The shape both inputs of a two-input element-wise join share, or a ShapeError naming both. */
export function sharedShape(op: string, inputs: readonly Shape[]): Shape {
  const [a, b] = inputs;
  if (inputs.length !== 2 || a === undefined || b === undefined || !sameShape(a, b)) {
    throw new ShapeError(op, 'expects two values of the same shape', inputs);
  }
  return a;
}

/**
 * The MUL op: y = a * b. Backward reads both inputs: da = dy * b, db = dy * a, each only where it is
 * wanted (a branch that is the images needs none).
 */
export const mul: Op<MulAttrs, Saved> = {
  type: 'mul',
  backwardReads: { inputs: true, output: false },
  outputShape: (inputs) => sharedShape('mul', inputs),
  params: () => [],
  macs: () => 0,

  forward(ctx, [a, b]) {
    return { output: ctx.backend.mul(a as Tensor, b as Tensor), saved: { a: a as Tensor, b: b as Tensor } };
  },

  backward(ctx, { a, b }, dy, _params, _attrs, wanted = [true, true]) {
    return { inputs: [wanted[0] === false ? null : ctx.backend.mul(dy, b), wanted[1] === false ? null : ctx.backend.mul(dy, a)], params: {} };
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('mul', shapes),
  backwardMemory: ({ output }, _attrs, wanted) => {
    const uses: KernelUse[] = [];
    if (wanted[0] !== false) uses.push(calls('mul', inputGrad(0, sizeOf(output))));
    if (wanted[1] !== false) uses.push(calls('mul', inputGrad(1, sizeOf(output))));
    return uses;
  },
};
