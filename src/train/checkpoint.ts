import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Net } from '../net/net.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainConfig, TrainState } from './config.js';
import { CHECKPOINT_MARKER, CHECKPOINT_MODEL_PREFIX, modelInfoFromMetadata, modelMetadata, type ModelInfo } from './model_file.js';
import { OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type OptimizerState } from './optimizers/index.js';

/**
 * A checkpoint is a safetensors file: the net's tensors under `model.`, the optimizer's slots under
 * `optim.`, and in the metadata the model description (as in a model file), the training
 * configuration, and the run's position with every generator's state. It is written after each
 * epoch (and within one, see `TrainRun.checkpoint`) through a temporary name, so the last good
 * checkpoint survives a crash or a diverged run.
 */
export interface Checkpoint {
  /** The model description, as a model file holds it: the spec or architecture text, classes, normalisation. */
  info: ModelInfo;
  /** The run's configuration, so that a resume continues with the same settings. */
  config: TrainConfig;
  /** Where the run stands: epochs done, steps, generator states, history. */
  state: TrainState;
  /** The net's parameters and buffers by state_dict name. */
  params: Map<string, Tensor>;
  /** The optimizer's slot tensors and step counts. */
  optimizer: OptimizerState;
}

const OPTIM_PREFIX = 'optim.';
const KEYS = { config: 'train_config', state: CHECKPOINT_MARKER, optimizerSteps: 'optimizer_steps' } as const;

/** Per-parameter slots each optimizer keeps (velocity; squared averages; Adam's two moments). */
const OPTIMIZER_SLOTS: Record<OptimizerName, number> = { sgd: 0, momentum: 1, nesterov: 1, adagrad: 1, rmsprop: 2, adam: 2, adamw: 2 };
/** Room for the header: the names, the notation text, the configuration and a long history. */
const METADATA_ALLOWANCE = 1_000_000;

/**
 * An upper bound on the bytes of the file `net` is saved to: a model file without `optimizer`, a
 * checkpoint with it (its slots are each as large as the trainable weights).
 */
export function savedFileBytes(net: Net, optimizer?: OptimizerName): number {
  const all = [...net.params.values()].reduce((n, p) => n + p.value.data.byteLength, 0);
  const trainable = net.trainableParams().reduce((n, p) => n + p.value.data.byteLength, 0);
  return all + (optimizer === undefined ? 0 : OPTIMIZER_SLOTS[optimizer] * trainable) + METADATA_ALLOWANCE;
}

/** Writes a checkpoint of a run in progress. */
export async function saveCheckpoint(
  file: string,
  { net, optimizer, info, config, state }: { net: Net; optimizer: Optimizer; info: ModelInfo; config: TrainConfig; state: TrainState },
): Promise<void> {
  const tensors = new Map<string, Tensor>();
  for (const p of net.params.values()) tensors.set(CHECKPOINT_MODEL_PREFIX + p.name, p.value);
  const optim = optimizer.state();
  for (const [name, t] of optim.tensors) tensors.set(OPTIM_PREFIX + name, t);
  await writeSafetensors(file, tensors, {
    ...modelMetadata(info),
    [KEYS.config]: JSON.stringify(config),
    [KEYS.state]: JSON.stringify(state),
    [KEYS.optimizerSteps]: JSON.stringify(optim.steps),
  });
}

/** A checkpoint is missing something or holds values a run cannot start from; names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Reads a checkpoint written by `saveCheckpoint`, checking every field a resumed run reads. */
export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  const { tensors, metadata } = await readSafetensors(file);
  const fail = (message: string): never => {
    throw new CheckpointError(`${file}: ${message}`);
  };
  const json = (key: string): unknown => {
    const text = metadata[key];
    if (text === undefined) return fail(`not a convstack checkpoint (no '${key}' in its metadata)`);
    try {
      return JSON.parse(text);
    } catch {
      return fail(`the checkpoint's '${key}' metadata is not valid JSON`);
    }
  };
  const config = json(KEYS.config);
  if (!isTrainConfig(config)) return fail(`the checkpoint's '${KEYS.config}' metadata is not a training configuration`);
  const state = json(KEYS.state);
  if (!isTrainState(state)) return fail(`the checkpoint's '${KEYS.state}' metadata is not a run's position ({epochsDone, step, rng, history, and inEpoch within an epoch})`);
  const steps = json(KEYS.optimizerSteps);
  if (!isRecord(steps) || !Object.values(steps).every(isCount)) return fail(`the checkpoint's '${KEYS.optimizerSteps}' metadata must map names to step counts`);
  const info = modelInfoFromMetadata(metadata, file);
  const params = new Map<string, Tensor>();
  const optimTensors = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(CHECKPOINT_MODEL_PREFIX)) params.set(name.slice(CHECKPOINT_MODEL_PREFIX.length), t);
    else if (name.startsWith(OPTIM_PREFIX)) optimTensors.set(name.slice(OPTIM_PREFIX.length), t);
    else fail(`unexpected tensor '${name}' in a checkpoint`);
  }
  return { info, config, state, params, optimizer: { tensors: optimTensors, steps: steps as Record<string, number> } };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): boolean {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isFiniteNumber(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x);
}

/** The fields the training loop reads, with the types it reads them as (the values are checked again where they are used). */
function isTrainConfig(c: unknown): c is TrainConfig {
  if (!isRecord(c)) return false;
  const { epochs, batchSize, optimizer, optimizerOptions, schedule, loss, seed, augmentation, data } = c;
  return (
    isCount(epochs) && isCount(batchSize) && (batchSize as number) > 0 &&
    typeof optimizer === 'string' && (OPTIMIZER_NAMES as readonly string[]).includes(optimizer) &&
    isRecord(optimizerOptions) && isFiniteNumber(optimizerOptions['lr']) &&
    isRecord(schedule) && ['constant', 'step', 'cosine'].includes(schedule['kind'] as string) &&
    (loss === 'softmax' || loss === 'svm') && isFiniteNumber(seed) && isRecord(augmentation) && typeof data === 'string'
  );
}

function isTrainState(s: unknown): s is TrainState {
  if (!isRecord(s)) return false;
  const { epochsDone, step, rng, history, inEpoch } = s;
  return (
    isCount(epochsDone) && isCount(step) && isRecord(rng) && isFiniteNumber(rng['shuffle']) && isFiniteNumber(rng['augment']) && isFiniteNumber(rng['net']) &&
    Array.isArray(history) && history.every(isRecord) && (inEpoch === undefined || isEpochPosition(inEpoch))
  );
}

/** A position within an epoch: counts that agree with each other, and a finite loss sum. */
function isEpochPosition(p: unknown): boolean {
  if (!isRecord(p)) return false;
  const { batches, images, lossSum, correct, seen } = p;
  return isCount(batches) && isCount(images) && isCount(correct) && isCount(seen) && isFiniteNumber(lossSum) && (seen as number) <= (images as number) && (correct as number) <= (seen as number);
}
