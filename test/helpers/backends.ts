import type { Backend } from '../../src/backends/backend.js';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';

const wasmBackend = await createWasmBackend();

/**
 * The backends every backend-agnostic test body runs on. A test loops over this list so that a new
 * backend is checked by the same assertions as the reference one.
 */
export function testBackends(): Backend[] {
  return [referenceBackend, wasmBackend];
}
