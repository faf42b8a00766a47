import type { Augmentation } from '../data/augment.js';
import type { InitScheme } from '../net/init.js';
import type { OptimizerName, OptimizerOptions } from './optimizers/index.js';
import type { Schedule } from './schedules.js';

/** The losses a net can be trained with: softmax cross-entropy (default) or the multiclass SVM loss. */
export type LossName = 'softmax' | 'svm';

/** Everything that decides a training run besides the net and the data; saved in checkpoints. */
export interface TrainConfig {
  /** Epochs to train in all (a resume counts the ones already done). */
  epochs: number;
  /** Images per step. */
  batchSize: number;
  /** The update rule, by the name `--optimizer` takes. */
  optimizer: OptimizerName;
  /** `lr` is the base rate that the schedule scales each epoch. */
  optimizerOptions: OptimizerOptions;
  /** How the learning rate changes over the epochs. */
  schedule: Schedule;
  /** The training loss. */
  loss: LossName;
  /** Seeds shuffling and augmentation; the net's own seed sets its initial weights and dropout. */
  seed: number;
  /** The random shifts and flips applied to training images. */
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
  /** The learning rate the epoch ran with. */
  lr: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Accuracy on the training batches as they were seen during the epoch (in training mode). */
  trainAccuracy: number;
  /** Accuracy on the held-out split after the epoch. */
  testAccuracy: number;
  /** Training images per second (evaluation excluded). */
  imagesPerSecond: number;
  /** Wall-clock time of the epoch, evaluation included. */
  seconds: number;
}

/**
 * Where a run stands, after a whole epoch or within one; with the weights and optimizer state,
 * enough to resume exactly.
 */
export interface TrainState {
  /** Whole epochs finished. */
  epochsDone: number;
  /** Steps taken since the start of the run. */
  step: number;
  /**
   * The generators' states: data shuffling, augmentation, and the net's (dropout). Within an epoch,
   * `shuffle` is the state the epoch's shuffle started from, so that a resume draws the same order.
   */
  rng: { shuffle: number; augment: number; net: number };
  /** One entry per finished epoch, in order. */
  history: EpochResult[];
  /** Set when the state was saved within epoch `epochsDone + 1`: how far that epoch got. */
  inEpoch?: EpochPosition;
}

/** How far an unfinished epoch got: its batches trained and the sums its result is made of. */
export interface EpochPosition {
  /** Batches (steps) of the epoch already trained on. */
  batches: number;
  /** The training images the epoch's order was drawn for; a resume on another number would draw another order. */
  images: number;
  /** Sum over the images seen of their loss. */
  lossSum: number;
  /** Images seen that were classified right. */
  correct: number;
  /** Images trained on in the epoch so far. */
  seen: number;
}
