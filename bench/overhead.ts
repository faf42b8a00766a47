/**
 * `npx tsx bench/overhead.ts [--backend wasm] [--threads N] [--steps 400] [--workload W4]`: where a
 * training step's time goes outside the kernels (issue 15's per-step overhead). Runs the bench's
 * training step (bench/peers/convstack.ts, the W4 batches) with every kernel of the backend timed,
 * and the wasm pool's `run` (the WebAssembly itself, thread wake-ups and waits included) timed
 * inside them, then prints per step (medians over the steps): the whole step, the time inside the
 * Backend's kernel calls, the time outside them (the Net executor, the loss, the optimizer's
 * TypeScript, allocation and frees), and inside the kernels, the TypeScript glue around the wasm
 * calls. Timing each call costs about 0.1 us (two `performance.now()`); the figures include it.
 * With `--backend native` each Backend call is the N-API call and its C kernel (there is no pool
 * to time inside it). Per kernel it prints the median over the steps of that kernel's time in a
 * step, and the last step's split. A diagnostic, not a benchmark: run `bench/run.ts` for img/s.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { openBackend } from '../src/backends/registry.js';
import { KERNEL_NAMES } from '../src/backends/fallback.js';
import type { Backend } from '../src/backends/backend.js';
import { ThreadPool } from '../src/backends/wasm/threads.js';
import { Net } from '../src/net/net.js';
import { Sgd } from '../src/train/optimizers/index.js';
import { makeBatches } from './data.js';
import { convstackPeer } from './peers/convstack.js';
import { workloads } from './workloads.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '400' },
    workload: { type: 'string', default: 'W4' },
  },
});
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const steps = Number(values.steps);

/** Time and calls per kernel during the current step, and the pool's share. */
const kernelMs = new Map<string, number>();
const kernelCalls = new Map<string, number>();
/** The wasm pool's time inside each kernel call of the current step, by kernel. */
const kernelPoolMs = new Map<string, number>();
/** In calls on every thread, the time beyond the calling thread's own share, by kernel. */
const kernelWaitMs = new Map<string, number>();
/** Calls on every thread (waking the workers) in the current step, by kernel. */
const kernelParallel = new Map<string, number>();
let current = '';
let inKernels = 0;
let inPool = 0;
let poolCalls = 0;
let parallelCalls = 0;
/** In calls on every thread: the calling thread's own share, and what it spent waking and waiting for the others. */
let ownShare = 0;
let inParallel = 0;
let depth = 0;
/** The wasm kernels of each pool, wrapped once to time the calling thread's share. */
const timedPools = new WeakSet<ThreadPool>();

/** Wraps each kernel of `backend` (own properties, as withReferenceFallback makes them) with a timer; nested calls count once. */
function instrument(backend: Backend): void {
  const target = backend as unknown as Record<string, unknown>;
  for (const name of [...KERNEL_NAMES, 'conv2dRelu', 'sgdUpdate', 'sgdUpdateMany']) {
    const kernel = target[name];
    if (typeof kernel !== 'function') continue;
    target[name] = (...args: unknown[]): unknown => {
      if (depth++ > 0) {
        try {
          return kernel.apply(backend, args);
        } finally {
          depth--;
        }
      }
      const t0 = performance.now();
      current = name;
      try {
        return kernel.apply(backend, args);
      } finally {
        const ms = performance.now() - t0;
        depth--;
        inKernels += ms;
        kernelMs.set(name, (kernelMs.get(name) ?? 0) + ms);
        kernelCalls.set(name, (kernelCalls.get(name) ?? 0) + 1);
      }
    };
  }
  const run = ThreadPool.prototype.run;
  ThreadPool.prototype.run = function timedRun(this: ThreadPool, index: number, args: readonly number[], serial = false): void {
    if (!timedPools.has(this)) timeOwnShare(this);
    const t0 = performance.now();
    const ownBefore = ownShare;
    try {
      run.call(this, index, args, serial);
    } finally {
      const ms = performance.now() - t0;
      inPool += ms;
      kernelPoolMs.set(current, (kernelPoolMs.get(current) ?? 0) + ms);
      poolCalls++;
      if (!serial && this.threads > 1) {
        parallelCalls++;
        inParallel += ms;
        kernelParallel.set(current, (kernelParallel.get(current) ?? 0) + 1);
        kernelWaitMs.set(current, (kernelWaitMs.get(current) ?? 0) + ms - (ownShare - ownBefore));
      }
    }
  };
}

/** NOTE: reaches into the pool's private kernel list (a diagnostic may; the library never does). */
function timeOwnShare(pool: ThreadPool): void {
  timedPools.add(pool);
  const kernels = (pool as unknown as { kernels: ((tid: number, nt: number, ...args: number[]) => void)[] }).kernels;
  kernels.forEach((kernel, k) => {
    kernels[k] = (tid, nt, ...args) => {
      const t0 = performance.now();
      kernel(tid, nt, ...args);
      if (nt > 1) ownShare += performance.now() - t0;
    };
  });
}

