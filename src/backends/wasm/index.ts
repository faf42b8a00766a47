import { createWasmBackendOn, type WasmBackend, type WasmBackendOptions } from './backend.js';
import { nodeHost } from './host_node.js';

export type { WasmBackend, WasmBackendOptions } from './backend.js';

/**
 * Creates the wasm backend in Node: loads the relaxed-SIMD binary where the runtime has it (else
 * plain SIMD) and starts `threads - 1` worker threads (default: one per available core).
 * `dispose()` stops them. In a browser, `convstack/browser` has its own `createWasmBackend`.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  return createWasmBackendOn(nodeHost, options);
}
