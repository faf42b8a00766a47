import type { PoolAttrs } from '../../ops/maxpool2d.js';
import { ShapeError } from '../../ops/errors.js';
import { windowOutput } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Max pooling (`maxPool`, `maxPoolGrad` in asm/kernels.ts), matching src/backends/reference/pool.ts:
 * clipped windows, first maximum wins, NaN wins. One variant, split over threads by plane.
 */

/** y (N, C, OH, OW) and the flat index in its (H, W) plane of each maximum. */
export function maxPool2d(rt: WasmRuntime, x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array } {
  if (x.shape.length !== 4) throw new ShapeError('maxpool', 'expects x (N, C, H, W)', [x.shape]);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = windowOutput('maxpool', 'height', h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.rounding);
  const ow = windowOutput('maxpool', 'width', w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.rounding);
  const y = Tensor.zeros([n, c, oh, ow]);
  const argmaxPtr = rt.allocator.allocBytes(y.size * 4);
  const d = rt.describe([n * c, h, w, oh, ow, ...attrs.kernel, ...attrs.stride, ...attrs.padding]);
  rt.run('maxPool', d, rt.input(x), rt.output(y), argmaxPtr);
  // Copied out to the JS heap: the argmax belongs to the op's saved state, which nothing frees explicitly.
  const argmax = rt.i32(argmaxPtr, y.size).slice();
  rt.allocator.freeBytes(argmaxPtr, y.size * 4);
  return { y, argmax };
}

/** dx (N, C, H, W): each dy value added to its window's maximum. */
export function maxPool2dGrad(rt: WasmRuntime, dy: Tensor, argmax: Int32Array, xShape: Shape): Tensor {
  const [n, c, h, w] = xShape as [number, number, number, number];
  if (xShape.length !== 4 || argmax.length !== dy.size) throw new ShapeError('maxpool', 'dy does not match its argmax', [dy.shape, xShape]);
  const dx = Tensor.zeros(xShape);
  const argmaxPtr = rt.scratch(argmax.byteLength);
  rt.i32(argmaxPtr, argmax.length).set(argmax);
  const planes = n * c;
  rt.run('maxPoolGrad', rt.input(dy), argmaxPtr, rt.output(dx), planes, h * w, planes === 0 ? 0 : dy.size / planes);
  return dx;
}