/** Per phase of the step (Net.forward, Net.backward, Sgd.step), its time outside the kernels. */
const phaseOutside = new Map<string, number>();

/** Wraps `proto[method]` to add its time minus the kernels' time inside it to `phase`. */
function timePhase(phase: string, proto: object, method: string): void {
  const target = proto as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method] as (...args: unknown[]) => unknown;
  target[method] = function timed(this: unknown, ...args: unknown[]): unknown {
    const t0 = performance.now();
    const k0 = inKernels;
    try {
      return original.apply(this, args);
    } finally {
      phaseOutside.set(phase, (phaseOutside.get(phase) ?? 0) + performance.now() - t0 - (inKernels - k0));
    }
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const w = workloads().find((x) => x.name.startsWith(values.workload as string) && x.kind === 'train');
if (w === undefined) throw new Error(`no training workload named ${values.workload}`);
const backend = await openBackend(values.backend as string, { threads });
instrument(backend);
timePhase('Net.forward', Net.prototype, 'forward');
timePhase('Net.backward', Net.prototype, 'backward');
timePhase('Sgd.step', Sgd.prototype, 'step');
const peer = convstackPeer(`convstack-${backend.name}`, backend);
const step = await peer.prepare(w, makeBatches(w, w.mnist ? 125 : 16));
if ('skip' in step) throw new Error(step.skip);

const rows: { total: number; kernels: number; pool: number; calls: number; parallel: number; waits: number; phases: Map<string, number>; perKernel: Map<string, number> }[] = [];
for (let i = 0; i < steps + 50; i++) {
  kernelMs.clear();
  kernelCalls.clear();
  kernelPoolMs.clear();
  kernelParallel.clear();
  kernelWaitMs.clear();
  phaseOutside.clear();
  inKernels = inPool = poolCalls = parallelCalls = ownShare = inParallel = 0;
  const t0 = performance.now();
  await step.run();
  const total = performance.now() - t0;
  // The first 50 steps warm up (tier-up, the allocator's free lists).
  if (i >= 50) rows.push({ total, kernels: inKernels, pool: inPool, calls: poolCalls, parallel: parallelCalls, waits: inParallel - ownShare, phases: new Map(phaseOutside), perKernel: new Map(kernelMs) });
}
const us = (ms: number): string => `${(ms * 1000).toFixed(0)} us`;
const totals = rows.map((r) => r.total);
console.log(`${w.name} on ${backend.name} (${backend.details ?? ''}), ${rows.length} steps after 50 of warm-up; medians per step:`);
console.log(`  step                        ${us(median(totals))}  (${((w.batch / median(totals)) * 1000).toFixed(0)} img/s)`);
console.log(`  inside kernel calls         ${us(median(rows.map((r) => r.kernels)))}`);
console.log(`    of which in the wasm pool ${us(median(rows.map((r) => r.pool)))}  (${median(rows.map((r) => r.calls))} calls, ${median(rows.map((r) => r.parallel))} on every thread)`);
console.log(`      waking and waiting      ${us(median(rows.map((r) => r.waits)))}  (calls on every thread, beyond the calling thread's own share)`);
console.log(`    TypeScript glue           ${us(median(rows.map((r) => r.kernels - r.pool)))}`);
console.log(`  outside kernels             ${us(median(rows.map((r) => r.total - r.kernels)))}  (Net executor, loss, optimizer, allocation)`);
for (const phase of ['Net.forward', 'Net.backward', 'Sgd.step']) {
  console.log(`    in ${phase.padEnd(24)}${us(median(rows.map((r) => r.phases.get(phase) ?? 0)))}`);
}
console.log(`    elsewhere (loss, batch)     ${us(median(rows.map((r) => r.total - r.kernels - [...r.phases.values()].reduce((a, b) => a + b, 0))))}`);
// Per kernel: the median over the steps of its calls' time in a step (a step the OS interrupted
// inflates one kernel's figure in that step only), and the last step's split.
const perKernel = (name: string): number => median(rows.map((r) => r.perKernel.get(name) ?? 0));
console.log('  per kernel: median per step over the steps; last step: of which outside the wasm pool, waiting for workers, calls');
for (const name of [...kernelMs.keys()].sort((a, b) => perKernel(b) - perKernel(a))) {
  const ms = kernelMs.get(name) ?? 0;
  console.log(`    ${name.padEnd(18)} ${us(perKernel(name)).padStart(8)} ${us(ms - (kernelPoolMs.get(name) ?? 0)).padStart(7)} ${us(kernelWaitMs.get(name) ?? 0).padStart(7)}  ${kernelCalls.get(name)} call(s), ${kernelParallel.get(name) ?? 0} on every thread`);
}
await step.dispose?.();
await backend.dispose();
process.exit(0);
