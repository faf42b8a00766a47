import type { HostWorker, WasmHost } from './host.js';

/**
 * A persistent pool of threads running the same wasm module over one shared memory. A kernel call
 * runs `kernel(tid, nt, ...args)` for every tid: the main thread is thread 0 and blocks with
 * Atomics.wait until the others are done, so kernels stay synchronous, as the Backend API is.
 *
 * The control block is CONTROL_WORDS int32 words in the shared memory:
 *   [0] generation: bumped to start a call; workers sleep on it
 *   [1] done: workers that finished the current call; the main thread sleeps on it
 *   [2] kernel index (-1 stops the workers)   [3] error flag   [4] thread count
 *   [5] gate: the call's generation (upper 24 bits), the workers that joined it (bit `tid`, tids
 *       1..7) and bit 0, set when the main thread has closed the call
 *   [6] shares: 0, or how many pieces a kernel that splits its range by `tid` is cut into
 *   [7] the next share to take   [8..18] arguments
 * NOTE: the gate is what keeps one sleeping or descheduled worker from stalling a call. When the
 * main thread has run its own share, it closes the gate and runs, itself, the share of each worker
 * that has not joined yet (a worker that wakes later sees the gate closed and skips the call); it
 * then waits only for the workers that joined, which are running their share. A share computes the
 * same values whichever thread runs it (jobs.ts), so results do not change.
 * NOTE: shares do the same for the kernels that split their range by `tid` rather than taking jobs
 * (elementwise, pooling): run as `kernel(share, shares, ...)` for shares taken one at a time, a
 * worker descheduled mid-call holds up one small piece, not half the range.
 * NOTE: the host (host.ts) starts the workers: worker_threads in Node, Web Workers in a browser,
 * where the calling thread must itself be a Worker, since a page's main thread may not block.
 */
export const CONTROL_WORDS = 19;
const GATE = 5;
const SHARES = 6;
const NEXT_SHARE = 7;
const FIRST_ARG = 8;
const MAX_ARGS = CONTROL_WORDS - FIRST_ARG;
/** Workers with a gate bit (tids 1..7); any further ones always join, and the main thread waits for them. */
const GATED = 8;

/**
 * Spins on the control word before sleeping: waking a sleeping thread costs tens of microseconds,
 * which small training kernels would feel; spinning longer would steal the cores from other work.
 */
const SPINS = 20000;

/** The worker's arguments to a kernel after (tid, nt), as source: the control block's argument words. */
const ARGS = Array.from({ length: CONTROL_WORDS - FIRST_ARG }, (_, i) => `c[${FIRST_ARG + i}]`).join(', ');

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
    if (c[2] < 0) break;
    if (tid < ${GATED} && !join(c, g, tid)) continue;
    const kernel = kernels[c[2]];
    const shares = c[${SHARES}];
    try {
      if (shares === 0) kernel(tid, c[4], ${ARGS});
      else for (let s = Atomics.add(c, ${NEXT_SHARE}, 1); s < shares; s = Atomics.add(c, ${NEXT_SHARE}, 1)) kernel(s, shares, ${ARGS});
    } catch (error) {
      Atomics.store(c, 3, 1);
    }
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  }
}

/** Sets this worker's bit in the gate if the gate is still open for call g; false when too late. */
function join(c, g, tid) {
  for (;;) {
    const gate = Atomics.load(c, ${GATE});
    if (gate >>> 8 !== (g & 0xffffff) || (gate & 1) !== 0) return false;
    if (Atomics.compareExchange(c, ${GATE}, gate, gate | (1 << tid)) === gate) return true;
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
   * Runs kernel `index` for every tid and returns when all shares are done; with `serial`, on the
   * calling thread alone (as thread 0 of 1), for work too small to pay for waking the workers.
   * `shares` > 0 is for a kernel that splits its range by tid: it then runs as `kernel(s, shares)`
   * for s = 0 .. shares - 1, each taken by whichever thread is free.
   */
  run(index: number, args: readonly number[], serial = false, shares = 0): void {
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
    c[SHARES] = shares;
    c[NEXT_SHARE] = 0;
    for (let i = 0; i < args.length; i++) c[FIRST_ARG + i] = args[i] as number;
    Atomics.store(c, 1, 0);
    const generation = (c[0] as number) + 1;
    Atomics.store(c, GATE, (generation & 0xffffff) << 8);
    Atomics.store(c, 0, generation);
    Atomics.notify(c, 0);
    if (shares === 0) kernel(0, this.threads, ...args);
    else for (let s = Atomics.add(c, NEXT_SHARE, 1); s < shares; s = Atomics.add(c, NEXT_SHARE, 1)) kernel(s, shares, ...args);
    const joined = Atomics.or(c, GATE, 1);
    let waitFor = 0;
    for (let tid = 1; tid <= this.workers.length; tid++) {
      if (tid >= GATED || (joined & (1 << tid)) !== 0) waitFor++;
      // With shares, every share has been taken by now: a worker that did not join owes nothing.
      else if (shares === 0) kernel(tid, this.threads, ...args);
    }
    let done = Atomics.load(c, 1);
    for (let i = 0; done < waitFor && i < SPINS; i++) done = Atomics.load(c, 1);
    while (done < waitFor) {
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
