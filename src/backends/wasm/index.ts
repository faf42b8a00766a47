import type { Backend } from '../backend.js';
import { createReferenceBackend } from '../reference/index.js';
import { Tensor } from '../../tensor/tensor.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from './conv.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import { batchNormGrad, batchNormTrain } from './batchnorm.js';
import { add, batchNormInfer, biasGrad, relu, reluGrad, sgdUpdate } from './elementwise.js';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from './pooling.js';
import { WasmRuntime, type WasmRuntimeOptions } from './runtime.js';
import type { WasmAllocator } from './allocator.js';

/** Every kernel of the Backend contract, by method name. */
export type KernelName = Exclude<keyof Backend, 'name' | 'allocator'>;

/** Where a kernel runs for float32 tensors (float64 always runs on the reference backend). */
export type KernelPlacement = 'wasm' | 'reference';

export type WasmBackendOptions = WasmRuntimeOptions;

/** The WebAssembly backend: float32 SIMD kernels on a pool of threads, the reference for the rest. */
export interface WasmBackend extends Backend {
  /** Places float32 tensors in the module's memory; its tracker counts them and the kernels' scratch. */
  readonly allocator: WasmAllocator;
  readonly threads: number;
  /** True when the fused multiply-add (relaxed SIMD) binary was loaded. */
  readonly relaxedSimd: boolean;
  /** Which kernels run in wasm and which fall back to the reference backend (float32 tensors). */
  readonly placement: Readonly<Record<KernelName, KernelPlacement>>;
  /** A conv followed by ReLU in one kernel: y = max(0, conv2d(x, weight, bias)). */
  conv2dRelu(...args: Parameters<Backend['conv2d']>): Tensor;
  /** SGD in place in wasm (see Backend.sgdUpdate); float32 tensors only: callers keep float64 in TypeScript. */
  sgdUpdate(...args: Parameters<NonNullable<Backend['sgdUpdate']>>): void;
  /** Stops the worker threads; the backend must not be used afterwards. */
  dispose(): Promise<void>;
}

function isFloat64(arg: unknown): boolean {
  if (arg instanceof Tensor) return arg.dtype === 'float64';
  return Array.isArray(arg) && arg.some(isFloat64);
}

/**
 * Creates the wasm backend: loads the relaxed-SIMD binary where the runtime has it (else plain
 * SIMD), starts `threads - 1` workers (default: one per available core) and routes every float64
 * call, and every kernel the wasm module lacks, to the reference backend.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const rt = await WasmRuntime.create(options);
  // The fallback kernels allocate in this backend's memory, counted by its tracker.
  const ref = createReferenceBackend(rt.allocator);
  const fast: Partial<{ [K in KernelName]: Backend[K] }> = {
    conv2d: (x, weight, bias, attrs) => conv2d(rt, x, weight, bias, attrs),
    conv2dGradInput: (dy, weight, xShape, attrs) => conv2dGradInput(rt, dy, weight, xShape, attrs),
    conv2dGradWeight: (dy, x, attrs) => conv2dGradWeight(rt, dy, x, attrs),
    biasGrad: (dy) => biasGrad(rt, dy),
    maxPool2d: (x, attrs) => maxPool2d(rt, x, attrs),
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
  };
  const names = Object.keys(ref).filter((k) => k !== 'name' && k !== 'allocator') as KernelName[];
  const placement = {} as Record<KernelName, KernelPlacement>;
  const methods = {} as Record<KernelName, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const slow = ref[name] as (...args: unknown[]) => unknown;
    const f = fast[name] as ((...args: unknown[]) => unknown) | undefined;
    placement[name] = f === undefined ? 'reference' : 'wasm';
    methods[name] = f === undefined ? slow : (...args) => (args.some(isFloat64) ? slow(...args) : f(...args));
  }
  return {
    ...(methods as unknown as Omit<Backend, 'name' | 'allocator'>),
    name: 'wasm',
    allocator: rt.allocator,
    threads: rt.threads,
    relaxedSimd: rt.relaxedSimd,
    placement,
    conv2dRelu: (x, weight, bias, attrs) => {
      if (isFloat64([x, weight, bias])) {
        // The ReLU in place (as reference/relu.ts computes it, NaN kept): the fused kernel then
        // holds what the reference conv2d holds, no second buffer (workspace.ts relies on it).
        const y = ref.conv2d(x, weight, bias, attrs);
        for (let i = 0; i < y.size; i++) if ((y.data[i] as number) < 0) y.data[i] = 0;
        return y;
      }
      return conv2d(rt, x, weight, bias, attrs, true);
    },
    sgdUpdate: (weight, grad, momentumBuffer, options) => sgdUpdate(rt, weight, grad, momentumBuffer, options),
    dispose: () => rt.dispose(),
  };
}

/** The placement table as text, one kernel a line, for `--debug` output. */
export function formatPlacement(backend: WasmBackend): string {
  const lines = Object.entries(backend.placement).map(([name, where]) => `  ${name.padEnd(18)} ${where}`);
  return [`wasm backend: ${backend.threads} thread(s), ${backend.relaxedSimd ? 'relaxed SIMD (FMA)' : 'SIMD'}`, ...lines].join('\n');
}
