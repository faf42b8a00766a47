import type { Command } from 'commander';
import { referenceWorkspace } from '../backends/reference/workspace.js';
import { threadCount } from '../backends/wasm/host_node.js';
import { WASM_FUSIONS, wasmWorkspace } from '../backends/wasm/workspace.js';
import { NATIVE_FUSIONS, nativeWorkspace } from '../backends/native/workspace.js';
import { DEFAULT_BACKEND } from '../backends/registry.js';
import { NO_FUSIONS } from '../graph/schedule.js';
import { estimateMemory, maxBatch, type EstimateOptions, type InferenceMemory, type MemoryEstimate, type TrainingMemory } from '../memory/estimate.js';
import { storedForBackward } from '../memory/stored.js';
import { formatBytes } from '../memory/units.js';
import type { DType } from '../tensor/tensor.js';
import { parseOptimizerName } from '../train/optimizers/index.js';
import { compileSpec, type SpecOptions } from './model.js';
import { parseNumber } from './options.js';
import { parseFreeze } from './finetune.js';
import { frozenLayers, headLayer } from '../train/finetune.js';

interface MemoryOptions extends SpecOptions {
  batch?: string;
  optimizer: string;
  dtype: string;
  budget?: string;
  augment?: boolean;
  json?: boolean;
  backend: string;
  threads?: string;
  freeze?: string;
}

const TRAINING_ROWS: [keyof TrainingMemory, string][] = [
  ['activations', 'activations'],
  ['activationGradients', 'activation gradients'],
  ['params', 'parameters'],
  ['paramGradients', 'parameter gradients'],
  ['optimizerState', 'optimizer state'],
  ['data', 'data batch'],
  ['workspace', 'workspace'],
  ['total', 'total'],
];

const INFERENCE_ROWS: [keyof InferenceMemory, string][] = [
  ['activations', 'activations (peak live set)'],
  ['params', 'parameters'],
  ['workspace', 'workspace'],
  ['total', 'total'],
];

/**
 * `convstack memory <spec|zoo name> --batch B`: the notes' "Computational Considerations" for this
 * engine: what a training step and an inference pass hold at their peak, and with `--budget` the
 * largest batch that fits (without `--batch`, the figures are those of that batch).
 */
