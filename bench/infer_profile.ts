/**
 * `npx tsx bench/infer_profile.ts [--workload "W2 resnet18 b1"] [--backend native] [--threads N] [--runs 20] [--calls]`:
 * where an inference pass's time goes, kernel by kernel (issue 15's batch-1 inference). Runs the
 * bench workload's net in inference on one fixed batch with every kernel of the backend timed, then
 * prints the median and best pass and, per kernel, its mean time and calls per pass; with `--calls`
 * also each call of the last pass in order. A diagnostic, not a benchmark: run `bench/run.ts` for
 * figures beside the peers.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { openBackend } from '../src/backends/registry.js';
import { KERNEL_NAMES } from '../src/backends/fallback.js';
import type { Backend } from '../src/backends/backend.js';
import { Net } from '../src/net/net.js';
import { Tensor } from '../src/tensor/tensor.js';
import { workloads } from './workloads.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W2 resnet18 b1' },
    backend: { type: 'string', default: 'native' },
    threads: { type: 'string' },
    runs: { type: 'string', default: '20' },
    calls: { type: 'boolean', default: false },
  },
});
const workload = workloads().find((w) => w.name.startsWith(values.workload));
if (workload === undefined) throw new Error(`no workload named ${values.workload}: ${workloads().map((w) => w.name).join(', ')}`);
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const runs = Number(values.runs);

const totalMs = new Map<string, number>();
const callCount = new Map<string, number>();
let lastPass: string[] = [];

/** Wraps each kernel of `backend` (own properties, as withReferenceFallback makes them) with a timer; nested calls count once. */
function instrument(backend: Backend): void {
  const target = backend as unknown as Record<string, unknown>;
  let depth = 0;
  for (const name of [...KERNEL_NAMES, 'conv2dRelu', 'conv2dAffine', 'maxPool2dValues']) {
    const kernel = target[name];
    if (typeof kernel !== 'function') continue;
    target[name] = (...args: unknown[]): unknown => {
      const outer = depth++ === 0;
      const t0 = performance.now();
      try {
        return kernel.apply(backend, args);
      } finally {
        depth--;
        if (outer) {
          const ms = performance.now() - t0;
          totalMs.set(name, (totalMs.get(name) ?? 0) + ms);
          callCount.set(name, (callCount.get(name) ?? 0) + 1);
          lastPass.push(`${name.padEnd(16)} ${ms.toFixed(3)} ms`);
        }
      }
    };
  }
}

const backend = await openBackend(values.backend, { threads });
instrument(backend);
const net = new Net(workload.spec, { seed: 1, backend });
const shape = [workload.batch, ...workload.spec.input];
const x = Tensor.from(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 97) / 97 - 0.5), 'float32', backend.allocator);
// Warm-up: the workspace grows, the allocator's free lists fill, the threads start.
for (let i = 0; i < 5; i++) net.forward(x).dispose();
totalMs.clear();
callCount.clear();
const passes: number[] = [];
for (let i = 0; i < runs; i++) {
  lastPass = [];
  const t0 = performance.now();
  net.forward(x).dispose();
  passes.push(performance.now() - t0);
}
passes.sort((a, b) => a - b);
const inKernels = [...totalMs.values()].reduce((a, b) => a + b, 0) / runs;
console.log(`${workload.name} on ${backend.name} (${backend.details}): median ${(passes[runs >> 1] as number).toFixed(2)} ms, best ${(passes[0] as number).toFixed(2)} ms; in kernels ${inKernels.toFixed(2)} ms a pass (mean)`);
for (const [name, ms] of [...totalMs].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${name.padEnd(16)} ${(ms / runs).toFixed(3).padStart(8)} ms  ${((callCount.get(name) as number) / runs).toFixed(0).padStart(3)} calls`);
}
if (values.calls) console.log(['each call of the last pass:', ...lastPass.map((line) => `  ${line}`)].join('\n'));
await backend.dispose();
