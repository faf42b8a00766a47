import type { Tensor } from '../../tensor/tensor.js';
import { MAXIMUM_PAGES, WasmAllocator } from './allocator.js';
import { JOB_COUNTER } from './abi.js';
import { POOLED, pooledKernels, SPLIT_BY_TID, type KernelArgs, type PooledKernel } from './exports.js';
import { CONTROL_WORDS, ThreadPool } from './threads.js';
import type { WasmHost } from './host.js';

// Fixed low memory: nothing at 0 (a null pointer), the kernels' shared job counter (JOB_COUNTER in
// abi.ts), the pool's control block, then the descriptors kernels read their geometry from
// (descriptors.ts); the allocator's heap starts above.
const CONTROL_OFFSET = 64;
const DESCRIPTOR_OFFSET = CONTROL_OFFSET + CONTROL_WORDS * 4;
const DESCRIPTOR_WORDS = 32;
const HEAP_BASE = 4096;
/** Initial memory: 64 MiB covers the benchmark's small nets without growing. */
const INITIAL_PAGES = 1024;

/** Work (multiply-adds or values) below which a kernel runs on the calling thread alone: about 10-20 us. */
const SERIAL_WORK = 1 << 17;
/**
 * Pieces per thread of a kernel that splits its range by tid (ThreadPool.run's `shares`): a
 * descheduled thread then holds up an eighth of its half, and the other thread takes the rest.
 */
const SHARES_PER_THREAD = 8;

/** How `WasmRuntime.create` sets up the module and its threads. */
export interface WasmRuntimeOptions {
  /**
   * Threads, the calling one included; default: the available cores. Where the host cannot run
   * workers (a page that is not cross-origin isolated), one, and `singleThreadReason` says why.
   */
  threads?: number;
  /** Use the plain-SIMD binary even where relaxed SIMD (fused multiply-add) is available. */
  noRelaxedSimd?: boolean;
  /**
   * Work (multiply-adds, or values for memory-bound kernels) below which a kernel runs on the
   * calling thread alone; default 2^17. Tests set 0 so that small cases exercise every thread.
   */
  serialBelow?: number;
}

