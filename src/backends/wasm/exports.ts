import type { Kernel } from './threads.js';

/**
 * The kernels the wasm module exports (asm/index.ts), each with the names of the arguments it takes
 * after (tid, nt): addresses are byte offsets in the shared memory, `descriptor` the address of a
 * block written by descriptors.ts, `workspace` and `workspaceStride` the per-thread workspace
 * (WasmRuntime.workspacePerThread), `mode` flags from abi.ts. `WasmRuntime.run` is typed by this
 * table, so a call with the wrong number of arguments does not compile.
 */
export const KERNEL_ARGS = {
  gemm: ['descriptor', 'workspace', 'workspaceStride'],
  convForward: ['descriptor', 'x', 'weight', 'scale', 'bias', 'y', 'mode', 'workspace', 'workspaceStride'],
  convForwardDirect: ['descriptor', 'x', 'weight', 'scale', 'bias', 'y', 'mode', 'workspace', 'workspaceStride'],
  convGradInput: ['descriptor', 'dy', 'weight', 'dx', 'workspace', 'workspaceStride'],
  convGradWeight: ['descriptor', 'x', 'dy', 'dw', 'workspace', 'workspaceStride'],
  convGradWeightDirect: ['descriptor', 'x', 'dy', 'dw', 'workspace', 'workspaceStride', 'band'],
  relu: ['x', 'y', 'count'],
  reluGrad: ['dy', 'y', 'dx', 'count'],
  add: ['a', 'b', 'y', 'count'],
  biasGrad: ['dy', 'db', 'n', 'c', 'rest'],
  maxPool: ['descriptor', 'x', 'y', 'argmax'],
  maxPoolGrad: ['dy', 'argmax', 'dx', 'planes', 'inPlane', 'outPlane'],
  avgPool: ['descriptor', 'x', 'y'],
  avgPoolGrad: ['descriptor', 'dy', 'dx'],
  scaleShift: ['x', 'scale', 'shift', 'y', 'n', 'c', 'rest', 'relu'],
  sgdUpdate: ['weight', 'grad', 'momentumBuffer', 'count', 'lrBits', 'weightDecayBits', 'momentumBits', 'keepBits', 'mode'],
  batchNormTrain: ['x', 'gamma', 'beta', 'y', 'mean', 'invStd', 'epsAddress', 'n', 'c', 'rest'],
  batchNormGrad: ['dy', 'x', 'gamma', 'mean', 'invStd', 'dx', 'dgamma', 'dbeta', 'n', 'c', 'rest'],
} as const;

/** A kernel that runs on every thread, by export name. */
export type PooledKernel = keyof typeof KERNEL_ARGS;

/** A number for each name of `Names`. */
type Numbers<Names extends readonly string[]> = { -readonly [I in keyof Names]: number };

/** The arguments of kernel `K` after (tid, nt): one number per name in KERNEL_ARGS. */
export type KernelArgs<K extends PooledKernel> = Numbers<(typeof KERNEL_ARGS)[K]>;

/**
 * The kernels that split their range by (tid, nt) instead of taking jobs from the counter
 * (asm/elementwise.ts, asm/pooling.ts): values, channels or planes [tid, tid + 1) * count / nt.
 * They use no per-thread workspace, so the pool may run them as more pieces than threads.
 */
export const SPLIT_BY_TID: ReadonlySet<PooledKernel> = new Set<PooledKernel>(['relu', 'reluGrad', 'add', 'biasGrad', 'maxPool', 'maxPoolGrad', 'avgPool', 'avgPoolGrad', 'scaleShift', 'sgdUpdate']);

/** Every pooled kernel; a kernel's index here is how the thread pool names it. */
export const POOLED = Object.keys(KERNEL_ARGS) as PooledKernel[];

/**
 * The pooled kernels of an instance's exports, in POOLED order. Throws when one is missing or takes
 * a different number of arguments than KERNEL_ARGS says: a binary built from other sources than
 * this glue (rebuild it with `npm run build:wasm`) fails here rather than inside a kernel.
 */
export function pooledKernels(exports: Record<string, unknown>): Kernel[] {
  return POOLED.map((name) => {
    const f = exports[name];
    const expected = 2 + KERNEL_ARGS[name].length;
    if (typeof f !== 'function') throw new Error(`wasm binary has no kernel ${name}: rebuild it with npm run build:wasm`);
    if (f.length !== expected) {
      throw new Error(`wasm kernel ${name} takes ${f.length} arguments where the glue passes ${expected}: rebuild it with npm run build:wasm`);
    }
    return f as Kernel;
  });
}
