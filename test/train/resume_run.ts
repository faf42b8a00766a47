import { openBackend } from '../../src/backends/registry.js';
import { ArrayDataset } from '../../src/data/dataset.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { train, type TrainConfig } from '../../src/train/loop.js';
import type { ModelInfo } from '../../src/train/model_file.js';

/**
 * The run the resume tests cut and resume (resume.test.ts), with every generator in play: shuffling,
 * shift-and-flip augmentation and dropout, BN's running statistics, Adam's moments, weight decay and
 * a cosine schedule. 30 images in batches of 8: 4 steps an epoch, the last of 6 images.
 *
 * Run as a script (`resume_run.ts <backend> <checkpoint>`), it is the child of the kill test: it
 * trains with a checkpoint after every step, prints `step <n>` after each, and dawdles 15 ms a step
 * so that the parent's SIGKILL lands within the run.
 */
export const RESUME_TEXT = 'INPUT[6x6x1] -> CONV3-4(p=1) -> BN -> RELU -> POOL2 -> DROPOUT(p=0.3) -> FC-8 -> RELU -> FC-3';
const images = new ArrayDataset('tiny', [1, 6, 6], ['a', 'b', 'c'], Uint8Array.from({ length: 30 * 36 }, (_, i) => (i * 97 + (i >> 5)) % 256), Uint8Array.from({ length: 30 }, (_, i) => i % 3));
/** The model the run trains and saves. */
export const RESUME_INFO: ModelInfo = { spec: toNetSpec(RESUME_TEXT), architecture: RESUME_TEXT, classes: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.3] } };
/** 4 epochs of 4 steps. */
export const RESUME_CONFIG: TrainConfig = {
  epochs: 4, batchSize: 8, optimizer: 'adam', optimizerOptions: { lr: 0.01, weightDecay: 1e-3 }, schedule: { kind: 'cosine', tMax: 4, etaMin: 0 },
  loss: 'softmax', seed: 7, augmentation: { shift: 1, flip: true }, data: 'tiny',
};
/** The same images to train and evaluate on. */
export const RESUME_DATA = { train: images, test: images };
/** The net's own seed (initial weights and dropout); a resumed run starts from another to show the checkpoint sets both. */
export const NET_SEED = 3;

const [backendName, checkpoint] = process.argv.slice(2);
if (backendName !== undefined && checkpoint !== undefined) {
  const backend = await openBackend(backendName);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  await train({
    net: new Net(RESUME_INFO.spec, { seed: NET_SEED, backend }), data: RESUME_DATA, config: RESUME_CONFIG, info: RESUME_INFO, checkpoint, checkpointEvery: 1,
    onEvent: (e) => {
      if (e.kind !== 'step') return;
      process.stdout.write(`step ${e.step}\n`);
      Atomics.wait(pause, 0, 0, 15);
    },
  });
  process.stdout.write('done\n');
}
