import type { Conv2dAttrs } from '../../ops/attrs.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { affineGeometry, convGeometry, type ConvGeometry } from '../conv_geometry.js';
import { scaleChannelsInPlace } from '../fallback.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import type { NativeRuntime } from './runtime.js';

/**
 * Convolution on the native kernels (native/src/conv.c, conv_grad.c), matching
 * src/backends/reference/conv2d.ts: the forward as a packed GEMM whose B blocks are packed straight
 * from the image, bias and ReLU fused; conv2dGradInput as the flipped convolution (stride 1, "same")
 * or GEMM + col2im; conv2dGradWeight as a split-K GEMM. A window that covers its whole unpadded
 * input (LeNet's C5) is a fully-connected layer and runs on the linear kernels.
 */

/** The 14 integers every conv binding takes after its tensors, in native/src/napi_args.c's order. */
export function geometryArgs(g: ConvGeometry): number[] {
  return [g.n, g.c, g.h, g.w, g.o, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.groups];
}

/** True when the window covers the whole unpadded input: one output position, im2col(x[n]) = x[n]. */
export function fullyConnected(g: ConvGeometry): boolean {
  return g.groups === 1 && g.kh === g.h && g.kw === g.w && g.ph === 0 && g.pw === 0 && g.oh === 1 && g.ow === 1;
}

/** `t` (N, ...) seen as (N, rest), sharing its storage (the view owns nothing). */
function flat(t: Tensor): Tensor {
  const n = t.shape[0] ?? 0;
  return Tensor.wrap([n, n === 0 ? 0 : t.size / n], t.data);
}

/** y (N, O, OH, OW) = x conv weight + bias, ReLU'd when `relu`. */
export function conv2d(rt: NativeRuntime, x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs, relu = false): Tensor {
  const g = convGeometry(x.shape, weight.shape, attrs);
  if (bias !== null && bias.size !== g.o) throw new RangeError(`conv: bias has ${bias.size} values for ${g.o} filters`);
  if (fullyConnected(g)) return linear(rt, flat(x), flat(weight), bias, relu).reshape([g.n, g.o, 1, 1]);
  return convKernel(rt, g, x, weight, null, bias, null, relu);
}

/** y = (x conv weight) * scale[o] + shift[o] (+ residual), ReLU'd when `relu`: a conv and the BN after it (and a block's shortcut), in inference. */
export function conv2dAffine(
  rt: NativeRuntime,
  x: Tensor,
  weight: Tensor,
  scale: Tensor,
  shift: Tensor,
  attrs: Conv2dAttrs,
  relu: boolean,
  residual: Tensor | null,
): Tensor {
  const g = affineGeometry(x, weight, scale, shift, attrs, residual);
  if (!fullyConnected(g)) return convKernel(rt, g, x, weight, scale, shift, residual, relu);
  const y = linear(rt, flat(x), flat(weight), null).reshape([g.n, g.o, 1, 1]);
  scaleChannelsInPlace(y, scale, shift, relu, residual);
  return y;
}

function convKernel(rt: NativeRuntime, g: ConvGeometry, x: Tensor, weight: Tensor, scale: Tensor | null, bias: Tensor | null, residual: Tensor | null, relu: boolean): Tensor {
  // The kernel writes every output (zeros, plus the bias, when C/groups * KH * KW is 0).
  const y = Tensor.empty([g.n, g.o, g.oh, g.ow], 'float32', rt.allocator);
  const optional = (t: Tensor | null): Float32Array | null => (t === null ? null : rt.f32(t));
  rt.used(rt.addon.conv2d(rt.ctx, rt.f32(x), rt.f32(weight), optional(scale), optional(bias), optional(residual), rt.f32(y), relu ? 1 : 0, ...geometryArgs(g)));
  return y;
}

/** dx (N, C, H, W) from dy (N, O, OH, OW) and weight (O, C/groups, KH, KW). */
export function conv2dGradInput(rt: NativeRuntime, dy: Tensor, weight: Tensor, xShape: Shape, attrs: Conv2dAttrs): Tensor {
  const g = convGeometry(xShape, weight.shape, attrs);
  if (fullyConnected(g)) return linearGradInput(rt, flat(dy), flat(weight)).reshape(xShape);
  if (dy.size !== g.n * g.o * g.oh * g.ow) throw new RangeError(`conv: dy has ${dy.size} values, expected ${g.n * g.o * g.oh * g.ow}`);
  // Every dx value is written: zeroed by its job then summed into (col2im), or written whole (flipped).
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  rt.used(rt.addon.conv2dGradInput(rt.ctx, rt.f32(dy), rt.f32(weight), rt.f32(dx), ...geometryArgs(g)));
  return dx;
}

/** dweight (O, C/groups, KH, KW) = sum over images of dy[n] (O, P) . im2col(x[n])^T (P, K). */
export function conv2dGradWeight(rt: NativeRuntime, dy: Tensor, x: Tensor, attrs: Conv2dAttrs): Tensor {
  const weightShape = [dy.shape[1] ?? 0, (x.shape[1] ?? 0) / attrs.groups, attrs.kernel[0], attrs.kernel[1]];
  const g = convGeometry(x.shape, weightShape, attrs);
  if (fullyConnected(g)) return linearGradWeight(rt, flat(dy), flat(x)).reshape(weightShape);
  if (dy.size !== g.n * g.o * g.oh * g.ow) throw new RangeError(`conv: dy has ${dy.size} values, expected ${g.n * g.o * g.oh * g.ow}`);
  const dw = Tensor.empty(weightShape, 'float32', rt.allocator);
  rt.used(rt.addon.conv2dGradWeight(rt.ctx, rt.f32(x), rt.f32(dy), rt.f32(dw), ...geometryArgs(g)));
  return dw;
}
