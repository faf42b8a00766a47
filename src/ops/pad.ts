import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * PAD: constant padding of each image's planes, `top`, `left`, `bottom`, `right` rows and columns:
 * (N, C, H, W) -> (N, C, H + top + bottom, W + left + right). The fill is `value`, or -infinity with
 * `forMax` (before a max pool, where padding never wins). Asymmetric and `same` padding (ONNX's
 * `pads`, `auto_pad`) is a PAD before a window with none.
 */
export interface PadAttrs {
  /** Rows added above each plane, a whole number >= 0. */
  top: number;
  /** Columns added left of each plane, a whole number >= 0. */
  left: number;
  /** Rows added below each plane, a whole number >= 0. */
  bottom: number;
  /** Columns added right of each plane, a whole number >= 0. */
  right: number;
  /** The fill value of the added rows and columns (ONNX's constant mode, 0 by default); ignored with `forMax`. */
  value: number;
  /** Fills with -infinity instead of `value`, for a pad before a max pool so that padding never wins. */
  forMax: boolean;
}

interface Saved {
  height: number;
  width: number;
}

/** The PAD op: backward crops the gradient back to the input's planes. */
export const pad: Op<PadAttrs, Saved> = {
  type: 'pad',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs, a) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || x.length !== 3) throw new ShapeError('pad', 'expects one [C, H, W] volume', inputs);
    if (![a.top, a.left, a.bottom, a.right].every((p) => Number.isInteger(p) && p >= 0)) throw new ShapeError('pad', 'paddings must be whole numbers of at least 0');
    return [x[0] as number, (x[1] as number) + a.top + a.bottom, (x[2] as number) + a.left + a.right];
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, a) {
    const input = x as Tensor;
    const [n, c, h, w] = input.shape as [number, number, number, number];
    const oh = h + a.top + a.bottom;
    const ow = w + a.left + a.right;
    // y is (N, C, OH, OW); x (N, C, H, W) sits at (top, left) in each plane.
    const y = Tensor.empty([n, c, oh, ow], input.dtype, ctx.backend.allocator);
    y.data.fill(a.forMax ? -Infinity : a.value);
    for (let plane = 0; plane < n * c; plane++) {
      for (let i = 0; i < h; i++) {
        const from = (plane * h + i) * w;
        y.data.set(input.data.subarray(from, from + w), (plane * oh + i + a.top) * ow + a.left);
      }
    }
    return { output: y, saved: { height: h, width: w } };
  },

  backward(ctx, { height: h, width: w }, dy, _params, a) {
    const [n, c, oh, ow] = dy.shape as [number, number, number, number];
    const dx = Tensor.empty([n, c, h, w], dy.dtype, ctx.backend.allocator);
    for (let plane = 0; plane < n * c; plane++) {
      for (let i = 0; i < h; i++) {
        const from = (plane * oh + i + a.top) * ow + a.left;
        dx.data.set(dy.data.subarray(from, from + w), (plane * h + i) * w);
      }
    }
    return { inputs: [dx], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom(null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};
