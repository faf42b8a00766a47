import type { Backend } from '../backend.js';
import { withReferenceFallback, type PartialBackend, type WithFallback } from '../fallback.js';
import type { Tensor } from '../../tensor/tensor.js';
import { conv2d, conv2dAffine, conv2dGradInput, conv2dGradWeight } from './conv.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import { batchNormGrad, batchNormTrain } from './batchnorm.js';
import { add, batchNormInfer, biasGrad, relu, reluGrad, sgdUpdate } from './elementwise.js';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad, maxPool2dValues } from './pooling.js';
import { WasmRuntime, type WasmRuntimeOptions } from './runtime.js';
import type { WasmAllocator } from './allocator.js';
import type { WasmHost } from './host.js';

/** Threads, binary and scheduling of a wasm backend (see WasmRuntimeOptions). */
export type WasmBackendOptions = WasmRuntimeOptions;

/** What the wasm module itself brings, before the reference backend fills in the rest. */
interface WasmKernels extends PartialBackend {
  /** Places float32 tensors in the module's memory; its tracker counts them and the kernels' scratch. */
  readonly allocator: WasmAllocator;
  readonly threads: number;
  /** True when the fused multiply-add (relaxed SIMD) binary was loaded. */
  readonly relaxedSimd: boolean;
  /** Why the backend runs on one thread although more were asked for (e.g. no cross-origin isolation), else null. */
  readonly singleThreadReason: string | null;
  /** A conv followed by ReLU in one kernel: y = max(0, conv2d(x, weight, bias)). */
  conv2dRelu(...args: Parameters<Backend['conv2d']>): Tensor;
  /** A conv and the BN after it in inference, as one kernel (see Backend.conv2dAffine). */
  conv2dAffine(...args: Parameters<NonNullable<Backend['conv2dAffine']>>): Tensor;
  /** Max pooling's values without the argmax (see Backend.maxPool2dValues). */
  maxPool2dValues(...args: Parameters<NonNullable<Backend['maxPool2dValues']>>): Tensor;
  /** SGD in place in wasm (see Backend.sgdUpdate); float32 tensors only: callers keep float64 in TypeScript. */
  sgdUpdate(...args: Parameters<NonNullable<Backend['sgdUpdate']>>): void;
}

/**
 * The WebAssembly backend: float32 SIMD kernels on a pool of threads, the reference backend for
 * float64 and for the kernels it lacks (`placement` says which).
 */
export type WasmBackend = WithFallback<WasmKernels>;

/**
 * Creates the wasm backend on `host` (Node's or a browser's): loads the relaxed-SIMD binary where
 * the runtime has it (else plain SIMD) and starts `threads - 1` workers (default: one per available
 * core). `dispose()` stops them.
 */
export async function createWasmBackendOn(host: WasmHost, options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const rt = await WasmRuntime.create(host, options);
  const why = rt.singleThreadReason === null ? '' : ` (${rt.singleThreadReason})`;
  const threads = `${rt.threads} thread${rt.threads === 1 ? '' : 's'}${why}`;
  return withReferenceFallback<WasmKernels>({
    name: 'wasm',
    allocator: rt.allocator,
    details: `${threads}, ${rt.relaxedSimd ? 'relaxed SIMD with FMA' : 'SIMD'}`,
    threads: rt.threads,
    relaxedSimd: rt.relaxedSimd,
    singleThreadReason: rt.singleThreadReason,
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
    dispose: () => rt.dispose(),
  });
}
