import type { Tensor } from '../../tensor/tensor.js';
import type { NativeAddon, NativeContext, NativeKernelChoice } from './addon.js';
import { NativeAllocator } from './allocator.js';

/** Work (multiply-adds, or values for memory-bound kernels) below which a kernel runs on the calling thread alone. */
const SERIAL_WORK = 1 << 16;

/** How a native runtime is set up. */
export interface NativeRuntimeOptions {
  /** Threads, the calling one included; default: one per available core. */
  threads?: number;
  /** Work below which a kernel runs on the calling thread alone; default 2^16. Tests set 0 so small cases use every thread. */
  serialBelow?: number;
  /** The micro-kernel: this CPU's best (default), or a slower path to test it on a faster CPU. */
  kernel?: NativeKernelChoice;
}

/**
 * One backend instance's link to the addon: its context (threads, workspace kept in C and grown
 * on demand), its allocator, and the bookkeeping that shows each kernel's workspace to the tracker.
 */
export class NativeRuntime {
  /** Float32 tensors in C memory, counted by its tracker with the kernels' workspace. */
  readonly allocator: NativeAllocator;
  /** The addon's context for this instance. */
  readonly ctx: NativeContext;

  constructor(
    /** The loaded addon. */
    readonly addon: NativeAddon,
    /** Threads the kernels run on, the calling one included. */
    readonly threads: number,
    options: NativeRuntimeOptions = {},
  ) {
    this.allocator = new NativeAllocator(addon);
    this.ctx = addon.createContext(threads, options.serialBelow ?? SERIAL_WORK, options.kernel ?? 'best');
  }

  /** The micro-kernel this runtime's GEMMs run, e.g. `avx512 8x32`. */
  get kernel(): string {
    return this.addon.contextKernel(this.ctx);
  }

  /**
   * Shows a kernel's workspace to the tracker for the duration of the call that used it.
   * NOTE: the workspace itself lives in C, allocated once and grown, but the tracker (and the
   * estimate, which replays it: workspace.ts) counts it only while a kernel uses it, as the wasm
   * backend's per-call scratch is counted.
   */
  used(workspaceBytes: number): void {
    this.allocator.tracker.allocated(workspaceBytes);
    this.allocator.tracker.freed(workspaceBytes);
  }

  /** `t`'s values as the Float32Array the kernels read (float64 never reaches the native kernels). */
  f32(t: Tensor): Float32Array {
    return t.data as Float32Array;
  }
}
