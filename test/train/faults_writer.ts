import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { saveModel, type ModelInfo } from '../../src/train/model_file.js';
import { createOptimizer } from '../../src/train/optimizers/index.js';

/**
 * The child of the kill test in faults.test.ts: writes the model file and the checkpoint named on
 * its command line over and over, version after version (every weight of version v equals v; the
 * checkpoint is one written within an epoch, its loss sum v), and says "ready" once the first pair
 * is on disk. The test kills it at a random moment and reads both.
 */
export const FAULTS_TEXT = 'INPUT[16x16x3] -> FC-600 -> FC-2';
/** The model the writer saves, and the configuration it puts in its checkpoints. */
export const FAULTS_INFO: ModelInfo = { spec: toNetSpec(FAULTS_TEXT), architecture: FAULTS_TEXT, classes: ['a', 'b'], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } };
export const FAULTS_CONFIG: TrainConfig = { epochs: 1, batchSize: 2, optimizer: 'adam', optimizerOptions: { lr: 0.01 }, schedule: { kind: 'constant' }, loss: 'softmax', seed: 1, augmentation: {}, data: 'none' };

/** Sets every weight and optimizer slot of the net to `version`. */
export async function writeVersion(model: string, checkpoint: string, net: Net, version: number): Promise<void> {
  for (const p of net.params.values()) p.value.data.fill(version);
  const optimizer = createOptimizer(FAULTS_CONFIG.optimizer, net.trainableParams(), { ...FAULTS_CONFIG.optimizerOptions, backend: net.backend });
  await saveModel(model, net, FAULTS_INFO, { version: String(version) });
  await saveCheckpoint(checkpoint, { net, optimizer, info: FAULTS_INFO, config: FAULTS_CONFIG, state: { epochsDone: version, step: version, rng: { shuffle: 1, augment: 2, net: 3 }, history: [], inEpoch: { batches: 1, images: 4, lossSum: version, correct: 0, seen: 2 } } });
  optimizer.dispose();
}

const [model, checkpoint, first] = process.argv.slice(2);
if (model !== undefined && checkpoint !== undefined) {
  const net = new Net(FAULTS_INFO.spec, { seed: 1 });
  for (let version = Number(first); ; version++) {
    await writeVersion(model, checkpoint, net, version);
    if (version === Number(first)) process.stdout.write('ready\n');
  }
}
