import type { AvgPoolAttrs } from '../../ops/avgpool2d.js';
import type { PoolAttrs } from '../../ops/maxpool2d.js';
import { ShapeError } from '../../ops/errors.js';
import { windowOutput } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { writePool } from './descriptors.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Pooling (`maxPool`, `maxPoolGrad`, `avgPool`, `avgPoolGrad` in asm/pooling.ts), matching
 * src/backends/reference/pool.ts: windows clipped to the input; for max, the first maximum wins and
 * NaN wins; for average, PyTorch's divisors. One variant each, split over threads by plane;
 * maxPool2dValues is maxPool told to write no argmax.
 */

function pooled(op: string, xShape: Shape, attrs: PoolAttrs): [number, number, number, number, number, number] {
  if (xShape.length !== 4) throw new ShapeError(op, 'expects x (N, C, H, W)', [xShape]);
  const [n, c, h, w] = xShape as [number, number, number, number];
  const oh = windowOutput(op, 'height', h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.rounding);
  const ow = windowOutput(op, 'width', w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.rounding);
  return [n, c, h, w, oh, ow];
}

function describe(rt: WasmRuntime, xShape: Shape, attrs: PoolAttrs, includePad: boolean): number {
  const [n, c, h, w, oh, ow] = pooled('pool', xShape, attrs);
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  return rt.describe(writePool, { planes: n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, includePad });
}

/** y (N, C, OH, OW) and the flat index in its (H, W) plane of each maximum. */
export function maxPool2d(rt: WasmRuntime, x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array } {
  const [n, c, , , oh, ow] = pooled('maxpool', x.shape, attrs);
  const y = Tensor.empty([n, c, oh, ow], 'float32', rt.allocator);
  const argmaxPtr = rt.allocator.allocBytes(y.size * 4);
  const d = describe(rt, x.shape, attrs, false);
  rt.runSized(x.size, 'maxPool', d, rt.input(x), rt.output(y), argmaxPtr);
  // Copied out to the JS heap: the argmax belongs to the op's saved state, which nothing frees explicitly.
  const argmax = rt.i32(argmaxPtr, y.size).slice();
  rt.allocator.freeBytes(argmaxPtr, y.size * 4);
  return { y, argmax };
}

/** y (N, C, OH, OW) alone: max pooling in inference, where nothing reads the argmax. */
export function maxPool2dValues(rt: WasmRuntime, x: Tensor, attrs: PoolAttrs): Tensor {
  const [n, c, , , oh, ow] = pooled('maxpool', x.shape, attrs);
  const y = Tensor.empty([n, c, oh, ow], 'float32', rt.allocator);
  rt.runSized(x.size, 'maxPool', describe(rt, x.shape, attrs, false), rt.input(x), rt.output(y), 0);
  return y;
}

/** dx (N, C, H, W): each dy value added to its window's maximum. */
export function maxPool2dGrad(rt: WasmRuntime, dy: Tensor, argmax: Int32Array, xShape: Shape): Tensor {
  const [n, c, h, w] = xShape as [number, number, number, number];
  if (xShape.length !== 4 || argmax.length !== dy.size) throw new ShapeError('maxpool', 'dy does not match its argmax', [dy.shape, xShape]);
  // The kernel zeroes each plane before adding into it.
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  const argmaxPtr = rt.scratch(argmax.byteLength);
  rt.i32(argmaxPtr, argmax.length).set(argmax);
  const planes = n * c;
  rt.runSized(dx.size, 'maxPoolGrad', rt.input(dy), argmaxPtr, rt.output(dx), planes, h * w, planes === 0 ? 0 : dy.size / planes);
  return dx;
}

/** y (N, C, OH, OW) = the mean of each window of x (N, C, H, W). */
export function avgPool2d(rt: WasmRuntime, x: Tensor, attrs: AvgPoolAttrs): Tensor {
  const [n, c, , , oh, ow] = pooled('avgpool', x.shape, attrs);
  const y = Tensor.empty([n, c, oh, ow], 'float32', rt.allocator);
  rt.runSized(x.size, 'avgPool', describe(rt, x.shape, attrs, attrs.countIncludePad), rt.input(x), rt.output(y));
  return y;
}

/** dx (N, C, H, W): each dy value spread evenly, by the forward divisor, over its window. */
export function avgPool2dGrad(rt: WasmRuntime, dy: Tensor, xShape: Shape, attrs: AvgPoolAttrs): Tensor {
  const [n, c, , , oh, ow] = pooled('avgpool', xShape, attrs);
  if (dy.size !== n * c * oh * ow) throw new ShapeError('avgpool', 'dy does not have the pooled shape of x', [dy.shape, xShape]);
  // The kernel zeroes each plane it sums into (in wasm, by its own thread) or writes it whole.
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  rt.runSized(dx.size, 'avgPoolGrad', describe(rt, xShape, attrs, attrs.countIncludePad), rt.input(dy), rt.output(dx));
  return dx;
}
