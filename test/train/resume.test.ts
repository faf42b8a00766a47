import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArrayDataset } from '../../src/data/dataset.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { train, type TrainConfig } from '../../src/train/loop.js';
import type { ModelInfo } from '../../src/train/model_file.js';
import { testBackends } from '../helpers/backends.js';

// Exact resume on every backend, with every generator in play: shuffling, shift-and-flip
// augmentation and dropout, Adam's moments and a cosine schedule. Checkpoints are written after each
// epoch, so the run is cut at an epoch boundary: 4 epochs straight equal 2, save, load, 2 more.
const TEXT = 'INPUT[6x6x1] -> CONV3-4(p=1) -> RELU -> POOL2 -> DROPOUT(p=0.3) -> FC-8 -> RELU -> FC-3';
const images = new ArrayDataset('tiny', [1, 6, 6], ['a', 'b', 'c'], Uint8Array.from({ length: 30 * 36 }, (_, i) => (i * 97 + (i >> 5)) % 256), Uint8Array.from({ length: 30 }, (_, i) => i % 3));
const info: ModelInfo = { spec: toNetSpec(TEXT), architecture: TEXT, classes: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.3] } };
const config: TrainConfig = {
  epochs: 4, batchSize: 8, optimizer: 'adam', optimizerOptions: { lr: 0.01, weightDecay: 1e-3 }, schedule: { kind: 'cosine', tMax: 4, etaMin: 0 },
  loss: 'softmax', seed: 7, augmentation: { shift: 1, flip: true }, data: 'tiny',
};
const data = { train: images, test: images };

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-resume-'));
});
after(() => rm(dir, { recursive: true, force: true }));

for (const backend of testBackends()) {
  test(`${backend.name}: 4 epochs straight equal 2, checkpoint, load in a new net, 2 more, bit for bit (weights, Adam's state, position, generators)`, async () => {
    const straight = new Net(info.spec, { seed: 3, backend });
    const full = path.join(dir, `${backend.name}-full.safetensors`);
    await train({ net: straight, data, config, info, checkpoint: full });

    const half = path.join(dir, `${backend.name}-half.safetensors`);
    await train({ net: new Net(info.spec, { seed: 3, backend }), data, config: { ...config, epochs: 2 }, info, checkpoint: half });
    const saved = await loadCheckpoint(half);
    assert.equal(saved.state.epochsDone, 2);
    const resumed = new Net(saved.info.spec, { seed: 99, backend });
    const result = await train({ net: resumed, data, config, info: saved.info, checkpoint: half, resume: saved });
    assert.equal(result.epochs.length, 4);

    const [a, b] = [await loadCheckpoint(full), await loadCheckpoint(half)];
    for (const [name, t] of a.params) assert.deepEqual(b.params.get(name)?.data, t.data, `weight ${name}`);
    for (const [name, t] of a.optimizer.tensors) assert.deepEqual(b.optimizer.tensors.get(name)?.data, t.data, `optimizer slot ${name}`);
    assert.ok(a.optimizer.tensors.size > 0, "Adam's moments are in the checkpoint");
    assert.deepEqual(b.optimizer.steps, a.optimizer.steps);
    assert.deepEqual([b.state.epochsDone, b.state.step, b.state.rng], [a.state.epochsDone, a.state.step, a.state.rng]);
    assert.deepEqual(b.state.history.map((e) => [e.lr, e.loss, e.trainAccuracy, e.testAccuracy]), a.state.history.map((e) => [e.lr, e.loss, e.trainAccuracy, e.testAccuracy]));
  });
}
