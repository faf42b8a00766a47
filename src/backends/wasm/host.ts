/**
 * What the wasm runtime needs from the place it runs in, so that runtime.ts and threads.ts import
 * nothing from Node: Node's host (host_node.ts) reads the binary from disk and runs worker_threads;
 * a browser's (host_browser.ts) fetches it by URL and runs Web Workers.
 */

/** What each worker thread receives: the compiled module, the shared memory and its place in the pool. */
export interface WorkerData {
  /** The compiled wasm module, instantiated again in the worker against the shared `memory`. */
  readonly module: WebAssembly.Module;
  /** The shared memory every thread's instance imports; tensors and the control block live in it. */
  readonly memory: WebAssembly.Memory;
  /** Byte address of the pool's control block (threads.ts). */
  readonly control: number;
  /** This worker's thread index, 1 to threads - 1 (the main thread is 0); passed to each kernel as `tid`. */
  readonly tid: number;
  /** Export names of the pooled kernels, in the order the control block numbers them. */
  readonly names: readonly string[];
  /** How many times the worker reads the control word before it sleeps in Atomics.wait (threads.ts's SPINS). */
  readonly spins: number;
}

/** A started worker thread. */
export interface HostWorker {
  /** Resolves once the worker has instantiated the module and waits for work. */
  readonly ready: Promise<void>;
  /** Stops the worker thread (worker_threads' or Web Worker's terminate); resolves once it is stopped. */
  terminate(): Promise<unknown>;
}

/** The environment a wasm runtime is created in. */
export interface WasmHost {
  /** Threads to use when none are asked for: the cores this machine reports. */
  cores(): number;
  /**
   * Why worker threads cannot run here (a page that is not cross-origin isolated, or a page's main
   * thread, which may not block), or null when they can.
   */
  noThreadsReason(): string | null;
  /** The bytes of the binary `name` (convstack-simd.wasm or convstack-relaxed.wasm). */
  loadBinary(name: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Lets a runtime that gates relaxed SIMD behind a flag validate it (Node 20); false when it cannot. */
  enableRelaxedSimd(): Promise<boolean>;
  /** Starts a worker running `source` (threads.ts's worker loop) with `data`. */
  startWorker(source: string, data: WorkerData): HostWorker;
}