/** The bytes between two threads' workspaces for `bytes` each: a whole number of cache lines. */
export function workspaceStride(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Picks the relaxed-SIMD binary where the host validates it (after enabling it, if it can), else plain SIMD. */
async function pickBinary(host: WasmHost, noRelaxed: boolean): Promise<{ bytes: Uint8Array<ArrayBuffer>; relaxedSimd: boolean }> {
  if (!noRelaxed) {
    const relaxed = await host.loadBinary('convstack-relaxed.wasm');
    if (WebAssembly.validate(relaxed) || ((await host.enableRelaxedSimd()) && WebAssembly.validate(relaxed))) {
      return { bytes: relaxed, relaxedSimd: true };
    }
  }
  return { bytes: await host.loadBinary('convstack-simd.wasm'), relaxedSimd: false };
}

/**
 * One wasm instance per thread over a shared memory, the allocator placing tensors in it, and
 * helpers that hand kernels pointers to tensors: a tensor already in the memory is used in place;
 * any other (a float32 tensor made on the JS heap) is copied in for the call and out after it.
 */
export class WasmRuntime {
  private readonly descriptor: Int32Array;
  private readonly jobCounter: Int32Array;
  private readonly copies: { t: Tensor | null; ptr: number; bytes: number }[] = [];

  private constructor(
    /** The allocator of the instance's memory: tensors and kernel scratch. */
    readonly allocator: WasmAllocator,
    /** The kernels the instance exports, by name (asm/index.ts). */
    readonly exports: Record<string, unknown>,
    /** The threads that run the kernels' jobs. */
    readonly pool: ThreadPool,
    /** Whether the relaxed-SIMD (FMA) build was loaded; its results differ in the last bits. */
    readonly relaxedSimd: boolean,
    /** Why the runtime runs on one thread although more were asked for (or defaulted), else null. */
    readonly singleThreadReason: string | null,
    private readonly serialBelow: number,
  ) {
    this.descriptor = new Int32Array(allocator.buffer(), DESCRIPTOR_OFFSET, DESCRIPTOR_WORDS);
    this.jobCounter = new Int32Array(allocator.buffer(), JOB_COUNTER, 1);
  }

  /**
   * Compiles the binary this runtime can run on `host`, starts the worker threads and hands back
   * the runtime.
   */
  static async create(host: WasmHost, options: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
    const wanted = Math.max(1, Math.floor(options.threads ?? host.cores()));
    const reason = wanted > 1 ? host.noThreadsReason() : null;
    const threads = reason === null ? wanted : 1;
    const { bytes, relaxedSimd } = await pickBinary(host, options.noRelaxedSimd ?? false);
    const module = await WebAssembly.compile(bytes);
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const exports = instance.exports as Record<string, unknown>;
    const kernels = pooledKernels(exports);
    const pool = await ThreadPool.start(host, threads, module, memory, CONTROL_OFFSET, POOLED, kernels);
    const allocator = new WasmAllocator(memory, HEAP_BASE);
    return new WasmRuntime(allocator, exports, pool, relaxedSimd, reason, options.serialBelow ?? SERIAL_WORK);
  }

  /** Threads a kernel runs on, the calling one included. */
  get threads(): number {
    return this.pool.threads;
  }

  /** Runs a pooled kernel on every thread; its arguments after (tid, nt). */
  run<K extends PooledKernel>(kernel: K, ...args: KernelArgs<K>): void {
    this.runOn(false, kernel, args);
  }

  /**
   * Runs a pooled kernel on the calling thread alone when `work` (multiply-adds, or values for a
   * memory-bound kernel) is below `serialBelow`, else on every thread. NOTE: waking the workers and
   * waiting for the slowest costs tens of microseconds, and far more when another process has
   * descheduled a worker; LeNet's small layers took longer on two threads than on one. Results do
   * not depend on the choice (they never depend on the thread count).
   */
  runSized<K extends PooledKernel>(work: number, kernel: K, ...args: KernelArgs<K>): void {
    this.runOn(work < this.serialBelow, kernel, args);
  }

  private runOn(serial: boolean, kernel: PooledKernel, args: readonly number[]): void {
    try {
      // Published to the workers by the pool's Atomics.add on the generation word.
      this.jobCounter[0] = 0;
      this.pool.run(POOLED.indexOf(kernel), args, serial, SPLIT_BY_TID.has(kernel) ? SHARES_PER_THREAD * this.threads : 0);
    } finally {
      this.release();
    }
  }

  /**
   * Writes a descriptor into the descriptor block with one of descriptors.ts's writers and returns
   * the block's address, for the kernel's `descriptor` argument.
   */
  describe<T>(write: (block: Int32Array, fields: T) => void, fields: T): number {
    write(this.descriptor, fields);
    return DESCRIPTOR_OFFSET;
  }

  /** The address of `t`'s data for a kernel that reads it. */
  input(t: Tensor): number {
    if (this.allocator.owns(t.data)) return t.data.byteOffset;
    const ptr = this.allocator.allocBytes(t.data.byteLength);
    this.f32(ptr, t.size).set(t.data);
    this.copies.push({ t: null, ptr, bytes: t.data.byteLength });
    return ptr;
  }

  /** The address a kernel writes `t`'s values to (copied into `t` after the kernel when `t` is not ours). */
  output(t: Tensor): number {
    if (this.allocator.owns(t.data)) return t.data.byteOffset;
    const ptr = this.allocator.allocBytes(t.data.byteLength);
    this.f32(ptr, t.size).set(t.data);
    this.copies.push({ t, ptr, bytes: t.data.byteLength });
    return ptr;
  }

  /** Scratch memory for one call: freed when the next pooled kernel returns (see `release`). */
  scratch(bytes: number): number {
    const ptr = this.allocator.allocBytes(bytes);
    this.copies.push({ t: null, ptr, bytes });
    return ptr;
  }

  /**
   * Per-thread workspace of `bytes` each, for one call like `scratch`; returns [base, stride].
   * NOTE: allocated per call rather than kept between calls, so that the allocator's tracker (and
   * the estimate, which replays it) sees the workspace only while a kernel runs; a call of the
   * same size reuses the same free block.
   */
  workspacePerThread(bytes: number): [number, number] {
    const stride = workspaceStride(bytes);
    return [this.scratch(stride * this.threads), stride];
  }

  /** A float32 view of `length` values at byte address `ptr`. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.allocator.buffer(), ptr, length);
  }

  /** An int32 view of `length` values at byte address `ptr`. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.allocator.buffer(), ptr, length);
  }

  /** Copies outputs back to tensors that live outside the memory and frees the call's copies. */
  private release(): void {
    for (const { t, ptr, bytes } of this.copies) {
      if (t !== null) t.data.set(this.f32(ptr, t.size));
      this.allocator.freeBytes(ptr, bytes);
    }
    this.copies.length = 0;
  }

  /** Stops the worker threads; the runtime must not be used afterwards. */
  async dispose(): Promise<void> {
    await this.pool.stop();
  }
}
