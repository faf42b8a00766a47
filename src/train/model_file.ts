import type { Backend } from '../backends/backend.js';
import type { Normalization } from '../data/augment.js';
import { readSafetensors, writeSafetensors, type Safetensors } from '../io/safetensors.js';
import { INIT_SCHEMES, isInitScheme, type InitScheme } from '../net/init.js';
import { buildGraph, type Graph } from '../graph/graph.js';
import { Net } from '../net/net.js';
import { StateMismatchError, summarizeMismatch } from '../net/state.js';
import type { NetSpec } from '../net/spec.js';
import { toNetSpec, type CompileOptions } from '../notation/index.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What a model file says besides its weights: enough to rebuild, run, evaluate or fine-tune the net
 * with nothing else at hand.
 */
export interface ModelInfo {
  /** The net's layers and their wiring, as the engine builds it. */
  spec: NetSpec;
  /** The architecture in the notation, when the net was written in it; stored instead of the spec. */
  architecture?: string;
  /** The variable values and input volume the architecture text was compiled with. */
  compileOptions?: CompileOptions;
  /** Names of the output classes, in score order. */
  classes: string[];
  /** The per-channel normalisation the net was trained with; inputs in [0, 1] go through it. */
  normalization: Normalization;
  /** How the weights were initialised before training (net/init.ts), when the file says. */
  init?: InitScheme;
}

/** The metadata keys of a model file (safetensors `__metadata__`, strings only). */
const FORMAT = 'convstack-model/1';
const KEYS = {
  format: 'format',
  architecture: 'architecture',
  compileOptions: 'compile_options',
  spec: 'spec',
  classes: 'classes',
  normalization: 'normalization',
  init: 'init',
} as const;

/** A checkpoint's metadata has this key (its run's position), which tells it from a model file. */
export const CHECKPOINT_MARKER = 'train_state';
/** A checkpoint names the net's tensors with this prefix (its optimizer's with `optim.`). */
export const CHECKPOINT_MODEL_PREFIX = 'model.';

/** A model file is missing something or contradicts itself; names the file. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** The metadata that describes a model, for a model file or a checkpoint. */
export function modelMetadata(info: ModelInfo): Record<string, string> {
  return {
    [KEYS.format]: FORMAT,
    ...(info.architecture !== undefined ? { [KEYS.architecture]: info.architecture } : { [KEYS.spec]: JSON.stringify(info.spec) }),
    ...(info.architecture !== undefined && info.compileOptions !== undefined && { [KEYS.compileOptions]: JSON.stringify(info.compileOptions) }),
    [KEYS.classes]: JSON.stringify(info.classes),
    [KEYS.normalization]: JSON.stringify(info.normalization),
    ...(info.init !== undefined && { [KEYS.init]: info.init }),
  };
}

/** Reads a model description back from metadata, compiling the architecture text when there is one. */
export function modelInfoFromMetadata(metadata: Readonly<Record<string, string>>, file: string): ModelInfo {
  const fail = (message: string): never => {
    throw new ModelFileError(`${file}: ${message}`);
  };
  const json = (key: string): unknown => {
    const text = metadata[key];
    if (text === undefined) return fail(`no '${key}' in the metadata`);
    try {
      return JSON.parse(text);
    } catch {
      return fail(`the '${key}' metadata is not valid JSON`);
    }
  };
  if (metadata[KEYS.format] === undefined) fail('not a convstack model file (no format in its metadata)');
  const architecture = metadata[KEYS.architecture];
  let spec: NetSpec;
  const compileOptions = metadata[KEYS.compileOptions] !== undefined ? (json(KEYS.compileOptions) as CompileOptions) : undefined;
  if (compileOptions !== undefined && (typeof compileOptions !== 'object' || compileOptions === null || Array.isArray(compileOptions))) fail(`the 'compile_options' metadata must be an object`);
  if (architecture !== undefined) {
    try {
      spec = toNetSpec(architecture, compileOptions);
    } catch (error) {
      // NOTE: a NotationError shows the text with a caret under the place on further lines; the
      // first line already says where, and a model file's error stays on one line.
      return fail(`its architecture does not compile: ${firstLine((error as Error).message)}`);
    }
  } else {
    spec = json(KEYS.spec) as NetSpec;
    if (!isNetSpecShaped(spec)) fail(`the 'spec' metadata is not a net spec ({input: [C, H, W], nodes: [{name, op, attrs, inputs}, ...]})`);
  }
  const classes = json(KEYS.classes);
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) return fail(`the 'classes' metadata must be a list of names`);
  const norm = json(KEYS.normalization) as Normalization;
  const numbers = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (typeof norm !== 'object' || norm === null || !numbers(norm.mean) || !numbers(norm.std)) fail(`the 'normalization' metadata must be {mean: [...], std: [...]}`);
  const init = metadata[KEYS.init];
  if (init !== undefined && !isInitScheme(init)) fail(`the 'init' metadata must be one of ${INIT_SCHEMES.join(', ')}`);
  return { spec, ...(architecture !== undefined && { architecture }), ...(compileOptions !== undefined && { compileOptions }), classes, normalization: norm, ...(init !== undefined && isInitScheme(init) && { init }) };
}

