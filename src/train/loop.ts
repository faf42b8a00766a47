import type { Augmentation, Normalization } from '../data/augment.js';
import { batches } from '../data/batches.js';
import type { DataSplits } from '../data/dataset.js';
import type { Net } from '../net/net.js';
import type { NodeSpec } from '../net/spec.js';
import { softmaxCrossEntropy, type LossResult } from '../ops/softmax_cross_entropy.js';
import { stepLoss } from './auxiliary.js';
import { svmLoss } from '../ops/svm_loss.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { argmaxRows, evaluate } from './evaluate.js';
import type { ModelInfo } from './model_file.js';
import { createOptimizer, type OptimizerName, type OptimizerOptions } from './optimizers/index.js';
import { lrAt, type Schedule } from './schedules.js';

/** The losses a net can be trained with: softmax cross-entropy (default) or the multiclass SVM loss. */
export type LossName = 'softmax' | 'svm';

const LOSSES: Record<LossName, (scores: Tensor, labels: ArrayLike<number>) => LossResult> = {
  softmax: softmaxCrossEntropy,
  svm: svmLoss,
};

/** Everything that decides a training run besides the net and the data; saved in checkpoints. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  /** `lr` is the base rate that the schedule scales each epoch. */
  optimizerOptions: OptimizerOptions;
  schedule: Schedule;
  loss: LossName;
  /** Seeds shuffling and augmentation; the net's own seed sets its initial weights and dropout. */
  seed: number;
  augmentation: Augmentation;
  /** The data source as the CLI names it (`mnist`, `cifar10:<dir>`), so that a resume reopens it. */
  data: string;
}

/** One finished epoch. */
export interface EpochResult {
  /** 1-based. */
  epoch: number;
  lr: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Training images per second (evaluation excluded). */
  imagesPerSecond: number;
  seconds: number;
}

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
  | { kind: 'epoch'; result: EpochResult };

/** What `train` needs: a built net, its data, the configuration, and optionally where to checkpoint. */
export interface TrainRun {
  net: Net;
  data: DataSplits;
  config: TrainConfig;
  /** Written into checkpoints, so that a checkpoint alone can rebuild the net. */
  info: ModelInfo;
  /** Where to write a checkpoint after each epoch (temporary name, then rename). */
  checkpoint?: string;
  /** Continue a run from its checkpoint: weights, optimizer state, position and every generator's state. */
  resume?: Checkpoint;
  onEvent?: (event: TrainEvent) => void;
}

/** The outcome of a run. */
export interface TrainResult {
  epochs: EpochResult[];
  testAccuracy: number;
  /** Steps taken in total (including those before a resume). */
  steps: number;
  /** Over the epochs this process ran. */
  imagesPerSecond: number;
  seconds: number;
}

/** Where a run stands after a whole epoch; with the weights and optimizer state, enough to resume exactly. */
export interface TrainState {
  epochsDone: number;
  step: number;
  rng: { shuffle: number; augment: number; net: number };
  history: EpochResult[];
}

/**
 * The loss or a gradient stopped being finite. Names the step and the first layer where it
 * appeared: in the forward pass, the first layer whose output is not finite; in the backward pass,
 * the first layer reached (the last in the net) whose weight gradient is not finite.
 */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly layer: string | null,
    what: string,
  ) {
    super(`training diverged at step ${step} (epoch ${epoch}): ${what}`);
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
  const history = [...state.history];
  let step = state.step;
  let trainedImages = 0;
  let trainingMs = 0;
  const started = performance.now();
  try {
    for (let epoch = state.epochsDone; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      optimizer.lr = lrAt(config.schedule, baseLr, epoch);
      const order = shuffleRng.shuffle(Array.from({ length: data.train.length }, (_, i) => i));
      const steps = Math.ceil(order.length / config.batchSize);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let epochMs = 0;
      let stepInEpoch = 0;
      const source = batches(data.train, { batchSize: config.batchSize, order, augmentation: config.augmentation, rng: augmentRng, normalization, dtype: net.dtype, allocator: net.backend.allocator });
      for (const { x, labels } of source) {
        const t0 = performance.now();
        step++;
        stepInEpoch++;
        const scores = net.forward(x, { training: true });
        const { loss, grad, auxGrads } = stepLoss(net, scores, labels, lossFn);
        if (!Number.isFinite(loss)) {
          [scores, grad, ...auxGrads].forEach((t) => t.dispose());
          const node = net.firstNonFiniteLayer(x);
          x.dispose();
          const where = node ? `; the first non-finite values are in the output of ${describeLayer(net.spec.nodes, node)}` : '; every layer output was finite';
          throw new DivergenceError(step, epoch + 1, node?.name ?? null, `the loss is ${loss}${where}`);
        }
        argmaxRows(scores).forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
        net.backward(grad, { auxGrads });
        [x, scores, grad, ...auxGrads].forEach((t) => t.dispose());
        checkGradients(net, step, epoch + 1);
        optimizer.step();
        lossSum += loss * labels.length;
        seen += labels.length;
        epochMs += performance.now() - t0;
        run.onEvent?.({ kind: 'step', epoch: epoch + 1, step: stepInEpoch, steps, loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: (seen * 1000) / epochMs });
      }
      trainedImages += seen;
      trainingMs += epochMs;
      // The training batch size, so that evaluation never needs more memory than a training step.
      const test = evaluate(net, data.test, { normalization, batchSize: config.batchSize });
      const result: EpochResult = {
        epoch: epoch + 1,
        lr: optimizer.lr,
        loss: lossSum / Math.max(seen, 1),
        trainAccuracy: correct / Math.max(seen, 1),
        testAccuracy: test.accuracy,
        imagesPerSecond: (seen * 1000) / Math.max(epochMs, 1e-9),
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(result);
      if (run.checkpoint !== undefined) {
        const next: TrainState = { epochsDone: epoch + 1, step, rng: { shuffle: shuffleRng.getState(), augment: augmentRng.getState(), net: net.rngState }, history };
        await saveCheckpoint(run.checkpoint, { net, optimizer, info, config, state: next });
      }
      run.onEvent?.({ kind: 'epoch', result });
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
