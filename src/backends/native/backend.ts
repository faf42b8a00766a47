import { availableParallelism } from 'node:os';
import type { Backend } from '../backend.js';
import { withReferenceFallback, type PartialBackend, type WithFallback } from '../fallback.js';
import type { Tensor } from '../../tensor/tensor.js';
import { nativeAddon } from './addon.js';
import type { NativeAllocator } from './allocator.js';
import { conv2d, conv2dAffine, conv2dGradInput, conv2dGradWeight } from './conv.js';
import { add, batchNormGrad, batchNormInfer, batchNormTrain, biasGrad, relu, reluGrad, sgdUpdate, sgdUpdateMany } from './elementwise.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad, maxPool2dValues } from './pooling.js';
import { NativeRuntime, type NativeRuntimeOptions } from './runtime.js';

/** Threads, scheduling and micro-kernel of a native backend (see NativeRuntimeOptions). */
export type NativeBackendOptions = NativeRuntimeOptions;

/** What the addon itself brings, before the reference backend fills in the rest. */
interface NativeKernels extends PartialBackend {
  /** Places float32 tensors in C memory; its tracker counts them and the kernels' workspace. */
  readonly allocator: NativeAllocator;
  /** Threads the kernels run on, the calling one included. */
  readonly threads: number;
  /** The GEMM micro-kernel chosen for this CPU at run time, e.g. `avx512 8x32` or `avx2+fma 6x16`. */
  readonly kernel: string;
  /** The machine's fp32 FMA peak in GFLOP/s on this backend's threads, measured by a short register-only loop (~0.1 s). */
  fmaPeak(): number;
  /** A conv followed by ReLU in one kernel: y = max(0, conv2d(x, weight, bias)). */
  conv2dRelu(...args: Parameters<Backend['conv2d']>): Tensor;
  /** Max pooling's values without the argmax (see Backend.maxPool2dValues). */
  maxPool2dValues(...args: Parameters<NonNullable<Backend['maxPool2dValues']>>): Tensor;
  /** A conv and the BN after it in inference, as one kernel (see Backend.conv2dAffine). */
  conv2dAffine(...args: Parameters<NonNullable<Backend['conv2dAffine']>>): Tensor;
  /** SGD in place in C (see Backend.sgdUpdate); float32 tensors only. */
  sgdUpdate(...args: Parameters<NonNullable<Backend['sgdUpdate']>>): void;
  /** SGD on several float32 parameters in one call to the addon (see Backend.sgdUpdateMany). */
  sgdUpdateMany(...args: Parameters<NonNullable<Backend['sgdUpdateMany']>>): void;
}

/**
 * The native backend: float32 kernels in C (AVX-512 or AVX2+FMA, chosen at run time) on the
 * addon's thread pool, the reference backend for float64 and for the kernels it lacks (`placement` says which).
 */
export type NativeBackend = WithFallback<NativeKernels>;

/** Why the native backend cannot run here (addon not built, failed to load, CPU without AVX2+FMA), or null when it can. */
export function nativeUnavailableReason(): string | null {
  return nativeAddon().reason;
}

/**
 * Opens the native backend on `threads` threads (default: one per available core). Throws, saying
 * why, where the addon is not available (see `nativeUnavailableReason`).
 */
export async function createNativeBackend(options: NativeBackendOptions = {}): Promise<NativeBackend> {
  const { addon, reason } = nativeAddon();
  if (addon === null) throw new Error(`the native backend is not available: ${reason}`);
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const rt = new NativeRuntime(addon, threads, options);
  const kernel = rt.kernel;
  return withReferenceFallback<NativeKernels>({
    name: 'native',
    allocator: rt.allocator,
    details: `${threads} thread${threads === 1 ? '' : 's'}, ${kernel}`,
    threads,
    kernel,
    fmaPeak: () => addon.fmaPeak(rt.ctx),
    conv2d: (x, weight, bias, attrs) => conv2d(rt, x, weight, bias, attrs),
    conv2dRelu: (x, weight, bias, attrs) => conv2d(rt, x, weight, bias, attrs, true),
    conv2dAffine: (x, weight, scale, shift, attrs, relu, residual = null) => conv2dAffine(rt, x, weight, scale, shift, attrs, relu, residual),
    conv2dGradInput: (dy, weight, xShape, attrs) => conv2dGradInput(rt, dy, weight, xShape, attrs),
    conv2dGradWeight: (dy, x, attrs) => conv2dGradWeight(rt, dy, x, attrs),
    biasGrad: (dy) => biasGrad(rt, dy),
    maxPool2d: (x, attrs) => maxPool2d(rt, x, attrs),
    maxPool2dValues: (x, attrs) => maxPool2dValues(rt, x, attrs),
    maxPool2dGrad: (dy, argmax, xShape) => maxPool2dGrad(rt, dy, argmax, xShape),
    avgPool2d: (x, attrs) => avgPool2d(rt, x, attrs),
    avgPool2dGrad: (dy, xShape, attrs) => avgPool2dGrad(rt, dy, xShape, attrs),
    linear: (x, weight, bias) => linear(rt, x, weight, bias),
    linearGradInput: (dy, weight) => linearGradInput(rt, dy, weight),
    linearGradWeight: (dy, x) => linearGradWeight(rt, dy, x),
    relu: (x) => relu(rt, x),
    reluGrad: (dy, y) => reluGrad(rt, dy, y),
    batchNormTrain: (x, gamma, beta, eps) => batchNormTrain(rt, x, gamma, beta, eps),
    batchNormGrad: (dy, x, gamma, mean, invStd) => batchNormGrad(rt, dy, x, gamma, mean, invStd),
    batchNormInfer: (x, gamma, beta, mean, variance, eps) => batchNormInfer(rt, x, gamma, beta, mean, variance, eps),
    add: (a, b) => add(rt, a, b),
    sgdUpdate: (weight, grad, momentumBuffer, options) => sgdUpdate(rt, weight, grad, momentumBuffer, options),
    sgdUpdateMany: (updates, options) => sgdUpdateMany(rt, updates, options),
    dispose: async () => rt.allocator.trim(),
  });
}
