import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { Tensor } from '../tensor/tensor.js';

/** LEAKYRELU: x where x >= 0, alpha * x elsewhere, element-wise; any shape (ONNX LeakyRelu). */
export interface LeakyReluAttrs {
  /** The slope for negative inputs (ONNX's default, which the importer uses when unset, is 0.01). */
  alpha: number;
}

interface Saved {
  x: Tensor;
}

/** The LEAKYRELU op: backward reads its input's sign. */
export const leakyRelu: Op<LeakyReluAttrs, Saved> = {
  type: 'leakyrelu',
  backwardReads: { inputs: true, output: false },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined) throw new ShapeError('leakyrelu', 'expects one input', inputs);
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, { alpha }) {
    const input = x as Tensor;
    const y = Tensor.empty(input.shape, input.dtype, ctx.backend.allocator);
    for (let i = 0; i < input.size; i++) {
      const v = input.data[i] as number;
      y.data[i] = v < 0 ? alpha * v : v;
    }
    return { output: y, saved: { x: input } };
  },

  backward(ctx, { x }, dy, _params, { alpha }) {
    const dx = Tensor.empty(dy.shape, dy.dtype, ctx.backend.allocator);
    for (let i = 0; i < dy.size; i++) dx.data[i] = (x.data[i] as number) < 0 ? alpha * (dy.data[i] as number) : (dy.data[i] as number);
    return { inputs: [dx], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom(null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};
