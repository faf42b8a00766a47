import type { SgdParameterUpdate, SgdUpdateOptions } from '../backend.js';
import { ShapeError } from '../../ops/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { batchNormLayout } from '../reference/batchnorm.js';
import type { NativeRuntime } from './runtime.js';

/**
 * Memory-bound kernels on the native side (native/src/elementwise.c, batchnorm.c), each matching the
 * reference kernel of the same name: relu and reluGrad, add, biasGrad, batch norm (double sums
 * per channel, one channel per job), and the optional SGD update in place.
 */

const RELU = 0;
const RELU_GRAD = 1;
const ADD = 2;

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** y = max(0, x), NaN kept. */
export function relu(rt: NativeRuntime, x: Tensor): Tensor {
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  rt.addon.elementwise(rt.ctx, RELU, rt.f32(x), null, rt.f32(y), x.size);
  return y;
}

/** dx = dy where y > 0, else 0. */
export function reluGrad(rt: NativeRuntime, dy: Tensor, y: Tensor): Tensor {
  if (dy.size !== y.size) throw new ShapeError('relu', 'dy and y differ in shape', [dy.shape, y.shape]);
  const dx = Tensor.empty(dy.shape, 'float32', rt.allocator);
  rt.addon.elementwise(rt.ctx, RELU_GRAD, rt.f32(dy), rt.f32(y), rt.f32(dx), dy.size);
  return dx;
}

/** y = a + b, both of one shape. */
export function add(rt: NativeRuntime, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a, b)) throw new ShapeError('add', 'expects two tensors of the same shape', [a.shape, b.shape]);
  const y = Tensor.empty(a.shape, 'float32', rt.allocator);
  rt.addon.elementwise(rt.ctx, ADD, rt.f32(a), rt.f32(b), rt.f32(y), a.size);
  return y;
}

/** dbias (C): dy (N, C, ...) summed over every axis but axis 1. */
export function biasGrad(rt: NativeRuntime, dy: Tensor): Tensor {
  const n = dy.shape[0] ?? 0;
  const c = dy.shape[1] ?? 0;
  const rest = n * c === 0 ? 0 : dy.size / (n * c);
  const db = Tensor.empty([c], 'float32', rt.allocator);
  rt.addon.biasGrad(rt.ctx, rt.f32(dy), rt.f32(db), n, c, rest);
  return db;
}

/** y = gamma (x - mean) invStd + beta with the batch's mean and invStd = 1/sqrt(var + eps), each (C). */
export function batchNormTrain(rt: NativeRuntime, x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, beta]);
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  const mean = Tensor.empty([c], 'float32', rt.allocator);
  const invStd = Tensor.empty([c], 'float32', rt.allocator);
  rt.addon.batchNormTrain(rt.ctx, rt.f32(x), rt.f32(gamma), rt.f32(beta), rt.f32(y), rt.f32(mean), rt.f32(invStd), eps, n, c, spatial);
  return { y, mean, invStd };
}

/** dbeta = sum dy, dgamma = sum dy xhat, dx = gamma invStd / M (M dy - dbeta - xhat dgamma), per channel. */
export function batchNormGrad(rt: NativeRuntime, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, mean, invStd]);
  if (dy.size !== x.size) throw new ShapeError('bn', 'dy and x differ in shape', [dy.shape, x.shape]);
  const dx = Tensor.empty(x.shape, 'float32', rt.allocator);
  const dgamma = Tensor.empty([c], 'float32', rt.allocator);
  const dbeta = Tensor.empty([c], 'float32', rt.allocator);
  const f = (t: Tensor): Float32Array => rt.f32(t);
  rt.addon.batchNormGrad(rt.ctx, f(dy), f(x), f(gamma), f(mean), f(invStd), f(dx), f(dgamma), f(dbeta), n, c, spatial);
  return { dx, dgamma, dbeta };
}

/** y = gamma (x - mean) / sqrt(variance + eps) + beta per channel, with the running statistics. */
export function batchNormInfer(rt: NativeRuntime, x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const { n, c, spatial } = batchNormLayout(x, [gamma, beta, mean, variance]);
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  rt.addon.batchNormInfer(rt.ctx, rt.f32(x), rt.f32(gamma), rt.f32(beta), rt.f32(mean), rt.f32(variance), eps, rt.f32(y), n, c, spatial);
  return y;
}

/**
 * SGD in place (torch.optim.SGD, see Backend.sgdUpdate) on float32 tensors, in float32
 * arithmetic. A null buffer means plain SGD (momentum must then be 0).
 */
export function sgdUpdate(rt: NativeRuntime, weight: Tensor, grad: Tensor, buf: Tensor | null, o: SgdUpdateOptions): void {
  checkSgd(weight, grad, buf, o.momentum);
  const f = (t: Tensor): Float32Array => rt.f32(t);
  rt.addon.sgdUpdate(rt.ctx, f(weight), f(grad), buf === null ? null : f(buf), weight.size, o.lr, o.weightDecay, o.momentum, 1 - o.dampening, o.firstStep ? 1 : 0, o.nesterov ? 1 : 0);
}

/** sgdUpdate on every parameter of `updates` in one addon call (the optimizer's step). */
export function sgdUpdateMany(rt: NativeRuntime, updates: readonly SgdParameterUpdate[], o: Omit<SgdUpdateOptions, 'firstStep'>): void {
  const tensors: (Float32Array | null)[] = [];
  const first = new Int32Array(updates.length);
  updates.forEach((u, i) => {
    checkSgd(u.weight, u.grad, u.momentumBuffer, o.momentum);
    tensors.push(rt.f32(u.weight), rt.f32(u.grad), u.momentumBuffer === null ? null : rt.f32(u.momentumBuffer));
    first[i] = u.firstStep ? 1 : 0;
  });
  rt.addon.sgdUpdateMany(rt.ctx, tensors, first, o.lr, o.weightDecay, o.momentum, 1 - o.dampening, o.nesterov ? 1 : 0);
}

function checkSgd(weight: Tensor, grad: Tensor, buf: Tensor | null, momentum: number): void {
  const n = weight.size;
  for (const t of [weight, grad, buf]) {
    if (t === null) continue;
    if (t.dtype !== 'float32') throw new TypeError('native sgdUpdate: float32 tensors only');
    if (t.size !== n) throw new RangeError(`native sgdUpdate: sizes differ (${t.size} vs ${n})`);
  }
  if (buf === null && momentum !== 0) throw new RangeError('native sgdUpdate: momentum needs a momentum buffer');
}
