import type { SgdUpdateOptions } from '../backend.js';
import { Tensor } from '../../tensor/tensor.js';
import { SGD_FIRST, SGD_MOMENTUM, SGD_NESTEROV } from './abi.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Memory-bound kernels, split over threads by range or by plane (asm/elementwise.ts). Each matches the
 * reference kernel of the same name: relu and reluGrad (reference/relu.ts), add
 * (reference/elementwise.ts), biasGrad (reference/conv2d.ts), batchNormInfer
 * (reference/batchnorm.ts, as one scale and shift per channel); scaleShiftInPlace (the end of
 * conv2dAffine over a whole input, in float32 as conv.ts's epilogue); sgdUpdate (the Backend's
 * optional SGD update, matching src/train/optimizers/sgd.ts).
 */

/** y = max(0, x), NaN kept. */
export function relu(rt: WasmRuntime, x: Tensor): Tensor {
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  rt.runSized(x.size, 'relu', rt.input(x), rt.output(y), x.size);
  return y;
}

/** dx = dy where y > 0, else 0. */
export function reluGrad(rt: WasmRuntime, dy: Tensor, y: Tensor): Tensor {
  const dx = Tensor.empty(dy.shape, 'float32', rt.allocator);
  rt.runSized(dy.size, 'reluGrad', rt.input(dy), rt.input(y), rt.output(dx), dy.size);
  return dx;
}

/** y = a + b, both of one shape. */
export function add(rt: WasmRuntime, a: Tensor, b: Tensor): Tensor {
  const y = Tensor.empty(a.shape, 'float32', rt.allocator);
  rt.runSized(a.size, 'add', rt.input(a), rt.input(b), rt.output(y), a.size);
  return y;
}

/** dbias (C): dy (N, C, ...) summed over every axis but axis 1. */
export function biasGrad(rt: WasmRuntime, dy: Tensor): Tensor {
  const n = dy.shape[0] ?? 0;
  const c = dy.shape[1] ?? 0;
  const rest = n * c === 0 ? 0 : dy.size / (n * c);
  const db = Tensor.empty([c], 'float32', rt.allocator);
  rt.runSized(dy.size, 'biasGrad', rt.input(dy), rt.output(db), n, c, rest);
  return db;
}

/** y = gamma (x - mean) / sqrt(variance + eps) + beta per channel, as y = x * scale + shift. */
export function batchNormInfer(rt: WasmRuntime, x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const n = x.shape[0] ?? 0;
  const c = x.shape[1] ?? 0;
  const rest = n * c === 0 ? 0 : x.size / (n * c);
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  const scalePtr = rt.scratch(c * 8);
  const scale = rt.f32(scalePtr, c);
  const shift = rt.f32(scalePtr + c * 4, c);
  for (let ch = 0; ch < c; ch++) {
    const s = (gamma.data[ch] as number) / Math.sqrt((variance.data[ch] as number) + eps);
    scale[ch] = s;
    shift[ch] = (beta.data[ch] as number) - (mean.data[ch] as number) * s;
  }
  rt.runSized(x.size, 'scaleShift', rt.input(x), scalePtr, scalePtr + c * 4, rt.output(y), n, c, rest, 0);
  return y;
}

/** y (N, C, ...) = y * scale[c] + shift[c] in place, ReLU'd when `relu`: in float32, as convForward's epilogue. */
export function scaleShiftInPlace(rt: WasmRuntime, y: Tensor, scale: Tensor, shift: Tensor, relu: boolean): void {
  const n = y.shape[0] ?? 0;
  const c = y.shape[1] ?? 0;
  const rest = n * c === 0 ? 0 : y.size / (n * c);
  const at = rt.output(y);
  rt.runSized(y.size, 'scaleShift', at, rt.input(scale), rt.input(shift), at, n, c, rest, relu ? 1 : 0);
}

/**
 * y += residual, then the ReLU when `relu`, in place: a fused conv2dAffine's shortcut (conv.ts), after
 * its epilogue's scale and shift, in the order the unfused ADD and RELU would apply them. The add and
 * relu kernels read each value before they write it, so they run in place; no buffer is allocated.
 */
export function addResidualInPlace(rt: WasmRuntime, y: Tensor, residual: Tensor, relu: boolean): void {
  const at = rt.output(y);
  rt.runSized(y.size, 'add', at, rt.input(residual), at, y.size);
  if (relu) rt.runSized(y.size, 'relu', at, at, y.size);
}

const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);

/** A number rounded to float32, as its bit pattern (kernel arguments are i32). */
function bits(x: number): number {
  f32Bits[0] = x;
  return i32Bits[0] as number;
}

/**
 * SGD in place (torch.optim.SGD, see Backend.sgdUpdate) on float32 tensors; the hyperparameters
 * are rounded to float32. A null buffer means plain SGD (momentum must then be 0).
 */
export function sgdUpdate(rt: WasmRuntime, weight: Tensor, grad: Tensor, buf: Tensor | null, o: SgdUpdateOptions): void {
  const n = weight.size;
  for (const t of [weight, grad, buf]) {
    if (t === null) continue;
    if (t.dtype !== 'float32') throw new TypeError('wasm sgdUpdate: float32 tensors only');
    if (t.size !== n) throw new RangeError(`wasm sgdUpdate: sizes differ (${t.size} vs ${n})`);
  }
  if (buf === null && o.momentum !== 0) throw new RangeError('wasm sgdUpdate: momentum needs a momentum buffer');
  const mode = buf === null ? 0 : SGD_MOMENTUM | (o.firstStep ? SGD_FIRST : 0) | (o.nesterov ? SGD_NESTEROV : 0);
  rt.runSized(n, 'sgdUpdate', rt.output(weight), rt.input(grad), buf === null ? 0 : rt.output(buf), n, bits(o.lr), bits(o.weightDecay), bits(o.momentum), bits(1 - o.dampening), mode);
}
