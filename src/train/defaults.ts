import type { Augmentation } from '../data/augment.js';
import type { LossName, TrainConfig } from './config.js';
import type { OptimizerName } from './optimizers/index.js';

/**
 * The settings a run takes when nobody says otherwise, shared by `convstack train` and the test that
 * checks that user-style nets train with them: Nesterov momentum 0.9 at 0.05 on a cosine schedule,
 * batch 64, random shifts of up to 2 pixels, softmax cross-entropy, seed 0.
 */
export const TRAIN_DEFAULTS = {
  batchSize: 64,
  optimizer: 'nesterov' as OptimizerName,
  lr: 0.05,
  schedule: 'cosine',
  augmentation: { shift: 2, flip: false } as Augmentation,
  loss: 'softmax' as LossName,
  seed: 0,
} as const;

/** The default configuration for `epochs` epochs on `data`, with `seed`. */
export function defaultConfig(epochs: number, data: string, seed: number = TRAIN_DEFAULTS.seed): TrainConfig {
  return {
    epochs,
    batchSize: TRAIN_DEFAULTS.batchSize,
    optimizer: TRAIN_DEFAULTS.optimizer,
    optimizerOptions: { lr: TRAIN_DEFAULTS.lr },
    schedule: { kind: 'cosine', tMax: epochs, etaMin: 0 },
    loss: TRAIN_DEFAULTS.loss,
    seed,
    augmentation: { ...TRAIN_DEFAULTS.augmentation },
    data,
  };
}
