import { createWasmBackendOn, type WasmBackend, type WasmBackendOptions } from './backend.js';
import { browserHost, type BrowserHostOptions } from './host_browser.js';

/** Options of the wasm backend in a browser: those of Node's, and where the binaries are. */
export type BrowserWasmBackendOptions = WasmBackendOptions & BrowserHostOptions;

/**
 * Creates the wasm backend in a browser: fetches the binary by URL (`binaries`, default `build/`
 * beside the bundle) and, where the page is cross-origin isolated and this code runs in a Worker,
 * starts `threads - 1` Web Workers (default: one per core). Elsewhere it runs on one thread and
 * `singleThreadReason` says why.
 */
export function createWasmBackend(options: BrowserWasmBackendOptions = {}): Promise<WasmBackend> {
  const { binaries, ...rest } = options;
  return createWasmBackendOn(browserHost(binaries === undefined ? {} : { binaries }), rest);
}
