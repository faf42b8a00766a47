import type { HostWorker, WasmHost } from './host.js';

/**
 * A persistent pool of threads running the same wasm module over one shared memory. A kernel call
 * runs `kernel(tid, nt, ...args)` on every thread: the main thread is thread 0 and blocks with
 * Atomics.wait until the others are done, so kernels stay synchronous, as the Backend API is.
 *
 * The control block is 16 int32 words in the shared memory:
 *   [0] generation: bumped to start a call; workers sleep on it
 *   [1] done: workers that finished the current call; the main thread sleeps on it
 *   [2] kernel index (-1 stops the workers)   [3] error flag   [4] thread count   [5..15] arguments
 * NOTE: the host (host.ts) starts the workers: worker_threads in Node, Web Workers in a browser,
 * where the calling thread must itself be a Worker, since a page's main thread may not block.
 */
export const CONTROL_WORDS = 16;
const MAX_ARGS = CONTROL_WORDS - 5;

/**
 * Spins on the control word before sleeping: waking a sleeping thread costs tens of microseconds,
 * which small training kernels would feel; spinning longer would steal the cores from other work.
 */
const SPINS = 20000;

/** The worker's loop, `main(data, ready)`: the host appends the line that calls it with its WorkerData. */
const workerSource = `
function main({ module, memory, control, tid, names, spins }, ready) {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = names.map((name) => instance.exports[name]);
  const c = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
  let seen = 0;
  ready();
  for (;;) {
    let g = Atomics.load(c, 0);
    for (let i = 0; g === seen && i < spins; i++) g = Atomics.load(c, 0);
    while (g === seen) {
      Atomics.wait(c, 0, seen);
      g = Atomics.load(c, 0);
    }
    seen = g;
    const k = c[2];
    if (k < 0) break;
    try {
      kernels[k](tid, c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
    } catch (error) {
      Atomics.store(c, 3, 1);
    }
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  }
}
`;

/** A pooled kernel as the module exports it: thread `tid` of `nt`, then its arguments (exports.ts). */
export type Kernel = (tid: number, nt: number, ...args: number[]) => void;

/** The main thread and `threads - 1` workers running kernels together, by the protocol above. */
export class ThreadPool {
  private readonly workers: HostWorker[] = [];
  private readonly control: Int32Array;

  private constructor(
    /** Threads that run jobs, the main thread included. */
    readonly threads: number,
    private readonly kernels: readonly Kernel[],
    memory: WebAssembly.Memory,
    controlOffset: number,
  ) {
    this.control = new Int32Array(memory.buffer, controlOffset, CONTROL_WORDS);
  }

  /**
   * Starts `threads - 1` workers on `host`, each instantiating `module` over `memory`, and resolves
   * once they are all ready. `kernels` are the main thread's exports of the names in `names`, in
   * that order.
   */
  static async start(
    host: WasmHost,
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    controlOffset: number,
    names: readonly string[],
    kernels: readonly Kernel[],
  ): Promise<ThreadPool> {
    const pool = new ThreadPool(threads, kernels, memory, controlOffset);
    for (let tid = 1; tid < threads; tid++) {
      pool.workers.push(host.startWorker(workerSource, { module, memory, control: controlOffset, tid, names, spins: SPINS }));
    }
    await Promise.all(pool.workers.map((w) => w.ready));
    return pool;
  }

  /**
   * Runs kernel `index` on every thread and returns when all are done; with `serial`, on the calling
   * thread alone (as thread 0 of 1), for work too small to pay for waking the workers.
   */
  run(index: number, args: readonly number[], serial = false): void {
    const kernel = this.kernels[index] as Kernel;
    if (serial || this.workers.length === 0) {
      kernel(0, 1, ...args);
      return;
    }
    if (args.length > MAX_ARGS) throw new RangeError(`a pooled kernel takes at most ${MAX_ARGS} arguments`);
    const c = this.control;
    c[2] = index;
    c[3] = 0;
    c[4] = this.threads;
    for (let i = 0; i < args.length; i++) c[5 + i] = args[i] as number;
    Atomics.store(c, 1, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    kernel(0, this.threads, ...args);
    const others = this.workers.length;
    let done = Atomics.load(c, 1);
    for (let i = 0; done < others && i < SPINS; i++) done = Atomics.load(c, 1);
    while (done < others) {
      Atomics.wait(c, 1, done);
      done = Atomics.load(c, 1);
    }
    if (c[3] !== 0) throw new Error(`wasm kernel ${index} failed on a worker thread`);
  }

  /** Stops the workers; the pool must not be used afterwards. */
  async stop(): Promise<void> {
    const c = this.control;
    c[2] = -1;
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
