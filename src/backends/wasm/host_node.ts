import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HostWorker, WasmHost, WorkerData } from './host.js';

/** The threads a Node runtime runs on when asked for `requested` (default: one per available core). */
export function threadCount(requested?: number): number {
  return Math.max(1, Math.floor(requested ?? availableParallelism()));
}

/** Node's host: the binary from the package's build folder, threads as worker_threads. */
export const nodeHost: WasmHost = {
  cores: () => availableParallelism(),
  noThreadsReason: () => null,
  loadBinary: (name) => readFile(new URL(`./build/${name}`, import.meta.url)),
  /** NOTE: Node 20 (V8 11.3) has relaxed SIMD behind a flag, which may be set before compiling. */
  async enableRelaxedSimd() {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  },
  startWorker(source: string, data: WorkerData): HostWorker {
    const prelude = "const { parentPort, workerData } = require('node:worker_threads');\n";
    const main = 'main(workerData, () => parentPort.postMessage("ready"));\n';
    const worker = new Worker(prelude + source + main, { eval: true, workerData: data });
    // Idle workers sleep in Atomics.wait; they must not keep the process alive.
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return { ready, terminate: () => worker.terminate() };
  },
};
