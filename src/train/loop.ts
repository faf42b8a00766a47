import type { Normalization } from '../data/augment.js';
import { batchCount, batches } from '../data/batches.js';
import type { DataSplits } from '../data/dataset.js';
import type { Net } from '../net/net.js';
import type { NodeSpec } from '../net/spec.js';
import { softmaxCrossEntropy, type LossResult } from '../ops/softmax_cross_entropy.js';
import { stepLoss } from './auxiliary.js';
import { svmLoss } from '../ops/svm_loss.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { saveCheckpoint, type Checkpoint } from './checkpoint.js';
import type { EpochPosition, EpochResult, LossName, TrainConfig, TrainState } from './config.js';
import { argmaxRows, evaluate } from './evaluate.js';
import { lastBatchPolicy } from './last_batch.js';
import type { ModelInfo } from './model_file.js';
import { createOptimizer } from './optimizers/index.js';
import { lrAt } from './schedules.js';
import { LossWatch, lowerLrAdvice } from './warnings.js';

export type { EpochPosition, EpochResult, LossName, TrainConfig, TrainState } from './config.js';

const LOSSES: Record<LossName, (scores: Tensor, labels: ArrayLike<number>) => LossResult> = {
  softmax: softmaxCrossEntropy,
  svm: svmLoss,
};

/** Progress reports, for a progress bar or log lines. */
export type TrainEvent =
  | {
      kind: 'step';
      /** 1-based epoch, and the step within it out of `steps`. */
      epoch: number;
      step: number;
      steps: number;
      /** Running means over the epoch so far. */
      loss: number;
      accuracy: number;
      imagesPerSecond: number;
    }
  | { kind: 'epoch'; result: EpochResult }
  /** The run is failing quietly (see warnings.ts): what is wrong and what to try. */
  | { kind: 'warning'; message: string }
  /** Something the run does that the user did not ask for (last_batch.ts: the last batch is dropped). */
  | { kind: 'note'; message: string };

/** What `train` needs: a built net, its data, the configuration, and optionally where to checkpoint. */
export interface TrainRun {
  /** The net to train; its parameters are updated in place. */
  net: Net;
  /** Training and held-out images with labels. */
  data: DataSplits;
  /** Epochs, batch size, optimizer, schedule, loss, seed and augmentation. */
  config: TrainConfig;
  /** Written into checkpoints, so that a checkpoint alone can rebuild the net. */
  info: ModelInfo;
  /**
   * Where to write a checkpoint after each epoch, every `checkpointEvery` steps, and when `signal`
   * stops the run (temporary name, then rename). Any of them resumes exactly.
   */
  checkpoint?: string;
  /** Also write the checkpoint every this many steps (counted from the start of the run) within an epoch. */
  checkpointEvery?: number;
  /** Continue a run from its checkpoint: weights, optimizer state, position and every generator's state. */
  resume?: Checkpoint;
  /** Called with progress: each step, each finished epoch, warnings and notes. */
  onEvent?: (event: TrainEvent) => void;
  /**
   * Stops the run between two steps with a TrainingInterrupted (Ctrl-C in the CLI), after writing the
   * checkpoint of that step when there is a checkpoint. The loop yields to the event loop after
   * every step so that a signal handler gets to run.
   */
  signal?: AbortSignal;
}

/** The outcome of a run. */
export interface TrainResult {
  /** One entry per epoch run in this process. */
  epochs: EpochResult[];
  /** Held-out accuracy after the last epoch. */
  testAccuracy: number;
  /** Steps taken in total (including those before a resume). */
  steps: number;
  /** Over the epochs this process ran. */
  imagesPerSecond: number;
  /** Wall-clock time of the run in this process, evaluation included. */
  seconds: number;
}

/**
 * The loss or a gradient stopped being finite. Names the step and the first layer where it
 * appeared: in the forward pass, the first layer whose output is not finite; in the backward pass,
 * the first layer reached (the last in the net) whose weight gradient is not finite.
 */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    /** The step at which it happened, counted from the start of the run. */
    readonly step: number,
    /** The 1-based epoch it happened in. */
    readonly epoch: number,
    /** The first layer where a value was not finite, or null when only the loss was. */
    readonly layer: string | null,
    what: string,
  ) {
    super(`training diverged at step ${step} (epoch ${epoch}): ${what}`);
  }
}

/**
 * The run was stopped through `TrainRun.signal`. When the run has a checkpoint, it was written at
 * the step where the run stopped (`saved`), and a resume goes on from there.
 */
export class TrainingInterrupted extends Error {
  override name = 'TrainingInterrupted';
  constructor(
    /** The 1-based epoch that was running. */
    readonly epoch: number,
    /** The step within that epoch at which it stopped. */
    readonly step: number,
    /** Whole epochs finished. */
    readonly epochsDone: number,
    /** Whether the checkpoint now holds the run up to this step. */
    readonly saved: boolean,
  ) {
    super(`training interrupted in epoch ${epoch} at step ${step}`);
  }
}

