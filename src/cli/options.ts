import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { Backend } from '../backends/backend.js';
import { formatPlacement } from '../backends/fallback.js';
import { BACKENDS, DEFAULT_BACKEND, openBackend as openNamedBackend } from '../backends/registry.js';
import { warn } from './errors.js';

/** What `--backend` and `--threads` say, on every command that computes. */
export interface BackendOptions {
  /** `--backend`: reference or wasm. */
  backend: string;
  /** `--threads`: the wasm backend's threads, as typed. */
  threads?: string;
  /** `--debug-backend`: list where each kernel runs. */
  debugBackend?: boolean;
}

/** Adds `--backend`, `--threads` and `--debug-backend` to a command. */
export function withBackendOptions(command: Command): Command {
  return command
    .option('--backend <name>', BACKENDS.map((b) => `${b.name}: ${b.description}`).join('; '), DEFAULT_BACKEND)
    .option('--threads <n>', 'threads for the backend to compute on (default: one per core)')
    .option('--debug-backend', 'list where each kernel runs: on the backend itself or falling back to the reference one');
}

/** A backend by the name `--backend` takes, and how to release it (the wasm one runs worker threads). */
export interface OpenBackend {
  /** The backend to compute on. */
  backend: Backend;
  /** For messages: `reference`, `wasm (2 threads)`. */
  description: string;
  /** Releases the backend (stops the wasm worker threads). */
  close(): Promise<void>;
}

/** Opens the registry's backend named by `--backend` (with `--threads`, default one thread per core). */
export async function openBackend(options: BackendOptions): Promise<OpenBackend> {
  if (!BACKENDS.some((b) => b.name === options.backend)) {
    throw new Error(`--backend: expected ${BACKENDS.map((b) => b.name).join(' or ')}, got '${options.backend}'`);
  }
  const threads = options.threads === undefined ? undefined : parseNumber('threads', options.threads, 'int');
  if (threads !== undefined && threads > availableParallelism()) warn(`--threads ${threads} is more than this machine's ${availableParallelism()} cores; the extra threads share cores and run slower`);
  const backend = await openNamedBackend(options.backend, threads === undefined ? {} : { threads });
  if (options.debugBackend) process.stderr.write(`${unavailableLines()}${formatPlacement(backend)}\n`);
  const description = backend.details === undefined ? backend.name : `${backend.name} (${backend.details})`;
  return { backend, description, close: () => backend.dispose() };
}

/** One line per registered backend this runtime cannot open, saying why (for `--debug-backend`). */
function unavailableLines(): string {
  return BACKENDS.filter((b) => !b.available())
    .map((b) => `${b.name} backend unavailable: ${b.unavailableReason?.() ?? 'not in this runtime'}\n`)
    .join('');
}

/** Parses a CLI number: an integer at least `min`, or any non-negative float. */
export function parseNumber(option: string, value: string, kind: 'int' | 'float', min = 1): number {
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (kind === 'int' ? Number.isInteger(n) && n >= min : n >= 0);
  if (!ok) throw new Error(`--${option}: expected ${kind === 'int' ? `an integer >= ${min}` : 'a non-negative number'}, got '${value}'`);
  return n;
}
