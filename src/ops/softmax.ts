import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * SOFTMAX: class probabilities from scores, (N, K) -> (N, K). As a layer it is for inference;
 * training folds it into the cross-entropy loss (see `softmax_cross_entropy.ts`), which is both cheaper and stable.
 */
export type SoftmaxAttrs = Record<string, never>;

interface Saved {
  y: Tensor;
}

/** The SOFTMAX op, for inference; backward reads its output. */
export const softmax: Op<SoftmaxAttrs, Saved> = {
  type: 'softmax',
  backwardReads: { inputs: false, output: true },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || x.length !== 1) throw new ShapeError('softmax', 'expects one [K] vector of scores', inputs);
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x]) {
    const y = ctx.backend.softmax(x as Tensor);
    return { output: y, saved: { y } };
  },

  // dx_i = y_i (dy_i - sum_j dy_j y_j), per row.
  backward(ctx, { y }, dy) {
    const dx = dy.clone(ctx.backend.allocator);
    const [n, k] = y.shape as [number, number];
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let j = 0; j < k; j++) dot += (dy.data[r * k + j] as number) * (y.data[r * k + j] as number);
      for (let j = 0; j < k; j++) dx.data[r * k + j] = (y.data[r * k + j] as number) * ((dy.data[r * k + j] as number) - dot);
    }
    return { inputs: [dx], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom('softmax', shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};
