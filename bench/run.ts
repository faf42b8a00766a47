/**
 * `npm run bench [-- --json] [--threads N] [--only W1,W4] [--peers convstack-wasm,pytorch]`:
 * convstack's backends (every one in the registry) beside the npm peers and PyTorch (when Debian's
 * python3-torch is installed) on issue 7's workloads, in one run. Medians of several runs after
 * warm-up; the table gives each peer's figure and the default backend's speed relative to it, and
 * for convstack's backends the GFLOP/s and their fraction of the machine's FMA peak. `--json`
 * prints one object per line: {"peer", "workload", "ms", "gflops" | "img_s"} (or "skipped" with
 * the reason), after a {"machine", "fmaPeak", "env"} line.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_BACKEND, availableBackends } from '../src/backends/registry.js';
import { makeBatches } from './data.js';
import { measure } from './measure.js';
import { convstackPeer } from './peers/convstack.js';
import { tfjsPeer } from './peers/tfjs.js';
import { convnetjsPeer } from './peers/convnetjs.js';
import { onnxruntimePeer } from './peers/onnxruntime.js';
import { pytorchPeer, SkipError, type PytorchPeer } from './peers/pytorch.js';
import { describeMachine, measureFmaPeak, peakGflops, type FmaPeak } from './peak.js';
import { browserPeer } from './peers/browser.js';
import type { Peer } from './peers/peer.js';
import { workloads, type Workload } from './workloads.js';

interface Result {
  peer: string;
  workload: string;
  ms?: number;
  gflops?: number;
  img_s?: number;
  skipped?: string;
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    threads: { type: 'string' },
    only: { type: 'string' },
    peers: { type: 'string' },
  },
});
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const only = values.only?.split(',');
const wanted = values.peers?.split(',');

/** The convstack backend the table compares every peer with. */
const OURS = `convstack-${DEFAULT_BACKEND}`;

/** Per backend, the steps that take tens of seconds each: left out to keep the run near 10 minutes. */
const BACKEND_TOO_SLOW = new Map([
  [
    'reference',
    new Map([
      ['W2 resnet18 b8', 'too slow for the benchmark budget (8x the b1 figure)'],
      ['W3 vgg16 b1', 'too slow for the benchmark budget (~30 GFLOP per image)'],
    ]),
  ],
]);

/** tfjs-cpu's backward runs at ~0.02 GFLOP/s here: minutes per step on these. */
const TFJS_CPU_TOO_SLOW = new Map([
  ['W1 conv fwd+bwd', 'too slow for the benchmark budget (~4 minutes per step)'],
  ['W2 resnet18 b8', 'too slow for the benchmark budget'],
  ['W3 vgg16 b1', 'too slow for the benchmark budget'],
  ['W5 cifar train', 'too slow for the benchmark budget (minutes per step)'],
]);

/** Every backend of the registry, the default one first; only those `--peers` names are opened. */
async function convstackPeers(): Promise<Peer[]> {
  const entries = availableBackends()
    .filter((entry) => wanted === undefined || wanted.includes(`convstack-${entry.name}`))
    .sort((a, b) => Number(b.name === DEFAULT_BACKEND) - Number(a.name === DEFAULT_BACKEND));
  const list: Peer[] = [];
  for (const entry of entries) list.push(convstackPeer(`convstack-${entry.name}`, await entry.create({ threads }), BACKEND_TOO_SLOW.get(entry.name)));
  return list;
}

/** Started only when wanted: importing torch takes seconds. */
async function pytorch(): Promise<PytorchPeer[]> {
  return wanted === undefined || wanted.includes('pytorch') ? [await pytorchPeer(threads)] : [];
}

async function peers(): Promise<Peer[]> {
  const list: Peer[] = [
    ...(await convstackPeers()),
    ...torch,
    onnxruntimePeer(threads),
    tfjsPeer('wasm'),
    tfjsPeer('cpu', TFJS_CPU_TOO_SLOW),
    convnetjsPeer(),
    browserPeer(threads),
  ];
  return list.filter((p) => wanted === undefined || wanted.includes(p.name));
}

