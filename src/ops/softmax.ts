import { inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * SOFTMAX: probabilities from scores. Without `axis`, over each image's vector of K scores, (N, K) ->
 * (N, K). With `axis`, over that one axis of each image's values (0 the channels of [C, H, W], 1 the
 * rows, 2 the columns), the others kept: per pixel over the channels is a segmentation net's softmax,
 * and what ONNX's Softmax on a volume computes. As a layer it is for inference; training folds it into
 * the cross-entropy loss (see `softmax_cross_entropy.ts`), which is both cheaper and stable.
 */
export interface SoftmaxAttrs {
  /** The per-image axis the probabilities are taken over; absent for the scores of a vector. */
  axis?: number;
}

/** The output, and its values as `outer` runs of `span` values `inner` apart along the axis. */
interface Saved extends Runs {
  y: Tensor;
}

interface Runs {
  outer: number;
  span: number;
  inner: number;
}

/** The SOFTMAX op, for inference; backward reads its output. */
export const softmax: Op<SoftmaxAttrs, Saved> = {
  type: 'softmax',
  backwardReads: { inputs: false, output: true },
  outputShape(inputs, attrs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined) throw new ShapeError('softmax', 'expects one input', inputs);
    if (attrs.axis === undefined && x.length !== 1) throw new ShapeError('softmax', 'expects one [K] vector of scores (SOFTMAX(over=c) on a volume takes it over the channels)', inputs);
    if (attrs.axis !== undefined && !(Number.isInteger(attrs.axis) && attrs.axis >= 0 && attrs.axis < x.length)) {
      throw new ShapeError('softmax', `axis ${attrs.axis} is not one of the ${x.length} axes of each image's values`, inputs);
    }
    return x;
  },
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    const runs = layout(input.shape, attrs);
    // Along the last axis each run is a row of scores, which the backend's kernel takes.
    const y = runs.inner === 1 ? ctx.backend.softmax(input.reshape([runs.outer, runs.span])).reshape(input.shape) : softmaxStrided(input, runs, ctx.backend.allocator);
    return { output: y, saved: { y, ...runs } };
  },

  // dx_i = y_i (dy_i - sum_j dy_j y_j), along the axis.
  backward(ctx, { y, outer, span: k, inner }, dy) {
    const dx = dy.clone(ctx.backend.allocator);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const start = o * k * inner + i;
        let dot = 0;
        for (let j = 0; j < k; j++) dot += (dy.data[start + j * inner] as number) * (y.data[start + j * inner] as number);
        for (let j = 0; j < k; j++) dx.data[start + j * inner] = (y.data[start + j * inner] as number) * ((dy.data[start + j * inner] as number) - dot);
      }
    }
    return { inputs: [dx], params: {} };
  },

  release() {},
  forwardMemory: (shapes, attrs) => outputFrom(layout(shapes.output, attrs).inner === 1 ? 'softmax' : null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};

/** A batched shape as runs along the axis: `outer` runs of `span` values, `inner` apart. */
function layout(batched: Shape, attrs: SoftmaxAttrs): Runs {
  const axis = attrs.axis === undefined ? batched.length - 1 : attrs.axis + 1;
  return { outer: sizeOf(batched.slice(0, axis)), span: batched[axis] as number, inner: sizeOf(batched.slice(axis + 1)) };
}

/** Softmax along an axis that is not the last, run by run; the maximum is subtracted so exp cannot overflow. */
function softmaxStrided(x: Tensor, { outer, span, inner }: Runs, allocator: Tensor['allocator']): Tensor {
  const y = Tensor.empty(x.shape, x.dtype, allocator);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * span * inner + i;
      let max = -Infinity;
      for (let j = 0; j < span; j++) max = Math.max(max, x.data[start + j * inner] as number);
      let sum = 0;
      for (let j = 0; j < span; j++) sum += Math.exp((x.data[start + j * inner] as number) - max);
      for (let j = 0; j < span; j++) y.data[start + j * inner] = Math.exp((x.data[start + j * inner] as number) - max) / sum;
    }
  }
  return y;
}
