import type { HostWorker, WasmHost, WorkerData } from './host.js';

/** Where a browser host finds the binaries. */
export interface BrowserHostOptions {
  /**
   * The folder holding convstack-simd.wasm and convstack-relaxed.wasm; default: `build/` beside
   * the module (or the bundle) that holds this code.
   */
  binaries?: string | URL;
}

/** True on a page's main thread, where Atomics.wait throws. */
function onMainThread(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

/**
 * A browser's host: binaries fetched by URL, threads as Web Workers over the shared memory, which
 * needs a cross-origin isolated page (COOP same-origin, COEP require-corp) and a caller that may
 * block (a Worker: the pool waits with Atomics.wait for its threads).
 */
export function browserHost(options: BrowserHostOptions = {}): WasmHost {
  const base = new URL(options.binaries ?? './build/', import.meta.url);
  return {
    cores: () => globalThis.navigator?.hardwareConcurrency ?? 1,
    noThreadsReason() {
      if (!globalThis.crossOriginIsolated) return 'the page is not cross-origin isolated (no COOP/COEP headers)';
      if (onMainThread()) return "a page's main thread may not wait for workers; run the net in a Worker";
      return null;
    },
    async loadBinary(name) {
      const response = await fetch(new URL(name, base));
      if (!response.ok) throw new Error(`cannot load ${response.url}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    enableRelaxedSimd: async () => false,
    startWorker(source: string, data: WorkerData): HostWorker {
      const main = 'self.onmessage = (event) => main(event.data, () => self.postMessage("ready"));\n';
      const url = URL.createObjectURL(new Blob([source + main], { type: 'text/javascript' }));
      const worker = new Worker(url);
      const ready = new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (event) => reject(new Error(`wasm worker ${data.tid} failed: ${event.message}`));
      }).finally(() => URL.revokeObjectURL(url));
      worker.postMessage(data);
      return { ready, terminate: async () => worker.terminate() };
    },
  };
}
