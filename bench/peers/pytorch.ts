import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatSafetensors } from '../../src/io/safetensors.js';
import { Net } from '../../src/net/net.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Batches } from '../data.js';
import type { MeasureOptions, Step, Timing } from '../measure.js';
import type { Workload } from '../workloads.js';
import { SGD, type Peer } from './peer.js';

/** Debian's Python, where python3-torch installs (the pyenv python3 first on PATH has no torch). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pytorch_peer.py', import.meta.url));
/** Importing torch takes 1-3 s; a peer silent for this long is broken. */
const READY_TIMEOUT_MS = 60_000;

/** What bench/peers/pytorch_peer.py says when it starts. */
interface Ready {
  torch: string;
  threads: number;
  capability: string;
}

type Reply = Partial<Timing> & { ready?: boolean; skip?: string; error?: string; output?: number[] } & Partial<Ready>;

/** One JSON line out, one JSON line back, in order: the Python process answers requests one at a time. */
class Channel {
  private readonly waiting: ((reply: Reply) => void)[] = [];

  constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as Reply));
    child.on('exit', (code) => this.waiting.splice(0).forEach((resolve) => resolve({ error: `the PyTorch process exited (code ${code})` })));
    child.on('error', (error) => this.waiting.splice(0).forEach((resolve) => resolve({ error: error.message })));
  }

  /** The next line the process writes (its first one is the ready line). */
  next(): Promise<Reply> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  request(message: object): Promise<Reply> {
    const reply = this.next();
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return reply;
  }
}

/** The PyTorch peer: a Peer, a line for the bench's header, and its net's output for a check. */
export interface PytorchPeer extends Peer {
  /** What runs (torch version, threads, ATen's ISA), or why PyTorch is unavailable. */
  readonly info: string;
  /** True when torch started; otherwise every workload is skipped with `info` as the reason. */
  readonly available: boolean;
  /** The workload's net in eval mode on the first batch, flat, as PyTorch computes it (test/bench checks it). */
  forwardOutput(w: Workload, batches: Batches): Promise<Float32Array>;
}

/**
 * PyTorch (Debian's python3-torch) in a subprocess, on the same workloads as every other peer: the
 * net built from the same NetSpec, with the weights convstack's Net starts from and the same batches
 * (both passed as safetensors files in a temporary directory), `threads` intra-op threads, and the
 * bench's timing rule applied in Python so no pipe round trip is timed. The process inherits the
 * bench's environment (OPENBLAS_CORETYPE and the like). `skip` is set when torch cannot be started.
 */
export async function pytorchPeer(threads: number): Promise<PytorchPeer> {
  const child = spawn(PYTHON, [SCRIPT, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const channel = new Channel(child);
  const timeout = new Promise<Reply>((resolve) => setTimeout(() => resolve({ error: 'no answer within 60 s' }), READY_TIMEOUT_MS).unref());
  const ready = await Promise.race([channel.next(), timeout]);
  const unavailable = ready.ready === true ? undefined : `PyTorch unavailable: ${ready.error ?? 'no ready line'} (needs ${PYTHON} with python3-torch)`;
  if (unavailable !== undefined) child.kill();
  const directory = mkdtempSync(join(tmpdir(), 'convstack-bench-torch-'));
  return {
    name: 'pytorch',
    info: unavailable ?? `pytorch: torch ${ready.torch}, ${ready.threads} thread(s), ATen's kernels built for ${ready.capability}`,
    available: unavailable === undefined,
    async forwardOutput(w: Workload, batches: Batches): Promise<Float32Array> {
      if (unavailable !== undefined) throw new Error(unavailable);
      const files = writeInputs(directory, w, batches);
      const reply = await channel.request({ spec: w.spec, forward: true, ...files });
      if (reply.output === undefined) throw new Error(reply.error ?? 'no output in the reply');
      return Float32Array.from(reply.output);
    },
    async prepare(w: Workload, batches: Batches): Promise<Step | { skip: string }> {
      if (unavailable !== undefined) return { skip: unavailable };
      const files = writeInputs(directory, w, batches);
      return {
        run: () => {
          throw new Error('the PyTorch peer times itself: call timed()');
        },
        timed: async (options: MeasureOptions): Promise<Timing> => {
          const reply = await channel.request({ spec: w.spec, kind: w.kind, sgd: SGD, measure: options, ...files });
          if (reply.skip !== undefined) throw new SkipError(reply.skip);
          if (reply.error !== undefined || reply.ms === undefined || reply.runs === undefined) throw new Error(reply.error ?? 'no timing in the reply');
          return { ms: reply.ms, runs: reply.runs };
        },
        dispose: () => {
          rmSync(files.weights, { force: true });
          rmSync(files.batches, { force: true });
        },
      };
    },
    async dispose(): Promise<void> {
      child.stdin.end();
      child.kill();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A layer PyTorch's side has no translation for: the workload is skipped, not failed. */
export class SkipError extends Error {
  override name = 'SkipError';
}

/** The Net's initial weights (seed 1, as every peer) and the batches, as safetensors files. */
function writeInputs(directory: string, w: Workload, batches: Batches): { weights: string; batches: string } {
  const net = new Net(w.spec, { seed: 1 });
  const weights = new Map([...net.params].map(([name, p]) => [name, p.value]));
  const count = batches.images.length;
  const images = new Float32Array(count * (batches.images[0]?.length ?? 0));
  batches.images.forEach((x, i) => images.set(x, i * x.length));
  const labels = new Float32Array(count * batches.shape[0]);
  batches.labels.forEach((y, i) => labels.set(y, i * y.length));
  const batchTensors = new Map([
    ['images', Tensor.from([count, ...batches.shape], images)],
    ['labels', Tensor.from([count, batches.shape[0]], labels)],
  ]);
  const files = { weights: join(directory, 'weights.safetensors'), batches: join(directory, 'batches.safetensors') };
  writeFileSync(files.weights, formatSafetensors(weights));
  writeFileSync(files.batches, formatSafetensors(batchTensors, {}, new Map([['labels', 'I32']])));
  return files;
}
