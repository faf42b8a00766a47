/** One timed unit of a workload on a peer: a forward, a forward+backward or a training step. */
export interface Step {
  run(): void | Promise<void>;
  /**
   * For a peer in another process: times the step there with `options` (the same rule as
   * `measure`), so that no pipe round trip per run is counted. `run` is then not called.
   */
  timed?(options: MeasureOptions): Promise<Timing>;
  dispose?(): void | Promise<void>;
}

/** What `measure` found: the median time of one step and how many timed runs it is the median of. */
export interface Timing {
  /** Median of the timed runs, in ms. */
  ms: number;
  runs: number;
}

/**
 * How a step is timed: warm-up runs (at least `warmup` of them and at least `warmupMs` of them,
 * never more than half the budget), then as many runs as fit the budget (1 to `maxRuns`).
 */
export interface MeasureOptions {
  warmup: number;
  warmupMs: number;
  maxRuns: number;
  budgetMs: number;
}

/**
 * The bench's timing rule, shared with peers that time themselves (bench/peers/pytorch_peer.py).
 * NOTE: a second of warm-up, not just three runs: on a loaded machine V8's background compiler
 * tiers the wasm kernels up late, and W4's steps 4-10 measured 9-34 ms against 9-13 ms after step 50.
 */
export const MEASURE: MeasureOptions = { warmup: 3, warmupMs: 1000, maxRuns: 21, budgetMs: 8000 };

/**
 * Warms up (code tiers up, memory pools fill), then times runs and returns the median. Slow peers
 * get fewer runs: the run count fits `budgetMs`, between 1 and `maxRuns`.
 */
export async function measure(step: Step, options: MeasureOptions = MEASURE): Promise<Timing> {
  if (step.timed !== undefined) return step.timed(options);
  const { warmup, warmupMs, maxRuns, budgetMs } = options;
  let first = 0;
  const start = performance.now();
  for (let i = 0; i < warmup || performance.now() - start < warmupMs; i++) {
    const t0 = performance.now();
    await step.run();
    first = performance.now() - t0;
    // A peer that takes seconds per step is warm after one.
    if (performance.now() - start > budgetMs / 2) break;
  }
  const runs = Math.max(1, Math.min(maxRuns, Math.floor(budgetMs / Math.max(first, 1e-3))));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await step.run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const ms = times.length % 2 === 1 ? (times[mid] as number) : ((times[mid - 1] as number) + (times[mid] as number)) / 2;
  return { ms, runs };
}
