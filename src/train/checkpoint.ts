import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { Net } from '../net/net.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainConfig, TrainState } from './config.js';
import { CHECKPOINT_MARKER, CHECKPOINT_MODEL_PREFIX, modelInfoFromMetadata, modelMetadata, type ModelInfo } from './model_file.js';
import type { Optimizer, OptimizerState } from './optimizers/index.js';

/**
 * A checkpoint is a safetensors file: the net's tensors under `model.`, the optimizer's slots under
 * `optim.`, and in the metadata the model description (as in a model file), the training
 * configuration, and the run's position with every generator's state. It is written after each
 * epoch through a temporary name, so the last good checkpoint survives a crash or a diverged run.
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

/** Reads a checkpoint written by `saveCheckpoint`. */
export async function loadCheckpoint(file: string): Promise<Checkpoint> {
  const { tensors, metadata } = await readSafetensors(file);
  const json = (key: string): unknown => {
    const text = metadata[key];
    if (text === undefined) throw new Error(`${file}: not a convstack checkpoint (no '${key}' in its metadata)`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${file}: the checkpoint's '${key}' metadata is not valid JSON`);
    }
  };
  const config = json(KEYS.config) as TrainConfig;
  const state = json(KEYS.state) as TrainState;
  const steps = json(KEYS.optimizerSteps) as Record<string, number>;
  const info = modelInfoFromMetadata(metadata, file);
  const params = new Map<string, Tensor>();
  const optimTensors = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(CHECKPOINT_MODEL_PREFIX)) params.set(name.slice(CHECKPOINT_MODEL_PREFIX.length), t);
    else if (name.startsWith(OPTIM_PREFIX)) optimTensors.set(name.slice(OPTIM_PREFIX.length), t);
    else throw new Error(`${file}: unexpected tensor '${name}' in a checkpoint`);
  }
  return { info, config, state, params, optimizer: { tensors: optimTensors, steps } };
}
