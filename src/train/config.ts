import type { Augmentation } from '../data/augment.js';
import type { InitScheme } from '../net/init.js';
import type { OptimizerName, OptimizerOptions } from './optimizers/index.js';
import type { Schedule } from './schedules.js';

/** The losses a net can be trained with: softmax cross-entropy (default) or the multiclass SVM loss. */
export type LossName = 'softmax' | 'svm';

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
  /** How the weights were initialised (a record: the net is built before training starts). */
  init?: InitScheme;
  /** The model file the run writes (an absolute path), so that a resume writes it again. */
  out?: string;
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

/** Where a run stands after a whole epoch; with the weights and optimizer state, enough to resume exactly. */
export interface TrainState {
  epochsDone: number;
  step: number;
  rng: { shuffle: number; augment: number; net: number };
  history: EpochResult[];
}
