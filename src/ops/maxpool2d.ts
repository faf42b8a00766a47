import { calls, buffer, inputGradFrom, outputFrom, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { windowOutput, type WindowAttrs } from './window.js';
import type { PoolAttrs } from './attrs.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { MemoryTracker } from '../memory/tracker.js';
import { dilatedExtent } from './dilation.js';
import { kernelOf } from '../backends/fallback.js';

/** Whether a max pool's window is dilated. */
function isDilatedPool(attrs: PoolAttrs): boolean {
  return attrs.dilation !== undefined && (attrs.dilation[0] !== 1 || attrs.dilation[1] !== 1);
}

export type { PoolAttrs };

interface Saved {
  argmax: Int32Array;
  xShape: Shape;
  /** The backend's tracker, which counts the indices: they are not a Tensor. */
  tracker: MemoryTracker;
}

/** The pooled [C, OH, OW] volume of a [C, H, W] input; shared by max and average pooling (a max pool's window may be dilated). */
export function pooledShape(op: string, inputs: readonly Shape[], attrs: WindowAttrs & { dilation?: readonly [number, number] }): Shape {
  const x = inputs[0];
  if (inputs.length !== 1 || x === undefined || x.length !== 3) {
    throw new ShapeError(op, 'expects one [C, H, W] volume', inputs);
  }
  const [c, h, w] = x as [number, number, number];
  const [fh, fw] = attrs.kernel;
  if (attrs.padding[0] * 2 > fh || attrs.padding[1] * 2 > fw) {
    throw new ShapeError(op, `padding ${attrs.padding.join('x')} must be at most half of the ${fh}x${fw} window`, inputs);
  }
  const [eh, ew] = dilatedExtent(attrs);
  return [
    c,
    windowOutput(op, 'height', h, eh, attrs.stride[0], attrs.padding[0], attrs.rounding),
    windowOutput(op, 'width', w, ew, attrs.stride[1], attrs.padding[1], attrs.rounding),
  ];
}

/** The max POOL op: saves the argmax of each window for backward. */
export const maxPool2d: Op<PoolAttrs, Saved> = {
  type: 'maxpool',
  backwardReads: { inputs: false, output: false },
  outputShape: (inputs, attrs) => pooledShape('maxpool', inputs, attrs),
  params: () => [],
  // NOTE: comparisons, not multiply-adds; counted as zero, as the notes count pooling weights.
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const input = x as Tensor;
    // A dilated window runs on the optional kernel (the reference one where a backend has none); its
    // argmax, like the others', is a position in the plane, so backward is the same.
    const { y, argmax } = isDilatedPool(attrs) ? kernelOf(ctx.backend, 'maxPool2dDilated')(input, attrs) : ctx.backend.maxPool2d(input, attrs);
    // The indices are not a Tensor, so the op counts them in the backend's tracker itself.
    const tracker = ctx.backend.allocator.tracker;
    tracker.allocated(argmax.byteLength);
    return { output: y, saved: { argmax, xShape: input.shape, tracker } };
  },

  backward(ctx, { argmax, xShape }, dy) {
    return { inputs: [ctx.backend.maxPool2dGrad(dy, argmax, xShape)], params: {} };
  },

  release({ argmax, tracker }) {
    tracker.freed(argmax.byteLength);
  },

  // The output, then the indices the op counts once the kernel has returned (in inference too).
  forwardMemory: (shapes, attrs) => [
    calls(isDilatedPool(attrs) ? 'maxPool2dDilated' : 'maxPool2d', buffer('output', sizeOf(shapes.output))),
    calls(null, { role: 'saved', values: sizeOf(shapes.output), bytesPerValue: Int32Array.BYTES_PER_ELEMENT }),
  ],
  backwardMemory: (shapes) => inputGradFrom('maxPool2dGrad', shapes),
};

/**
 * The max POOL in inference on a backend with `maxPool2dValues`: the values alone, no argmax (which
 * only backward reads). Not a layer of the notation: the schedule runs an undilated max POOL as it
 * where the pass has no backward.
 */
export const maxPool2dValues: Op<PoolAttrs, null> = {
  type: 'maxpool',
  backwardReads: { inputs: false, output: false },
  outputShape: (inputs, attrs) => maxPool2d.outputShape(inputs, attrs),
  params: () => [],
  macs: () => 0,

  forward(ctx, [x], _params, attrs) {
    const values = ctx.backend.maxPool2dValues;
    if (values === undefined) throw new Error(`maxpool: the ${ctx.backend.name} backend has no maxPool2dValues kernel`);
    return { output: values(x as Tensor, attrs), saved: null };
  },

  backward() {
    throw new Error('maxpool: the values-only kernel runs in inference only');
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('maxPool2dValues', shapes),
  backwardMemory: () => [],
};

/** Whether a max POOL can run as `maxPool2dValues` (its window undilated). */
export function poolsValuesAlone(attrs: PoolAttrs): boolean {
  return !isDilatedPool(attrs);
}
