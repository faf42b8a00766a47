import { ShapeError } from '../../ops/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import type { NativeRuntime } from './runtime.js';

/**
 * Fully-connected kernels on the native packed GEMM (native/src/linear.c), matching
 * src/backends/reference/linear.ts; operands are read through strides, never transposed in memory.
 */

function dims2(t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError('fc', 'expects a matrix', [t.shape]);
  return t.shape as [number, number];
}

/** y (N, M) = x (N, K) weight (M, K)^T + bias (M), ReLU'd when `relu`. */
export function linear(rt: NativeRuntime, x: Tensor, weight: Tensor, bias: Tensor | null, relu = false): Tensor {
  const [n, k] = dims2(x);
  const [m, wk] = dims2(weight);
  if (wk !== k || (bias !== null && bias.size !== m)) {
    throw new ShapeError('fc', 'input, weight and bias do not match', [x.shape, weight.shape, ...(bias ? [bias.shape] : [])]);
  }
  const y = Tensor.empty([n, m], 'float32', rt.allocator);
  rt.used(rt.addon.linear(rt.ctx, rt.f32(x), rt.f32(weight), bias === null ? null : rt.f32(bias), rt.f32(y), n, k, m, relu ? 1 : 0));
  return y;
}

/** dx (N, K) = dy (N, M) weight (M, K). */
export function linearGradInput(rt: NativeRuntime, dy: Tensor, weight: Tensor): Tensor {
  const [n, m] = dims2(dy);
  const [wm, k] = dims2(weight);
  if (wm !== m) throw new ShapeError('fc', 'dy and weight do not match', [dy.shape, weight.shape]);
  const dx = Tensor.empty([n, k], 'float32', rt.allocator);
  rt.used(rt.addon.linearGrad(rt.ctx, rt.f32(dy), rt.f32(weight), rt.f32(dx), n, k, m, 0));
  return dx;
}

/** dweight (M, K) = dy^T (M, N) x (N, K). */
export function linearGradWeight(rt: NativeRuntime, dy: Tensor, x: Tensor): Tensor {
  const [n, m] = dims2(dy);
  const [xn, k] = dims2(x);
  if (xn !== n) throw new ShapeError('fc', 'dy and x do not match', [dy.shape, x.shape]);
  const dw = Tensor.empty([m, k], 'float32', rt.allocator);
  rt.used(rt.addon.linearGrad(rt.ctx, rt.f32(dy), rt.f32(x), rt.f32(dw), n, k, m, 1));
  return dw;
}