function resultOf(peer: string, w: Workload, ms: number): Result {
  const r: Result = { peer, workload: w.name, ms: round(ms) };
  if (w.metric === 'gflops') r.gflops = round(w.flops / ms / 1e6);
  if (w.metric === 'img_s') r.img_s = round((w.batch / ms) * 1000);
  return r;
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function figure(r: Result | undefined): number | undefined {
  return r?.gflops ?? r?.img_s ?? r?.ms;
}

/** Our default backend's speed over the peer's: > 1 means ours is faster. */
function ratio(w: Workload, ours: number | undefined, theirs: number | undefined): string {
  if (ours === undefined || theirs === undefined) return '';
  const r = w.metric === 'ms' ? theirs / ours : ours / theirs;
  return ` (${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x)`;
}

/** For a convstack backend's cell: the GFLOP/s (where the metric is not already GFLOP/s) and the fraction of the FMA peak. */
function peakShare(w: Workload, r: Result): string {
  if (r.ms === undefined || !('gflops' in peak)) return '';
  const gflops = w.flops / r.ms / 1e6;
  const limit = peakGflops(peak);
  const share = `${((100 * gflops) / limit).toFixed(gflops < 0.1 * limit ? 1 : 0)}% of peak`;
  return w.metric === 'gflops' ? ` [${share}]` : ` [${round(gflops)} GFLOP/s, ${share}]`;
}

function table(list: Workload[], peerNames: string[], results: Result[]): string {
  const unit = { gflops: 'GFLOP/s', img_s: 'img/s', ms: 'ms' } as const;
  const header = ['workload', ...peerNames];
  const rows = list.map((w) => {
    const ours = figure(results.find((r) => r.peer === OURS && r.workload === w.name));
    return [
      `${w.name} (${unit[w.metric]})`,
      ...peerNames.map((p) => {
        const r = results.find((x) => x.peer === p && x.workload === w.name);
        if (r === undefined) return '';
        if (r.skipped !== undefined) return '-';
        const share = p.startsWith('convstack-') ? peakShare(w, r) : '';
        return `${figure(r)}${p === OURS ? '' : ratio(w, ours, figure(r))}${share}`;
      }),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const notes = results.filter((r) => r.skipped !== undefined).map((r) => `- ${r.peer}, ${r.workload}: ${r.skipped}`);
  return [
    line(header),
    line(widths.map((wd) => '-'.repeat(wd))),
    ...rows.map(line),
    '',
    `In parentheses: ${OURS}'s speed relative to that peer (above 1: ${OURS} is faster).`,
    'In brackets (convstack backends): GFLOP/s counting 2 per multiply-add of the CONV and FC layers (backward: weight and input gradients) and their share of the FMA peak.',
    ...notes,
  ].join('\n');
}

/**
 * The environment variables that change a peer's kernels. NOTE: this environment sets
 * OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which keep OpenBLAS (and so torch.mm) on its AVX2
 * kernels even on an AVX-512 machine; the bench leaves them as they are and says so.
 */
function kernelEnv(): Record<string, string> {
  const names = Object.keys(process.env)
    .filter((k) => /^(OPENBLAS_|OMP_|MKL_|GOMP_|KMP_|DNNL_|ONEDNN_)/.test(k))
    .sort();
  return Object.fromEntries(names.map((k) => [k, process.env[k] as string]));
}

function header(): string[] {
  const lines = [`convstack bench: ${describeMachine()}, Node ${process.versions.node}, ${threads} thread(s) per peer, ${OURS} is the default`];
  lines.push(
    'gflops' in peak
      ? `FMA peak (fp32, ${peak.isa}, ${peak.source}): ${peakGflops(peak)} GFLOP/s for fractions (measured ${peak.gflops} on ${peak.threads} thread(s) at once, ${peak.gflops1} on one)`
      : `FMA peak: skipped (${peak.skip})`,
  );
  const env = Object.entries(kernelEnv());
  if (env.length > 0) {
    const openblas = env.some(([k]) => k.startsWith('OPENBLAS_CORETYPE')) ? ' (OPENBLAS_CORETYPE forces OpenBLAS, and torch.mm with it, onto those kernels: Haswell = AVX2 even where AVX-512 is present)' : '';
    lines.push(`Environment, inherited by every peer: ${env.map(([k, v]) => `${k}=${v}`).join(' ')}${openblas}`);
  }
  for (const p of torch) lines.push(p.info);
  return lines;
}

const list = workloads().filter((w) => only === undefined || only.some((o) => w.name.startsWith(o)));
const peak: FmaPeak = measureFmaPeak(threads);
const torch = await pytorch();
const all = await peers();
const results: Result[] = [];
if (values.json) console.log(JSON.stringify({ machine: describeMachine(), fmaPeak: peak, env: kernelEnv(), pytorch: torch[0]?.info }));
else console.log(header().join('\n'));
for (const w of list) {
  // Training walks the whole MNIST training split (125 batches of 64), as an epoch does: cycling
  // a few batches would overfit them and let gradients underflow into slow subnormal floats.
  const batches = makeBatches(w, w.kind !== 'train' ? 1 : w.mnist ? 125 : 16);
  for (const peer of all) {
    let result: Result;
    try {
      const step = await peer.prepare(w, batches);
      if ('skip' in step) {
        result = { peer: peer.name, workload: w.name, skipped: step.skip };
      } else {
        const { ms } = await measure(step);
        await step.dispose?.();
        result = resultOf(peer.name, w, ms);
      }
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? '';
      result = { peer: peer.name, workload: w.name, skipped: error instanceof SkipError ? reason : `failed: ${reason}` };
    }
    results.push(result);
    if (values.json) console.log(JSON.stringify(result));
    else console.error(`  ${w.name}, ${peer.name}: ${result.skipped ?? `${figure(result)}`}`);
  }
}
if (!values.json) console.log(`\n${table(list, all.map((p) => p.name), results)}`);
await Promise.all(all.map((p) => p.dispose?.()));
process.exit(0);