export function registerMemory(program: Command): void {
  program
    .command('memory <model>')
    .description('estimate the peak memory of a training step and of an inference pass, and the largest batch that fits a budget')
    .option('--batch <B>', 'images per batch (default with --budget: the largest batch that fits)')
    .option('--optimizer <name>', 'sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw', 'sgd')
    .option('--dtype <dtype>', 'float32 or float64', 'float32')
    .option('--budget <size>', 'memory available, e.g. 12GiB (1024-based) or 12GB (1000-based): report the largest batch that fits')
    .option('--augment', 'training data is augmented (random shifts and flips)')
    .option('--input <HxWxC>', 'input volume, overriding the spec\'s INPUT')
    .option('--set <vars>', 'values for the spec\'s variables, e.g. N=2,M=3')
    .option('--classes <n>', 'class count of a zoo net (sets CLASSES)')
    .option('--backend <name>', 'the backend whose kernels, scratch and fusions the estimate follows: native, wasm or reference', DEFAULT_BACKEND)
    .option('--threads <n>', 'threads of the native or wasm backend, whose scratch is per thread (default: one per core)')
    .option('--freeze <layers>', "a fine-tune's frozen layers: backbone (all but the last FC) or layer names joined by commas; they get no gradients and no optimizer state")
    .option('--json', 'print the figures as JSON, in bytes')
    .action(async (model: string, options: MemoryOptions) => {
      if (options.batch === undefined && options.budget === undefined) throw new Error('memory: give --batch B, or --budget 12GiB to find the largest batch that fits');
      const backend = backendModel(options);
      const estimateOptions: Omit<EstimateOptions, 'batch'> = {
        optimizer: parseOptimizerName(options.optimizer),
        dtype: parseDtype(options.dtype),
        augment: options.augment === true,
        workspace: backend.workspace,
        fusions: backend.fusions,
      };
      const budget = options.budget === undefined ? null : parseBudget(options.budget);
      const compiled = await compileSpec(model, {
        ...(options.input !== undefined && { input: options.input }),
        ...(options.set !== undefined && { set: options.set }),
        ...(options.classes !== undefined && { classes: options.classes }),
      });
      const frozen = options.freeze === undefined ? [] : frozenLayers(compiled.spec, headLayer(compiled.spec).name, parseFreeze(options.freeze));
      if (frozen.length > 0) estimateOptions.frozen = frozen;
      const fit = budget === null ? null : maxBatch(compiled.spec, budget, estimateOptions);
      const batch = options.batch !== undefined ? parseBatch(options.batch) : Math.max(1, fit?.training ?? 1);
      const estimate = estimateMemory(compiled.spec, { ...estimateOptions, batch });
      const stored = storedForBackward(compiled.spec, { batch, dtype: estimateOptions.dtype ?? 'float32', fusions: backend.fusions, frozen });
      if (options.json) {
        const json = { backend: backend.name, frozen, training: estimate.training, storedForBackward: stored.bytes, inference: estimate.inference, maxBatch: fit };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      const chosen = options.batch === undefined && fit !== null && fit.training > 0 ? ' (the largest that fits the budget for training)' : '';
      const heading = `${compiled.origin}: batch ${batch}${chosen}, ${estimateOptions.dtype}, ${estimateOptions.optimizer}${estimateOptions.augment ? ', augmented' : ''}${frozen.length > 0 ? `, ${frozen.length} layers frozen` : ''}; ${backend.description}`;
      process.stdout.write(render(heading, estimate, stored, budget, fit));
    });
}

/** The backend the estimate follows: its kernels' scratch, its fused kernels, and how to name it. */
interface BackendModel {
  name: 'native' | 'wasm' | 'reference';
  description: string;
  workspace: NonNullable<EstimateOptions['workspace']>;
  fusions: NonNullable<EstimateOptions['fusions']>;
}

function backendModel(options: MemoryOptions): BackendModel {
  if (options.backend === 'reference') {
    if (options.threads !== undefined) throw new Error('--threads: only the native and wasm backends run on threads');
    return { name: 'reference', description: 'reference backend', workspace: referenceWorkspace, fusions: NO_FUSIONS };
  }
  if (options.backend !== 'wasm' && options.backend !== 'native') throw new Error(`--backend: expected native, wasm or reference, got '${options.backend}'`);
  const threads = threadCount(options.threads === undefined ? undefined : parseNumber('threads', options.threads, 'int'));
  if (options.backend === 'native') {
    // nativeWorkspace throws, saying why, where the addon is not available.
    return { name: 'native', description: `native backend, ${threads} thread${threads === 1 ? '' : 's'}`, workspace: nativeWorkspace(threads), fusions: NATIVE_FUSIONS };
  }
  return { name: 'wasm', description: `wasm backend, ${threads} thread${threads === 1 ? '' : 's'}`, workspace: wasmWorkspace(threads), fusions: WASM_FUSIONS };
}

function render(heading: string, estimate: MemoryEstimate, stored: { values: number; bytes: number }, budget: number | null, fit: { training: number; inference: number } | null): string {
  const row = (label: string, values: number, bytes: number): string => `  ${label.padEnd(30)}${count(values).padStart(16)} values${formatBytes(bytes).padStart(14)}`;
  const table = <K extends string>(title: string, rows: [K, string][], bytes: Record<K, number>, values: Record<K, number>): string[] => [
    title,
    ...rows.map(([key, label]) => row(label, values[key], bytes[key])),
  ];
  const lines = [
    heading,
    ...table('training step, at its peak', TRAINING_ROWS, estimate.training, estimate.values.training),
    'activations stored for backward (the tape when forward ends, the most the activations row holds)',
    row('stored for backward', stored.values, stored.bytes),
    ...table('inference pass, at its peak', INFERENCE_ROWS, estimate.inference, estimate.values.inference),
  ];
  if (budget !== null && fit !== null) lines.push(budgetLine(budget, fit, estimate));
  lines.push('sizes are 1024-based: 1 KiB = 1024 B, 1 MiB = 1024 KiB, 1 GiB = 1024 MiB');
  return `${lines.join('\n')}\n`;
}

/** The largest batches, or what stops even one image from fitting: the parameters alone, or with their gradients and optimizer state. */
function budgetLine(budget: number, fit: { training: number; inference: number }, estimate: MemoryEstimate): string {
  const prefix = `budget ${formatBytes(budget)}:`;
  const params = estimate.inference.params;
  if (params > budget) return `${prefix} the parameters alone take ${formatBytes(params)}; no batch fits, for training or inference`;
  const fixed = estimate.training.params + estimate.training.paramGradients + estimate.training.optimizerState;
  if (fit.training === 0 && fixed > budget) {
    return `${prefix} the parameters, their gradients and the optimizer state take ${formatBytes(fixed)}; no batch fits for training, ${fit.inference === 0 ? 'none for inference' : `${fit.inference} for inference`}`;
  }
  return `${prefix} largest batch ${fit.training} for training, ${fit.inference} for inference`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function parseBatch(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--batch: expected a positive integer, got '${value}'`);
  return Number(value);
}

function parseDtype(value: string): DType {
  if (value !== 'float32' && value !== 'float64') throw new Error(`--dtype: expected float32 or float64, got '${value}'`);
  return value;
}

/** Bytes per unit: 1024-based (KiB, MiB, GiB, TiB) and 1000-based (KB, MB, GB, TB), as the user writes them. */
const SIZE_UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };

/** `12GiB`, `12 GB`, `1.5GiB`, `512MiB` -> bytes. A bare number is refused: 12 is not 12 GiB. */
export function parseBudget(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  const perUnit = match === null ? undefined : SIZE_UNITS[(match[2] as string).toLowerCase()];
  if (match === null || perUnit === undefined) {
    const bare = match !== null && match[2] === '';
    throw new Error(`--budget: ${bare ? `'${value}' has no unit; write 12GiB, 12GB, 512MiB or 512MB` : `expected a size such as 12GiB, 12GB, 512MiB or 512MB, got '${value}'`}`);
  }
  return Math.floor(Number(match[1]) * perUnit);
}
