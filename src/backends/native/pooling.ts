import type { AvgPoolAttrs, PoolAttrs } from '../../ops/attrs.js';
import { ShapeError } from '../../ops/errors.js';
import { windowOutput } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { NativeRuntime } from './runtime.js';

/**
 * Pooling on the native kernels (native/src/pool.c), matching src/backends/reference/pool.ts:
 * windows clipped to the input; for max, the first maximum wins and NaN wins; for average,
 * PyTorch's divisors. One plane per job.
 */

/** (N, C, OH, OW) of pooling `xShape`, and the 12 integers the pool bindings take. */
function pooled(op: string, xShape: Shape, attrs: PoolAttrs, includePad: boolean): { shape: Shape; args: number[] } {
  if (xShape.length !== 4) throw new ShapeError(op, 'expects x (N, C, H, W)', [xShape]);
  const [n, c, h, w] = xShape as [number, number, number, number];
  const oh = windowOutput(op, 'height', h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.rounding);
  const ow = windowOutput(op, 'width', w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.rounding);
  const args = [n * c, h, w, oh, ow, ...attrs.kernel, ...attrs.stride, ...attrs.padding, includePad ? 1 : 0];
  return { shape: [n, c, oh, ow], args };
}

/** y (N, C, OH, OW) and the flat index in its (H, W) plane of each maximum. */
export function maxPool2d(rt: NativeRuntime, x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array } {
  const { shape, args } = pooled('maxpool', x.shape, attrs, false);
  const y = Tensor.empty(shape, 'float32', rt.allocator);
  // On the JS heap, as the reference's: it belongs to the op's saved state, which nothing frees explicitly.
  const argmax = new Int32Array(y.size);
  rt.addon.maxPool(rt.ctx, rt.f32(x), rt.f32(y), argmax, ...args);
  return { y, argmax };
}

/** y (N, C, OH, OW) alone: max pooling in inference, where nothing reads the argmax. */
export function maxPool2dValues(rt: NativeRuntime, x: Tensor, attrs: PoolAttrs): Tensor {
  const { shape, args } = pooled('maxpool', x.shape, attrs, false);
  const y = Tensor.empty(shape, 'float32', rt.allocator);
  rt.addon.maxPool(rt.ctx, rt.f32(x), rt.f32(y), null, ...args);
  return y;
}

/** dx (N, C, H, W): each dy value added to its window's maximum. */
export function maxPool2dGrad(rt: NativeRuntime, dy: Tensor, argmax: Int32Array, xShape: Shape): Tensor {
  if (xShape.length !== 4 || dy.shape[0] !== xShape[0] || dy.shape[1] !== xShape[1] || argmax.length !== dy.size) {
    throw new ShapeError('maxpool', 'dy and argmax do not match x', [dy.shape, xShape]);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const planes = n * c;
  // The kernel zeroes each plane before adding into it.
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  rt.addon.maxPoolGrad(rt.ctx, rt.f32(dy), argmax, rt.f32(dx), planes, h * w, planes === 0 ? 0 : dy.size / planes);
  return dx;
}

/** y (N, C, OH, OW) = the mean of each window of x (N, C, H, W). */
export function avgPool2d(rt: NativeRuntime, x: Tensor, attrs: AvgPoolAttrs): Tensor {
  const { shape, args } = pooled('avgpool', x.shape, attrs, attrs.countIncludePad);
  const y = Tensor.empty(shape, 'float32', rt.allocator);
  rt.addon.avgPool(rt.ctx, rt.f32(x), rt.f32(y), ...args, 0);
  return y;
}

/** dx (N, C, H, W): each dy value spread evenly, by the forward divisor, over its window. */
export function avgPool2dGrad(rt: NativeRuntime, dy: Tensor, xShape: Shape, attrs: AvgPoolAttrs): Tensor {
  const { shape, args } = pooled('avgpool', xShape, attrs, attrs.countIncludePad);
  if (dy.size !== (shape as number[]).reduce((a, b) => a * b, 1)) throw new ShapeError('avgpool', 'dy does not have the pooled shape of x', [dy.shape, xShape]);
  // The kernel zeroes each plane before adding into it.
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  rt.addon.avgPool(rt.ctx, rt.f32(dy), rt.f32(dx), ...args, 1);
  return dx;
}
