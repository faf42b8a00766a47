import type { Backend } from './backend.js';
import { referenceBackend } from './reference/index.js';
import { createWasmBackend } from './wasm/index.js';
import { createNativeBackend, nativeUnavailableReason } from './native/backend.js';

/** What the caller may ask of any backend it opens; a backend ignores what does not apply to it. */
export interface OpenOptions {
  /** Threads to compute on, the calling one included; default: one per available core. */
  threads?: number;
}

/** One backend the CLI, the tests and the benchmark can open by name. */
export interface BackendEntry {
  /** The name `--backend` takes, e.g. `wasm`. */
  readonly name: string;
  /** One line for `--backend`'s help. */
  readonly description: string;
  /** Whether this runtime can open it (a GPU backend would look for a GPU here). */
  available(): boolean;
  /** Why `available()` is false, in a few words (e.g. the native addon was not built); null when it is available. */
  unavailableReason?(): string | null;
  /** Opens a new instance; the caller disposes of it. */
  create(options?: OpenOptions): Promise<Backend>;
}

/**
 * Every backend, the reference first. A new backend is one entry here and its own directory under
 * src/backends/; the conformance suite (test/backends/conformance.test.ts) then checks it.
 */
export const BACKENDS: readonly BackendEntry[] = [
  {
    name: 'reference',
    description: 'plain TypeScript loops, float32 and float64, the definition of correct',
    available: () => true,
    create: async () => referenceBackend,
  },
  {
    name: 'wasm',
    description: 'WebAssembly SIMD kernels on threads for float32, the reference for the rest',
    available: () => typeof WebAssembly === 'object' && typeof SharedArrayBuffer === 'function',
    create: (options = {}) => createWasmBackend(options.threads === undefined ? {} : { threads: options.threads }),
  },
  {
    name: 'native',
    description: 'C kernels (AVX-512 or AVX2+FMA) on a thread pool for float32, the reference for the rest; Node only, built at install',
    available: () => nativeUnavailableReason() === null,
    unavailableReason: nativeUnavailableReason,
    create: (options = {}) => createNativeBackend(options.threads === undefined ? {} : { threads: options.threads }),
  },
];

/**
 * The backend the CLI and `openBackend` use when none is named: native where its addon was built
 * and this CPU runs it, else wasm.
 */
export const DEFAULT_BACKEND: string = nativeUnavailableReason() === null ? 'native' : 'wasm';

/** The registry's entry for `name`; throws an error listing the names when there is none. */
export function backendEntry(name: string): BackendEntry {
  const entry = BACKENDS.find((b) => b.name === name);
  if (entry === undefined) throw new Error(`unknown backend '${name}': expected ${BACKENDS.map((b) => b.name).join(' or ')}`);
  return entry;
}

/** The backends this runtime can open, in registry order. */
export function availableBackends(): BackendEntry[] {
  return BACKENDS.filter((b) => b.available());
}

/** Opens the backend named `name` (default: DEFAULT_BACKEND); throws if it is unknown or unavailable here. */
export async function openBackend(name: string = DEFAULT_BACKEND, options: OpenOptions = {}): Promise<Backend> {
  const entry = backendEntry(name);
  if (!entry.available()) {
    const why = entry.unavailableReason?.() ?? null;
    throw new Error(`the ${name} backend is not available in this runtime${why === null ? '' : `: ${why}`}`);
  }
  return entry.create(options);
}