/** Every parameter and buffer of the net by state_dict name, as a model file stores them. */
export function netTensors(net: Net): Map<string, Tensor> {
  return new Map([...net.params.values()].map((p) => [p.name, p.value]));
}

/** Writes a model file (temporary name, then rename): the net's weights and `info`, plus `extra` metadata. */
export async function saveModel(file: string, net: Net, info: ModelInfo, extra: Readonly<Record<string, string>> = {}): Promise<void> {
  await writeSafetensors(file, netTensors(net), { ...extra, ...modelMetadata(info) });
}

/** A net rebuilt from a model file, its weights loaded, and what the file says about it. */
export interface LoadedModel {
  /** The net, on the backend asked for, its weights loaded. */
  net: Net;
  /** What the file says about the net: its text, classes and normalisation. */
  info: ModelInfo;
  /** The file's whole metadata, including what `saveModel` was given as `extra`. */
  metadata: Record<string, string>;
}

/**
 * Builds a net from a safetensors file's contents and loads its weights. A checkpoint works too: its
 * weights are those under `model.` (see checkpoint.ts), and its optimizer state is ignored.
 */
export function netFromFile(contents: Safetensors, file: string, options: { backend?: Backend } = {}): LoadedModel {
  const info = modelInfoFromMetadata(contents.metadata, file);
  const prefix = contents.metadata[CHECKPOINT_MARKER] !== undefined ? CHECKPOINT_MODEL_PREFIX : '';
  const weights = new Map<string, Tensor>();
  for (const [name, t] of contents.tensors) if (name.startsWith(prefix)) weights.set(name.slice(prefix.length), t);
  checkNetFitsFile(info.spec, weights, file);
  const net = new Net(info.spec, options.backend ? { backend: options.backend } : {});
  try {
    net.loadState(weights);
  } catch (error) {
    // The file's architecture and its own weights disagree: a damaged file, said in one line.
    if (error instanceof StateMismatchError) throw new ModelFileError(`${file}: its weights do not match the net it describes: ${summarizeMismatch(error.match)}`);
    throw new ModelFileError(`${file}: ${(error as Error).message}`);
  }
  for (const t of contents.tensors.values()) t.dispose();
  const outputs = net.outputShape;
  if (outputs.length !== 1 || outputs[0] !== info.classes.length) {
    throw new ModelFileError(`${file}: the net has output shape [${outputs.join(', ')}] but names ${info.classes.length} classes`);
  }
  return { net, info, metadata: contents.metadata };
}

/**
 * Builds the net's graph (which allocates nothing) and refuses a net whose parameters need more
 * values than the file holds, before `new Net` allocates them: a file of a few KB must not make the
 * reader allocate gigabytes. A smaller mismatch is left to `loadState`, which names the tensor.
 */
function checkNetFitsFile(spec: NetSpec, weights: ReadonlyMap<string, Tensor>, file: string): void {
  let graph: Graph;
  try {
    graph = buildGraph(spec);
  } catch (error) {
    throw new ModelFileError(`${file}: its net cannot be built: ${firstLine((error as Error).message)}`);
  }
  const needed = graph.nodes.reduce((n, node) => n + node.params.reduce((m, p) => m + sizeOf(p.shape), 0), 0);
  const held = [...weights.values()].reduce((n, t) => n + t.size, 0);
  if (!(needed <= held)) throw new ModelFileError(`${file}: the net needs ${needed} weights and buffers, the file holds ${held}`);
}

/** Enough of a NetSpec's structure for buildGraph to read it; the ops check the rest. */
function isNetSpecShaped(spec: unknown): spec is NetSpec {
  if (typeof spec !== 'object' || spec === null) return false;
  const { input, nodes } = spec as Partial<Record<keyof NetSpec, unknown>>;
  const dims = Array.isArray(input) && input.length > 0 && input.every((d) => Number.isSafeInteger(d) && d > 0);
  const isNode = (n: unknown): boolean => {
    if (typeof n !== 'object' || n === null) return false;
    const { name, op, attrs, inputs } = n as Record<string, unknown>;
    return typeof name === 'string' && typeof op === 'string' && typeof attrs === 'object' && attrs !== null && Array.isArray(inputs) && inputs.every((i) => typeof i === 'string');
  };
  return dims && Array.isArray(nodes) && nodes.length > 0 && nodes.every(isNode);
}

/** Reads a model file and rebuilds its net on `backend`. */
export async function loadModel(file: string, options: { backend?: Backend } = {}): Promise<LoadedModel> {
  return netFromFile(await readSafetensors(file), file, options);
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] as string;
}