/** Separate streams for shuffling and augmentation, both from the run's seed. */
function derivedSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + stream * 0x6c8e9cf5) >>> 0;
}

function describeLayer(nodes: readonly NodeSpec[], node: NodeSpec): string {
  const index = nodes.indexOf(node) + 1;
  const source = node.source ? ` (${node.source.text}, line ${node.source.line} column ${node.source.column})` : '';
  return `layer ${index} '${node.name}'${source}`;
}

/**
 * Trains `run.net` on `run.data.train` for `config.epochs` epochs: each epoch sets the learning
 * rate from the schedule, visits the training images in a seeded shuffle, augments and normalises
 * them, then takes one optimizer step per batch; after each epoch it evaluates on the test split
 * and writes the checkpoint. Stops with a DivergenceError when the loss or a gradient is not finite.
 */
export async function train(run: TrainRun): Promise<TrainResult> {
  const { net, data, config, info } = run;
  const classes = info.classes.length;
  const outputs = net.outputShape.length === 1 ? (net.outputShape[0] as number) : -1;
  if (outputs !== classes) throw new Error(`the net ends in ${net.outputShape.length === 1 ? `${outputs} scores` : `a volume of shape [${net.outputShape.join(', ')}]`} but the data has ${classes} classes`);
  const every = run.checkpointEvery ?? 0;
  if (!(Number.isSafeInteger(every) && every >= 0)) throw new RangeError(`checkpointEvery must be a count of steps, got ${every}`);
  const lossFn = LOSSES[config.loss];
  const shuffleRng = new Rng(derivedSeed(config.seed, 1));
  const augmentRng = new Rng(derivedSeed(config.seed, 2));
  const params = net.trainableParams();
  const optimizer = createOptimizer(config.optimizer, params, { ...config.optimizerOptions, backend: net.backend });
  const baseLr = config.optimizerOptions.lr;
  const normalization: Normalization = info.normalization;
  let state: TrainState = { epochsDone: 0, step: 0, rng: { shuffle: 0, augment: 0, net: 0 }, history: [] };
  if (run.resume) {
    net.loadState(run.resume.params);
    optimizer.loadState(run.resume.optimizer);
    state = run.resume.state;
    shuffleRng.setState(state.rng.shuffle);
    augmentRng.setState(state.rng.augment);
    net.rngState = state.rng.net;
  }
  const lastBatch = lastBatchPolicy(net, data.train.length, config.batchSize);
  if (lastBatch.note !== null) run.onEvent?.({ kind: 'note', message: lastBatch.note });
  const watch = config.loss === 'softmax' ? new LossWatch(classes, baseLr) : null;
  const warn = (message: string | null): void => {
    if (message !== null) run.onEvent?.({ kind: 'warning', message });
  };
  const history = [...state.history];
  let step = state.step;
  let resumedWithin = state.inEpoch;
  let trainedImages = 0;
  let trainingMs = 0;
  const started = performance.now();
  try {
    for (let epoch = state.epochsDone; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      optimizer.lr = lrAt(config.schedule, baseLr, epoch);
      const shuffleState = shuffleRng.getState();
      const order = shuffleRng.shuffle(Array.from({ length: data.train.length }, (_, i) => i));
      const steps = batchCount(order.length, config.batchSize, lastBatch.dropLast);
      const position = resumedWithin ?? { batches: 0, images: order.length, lossSum: 0, correct: 0, seen: 0 };
      resumedWithin = undefined;
      checkPosition(position, epoch + 1, order.length, steps, data.train.name);
      /** Saves the run as it stands within this epoch. */
      const save = async (file: string): Promise<void> => {
        const now: TrainState = { epochsDone: epoch, step, rng: { shuffle: shuffleState, augment: augmentRng.getState(), net: net.rngState }, history, inEpoch: { ...position } };
        checkWeights(net, step, epoch + 1, file);
        await saveCheckpoint(file, { net, optimizer, info, config, state: now });
      };
      let imagesHere = 0;
      let epochMs = 0;
      const source = batches(data.train, { batchSize: config.batchSize, order, dropLast: lastBatch.dropLast, firstBatch: position.batches, augmentation: config.augmentation, rng: augmentRng, normalization, dtype: net.dtype, allocator: net.backend.allocator });
      for (const { x, labels } of source) {
        const t0 = performance.now();
        step++;
        position.batches++;
        const scores = net.forward(x, { training: true });
        const { loss, grad, auxGrads } = stepLoss(net, scores, labels, lossFn);
        if (!Number.isFinite(loss)) {
          [scores, grad, ...auxGrads].forEach((t) => t.dispose());
          const node = net.firstNonFiniteLayer(x);
          x.dispose();
          const where = node ? `; the first non-finite values are in the output of ${describeLayer(net.spec.nodes, node)}` : '; every layer output was finite';
          throw new DivergenceError(step, epoch + 1, node?.name ?? null, `the loss is ${loss}${where}; ${lowerLrAdvice(baseLr)}`);
        }
        argmaxRows(scores).forEach((p, i) => (position.correct += p === labels[i] ? 1 : 0));
        net.backward(grad, { auxGrads });
        [x, scores, grad, ...auxGrads].forEach((t) => t.dispose());
        checkGradients(net, step, epoch + 1);
        optimizer.step();
        position.lossSum += loss * labels.length;
        position.seen += labels.length;
        imagesHere += labels.length;
        epochMs += performance.now() - t0;
        run.onEvent?.({ kind: 'step', epoch: epoch + 1, step: position.batches, steps, loss: position.lossSum / position.seen, accuracy: position.correct / position.seen, imagesPerSecond: (imagesHere * 1000) / epochMs });
        warn(watch?.afterStep(epoch + 1, position.batches, steps, loss) ?? null);
        if (run.checkpoint !== undefined && every > 0 && step % every === 0 && position.batches < steps) await save(run.checkpoint);
        await yieldToEventLoop();
        if (run.signal?.aborted) {
          if (run.checkpoint !== undefined) await save(run.checkpoint);
          throw new TrainingInterrupted(epoch + 1, position.batches, epoch, run.checkpoint !== undefined);
        }
      }
      trainedImages += imagesHere;
      trainingMs += epochMs;
      // The training batch size, so that evaluation never needs more memory than a training step.
      const test = evaluate(net, data.test, { normalization, batchSize: config.batchSize });
      const result: EpochResult = {
        epoch: epoch + 1,
        lr: optimizer.lr,
        loss: position.lossSum / Math.max(position.seen, 1),
        trainAccuracy: position.correct / Math.max(position.seen, 1),
        testAccuracy: test.accuracy,
        imagesPerSecond: (imagesHere * 1000) / Math.max(epochMs, 1e-9),
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(result);
      if (run.checkpoint !== undefined) {
        const next: TrainState = { epochsDone: epoch + 1, step, rng: { shuffle: shuffleRng.getState(), augment: augmentRng.getState(), net: net.rngState }, history };
        checkWeights(net, step, epoch + 1, run.checkpoint);
        await saveCheckpoint(run.checkpoint, { net, optimizer, info, config, state: next });
      }
      run.onEvent?.({ kind: 'epoch', result });
      warn(watch?.afterEpoch(epoch + 1) ?? null);
    }
  } finally {
    optimizer.dispose();
  }
  const last = history[history.length - 1];
  return {
    epochs: history,
    testAccuracy: last?.testAccuracy ?? evaluate(net, data.test, { normalization, batchSize: config.batchSize }).accuracy,
    steps: step,
    imagesPerSecond: trainingMs > 0 ? (trainedImages * 1000) / trainingMs : 0,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * A run resumed within an epoch must draw that epoch's order again and stop where it stopped: the
 * training set must have as many images as when the checkpoint was written.
 */
function checkPosition(position: EpochPosition, epoch: number, images: number, steps: number, dataName: string): void {
  if (position.images !== images) {
    throw new RangeError(`the checkpoint was written within epoch ${epoch} of a training set of ${position.images} images, but ${dataName} holds ${images}: the run cannot go on where it stopped`);
  }
  if (position.batches > steps) throw new RangeError(`the checkpoint was written after ${position.batches} steps of epoch ${epoch}, which has ${steps}`);
}

/** Lets timers and signal handlers run between two steps (a step holds the thread for milliseconds). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Before a checkpoint is written over the last good one: throws a DivergenceError naming the first
 * layer with a non-finite weight or buffer (an update can overflow from finite gradients), so that
 * the checkpoint on disk stays the last good one.
 */
export function checkWeights(net: Net, step: number, epoch: number, checkpoint: string): void {
  for (const p of net.params.values()) {
    const bad = p.value.data.find((v) => !Number.isFinite(v));
    if (bad === undefined) continue;
    const nodeName = p.name.slice(0, p.name.lastIndexOf('.'));
    const node = net.spec.nodes.find((n) => n.name === nodeName);
    const where = node ? describeLayer(net.spec.nodes, node) : `'${nodeName}'`;
    throw new DivergenceError(step, epoch, nodeName, `'${p.name}' holds ${bad} after the step, in ${where}; ${checkpoint} keeps the last good checkpoint`);
  }
}

/** Throws a DivergenceError naming the last layer (the first that backward reached) with a non-finite weight gradient. */
export function checkGradients(net: Net, step: number, epoch: number): void {
  const params = net.trainableParams();
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i];
    const g = p?.grad?.data;
    if (p === undefined || g === undefined || g.every(Number.isFinite)) continue;
    const bad = g.find((v) => !Number.isFinite(v));
    const nodeName = p.name.slice(0, p.name.lastIndexOf('.'));
    const node = net.spec.nodes.find((n) => n.name === nodeName);
    const where = node ? describeLayer(net.spec.nodes, node) : `'${nodeName}'`;
    throw new DivergenceError(step, epoch, nodeName, `the gradient of '${p.name}' holds ${bad}; the first non-finite gradient in backward is at ${where}`);
  }
}
