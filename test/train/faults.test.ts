import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArrayDataset } from '../../src/data/dataset.js';
import { checkRoom, NoRoomError } from '../../src/io/files.js';
import { Net, NetError } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadCheckpoint, savedFileBytes } from '../../src/train/checkpoint.js';
import { DivergenceError, train, type TrainConfig } from '../../src/train/loop.js';
import type { ModelInfo } from '../../src/train/model_file.js';
import { killWriters } from './faults_kill.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-faults-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a writer killed at 4 random moments leaves the model file and the checkpoint loadable and whole (20 in faults.full)', async (t) => {
  const versions = await killWriters(dir, 4, 20261202);
  t.diagnostic(`writes completed before each kill: ${versions.join(', ')}`);
});

// A tiny problem for the loop: 12 images of 4x4, two classes.
const TEXT = 'INPUT[4x4x1] -> CONV3-4(p=1) -> RELU -> FC-8 -> RELU -> FC-2';
const images = new ArrayDataset('tiny', [1, 4, 4], ['a', 'b'], Uint8Array.from({ length: 12 * 16 }, (_, i) => (i * 53) % 256), Uint8Array.from({ length: 12 }, (_, i) => i % 2));
const info: ModelInfo = { spec: toNetSpec(TEXT), architecture: TEXT, classes: ['a', 'b'], normalization: { mean: [0.5], std: [0.25] } };
const config: TrainConfig = { epochs: 3, batchSize: 4, optimizer: 'momentum', optimizerOptions: { lr: 0.01 }, schedule: { kind: 'constant' }, loss: 'softmax', seed: 1, augmentation: {}, data: 'tiny' };

for (const [what, poison] of [['NaN', Number.NaN], ['Inf', Number.POSITIVE_INFINITY]] as const) {
  test(`a weight turned ${what} in epoch 2 stops training at its first step naming the layer, and the epoch-1 checkpoint stays on disk unchanged`, async () => {
    const net = new Net(info.spec, { seed: 1 });
    const checkpoint = path.join(dir, `diverged-${what}.safetensors`);
    let good: Buffer | null = null;
    const run = train({
      net, data: { train: images, test: images }, config, info, checkpoint,
      onEvent: (e) => {
        if (e.kind !== 'epoch' || e.result.epoch !== 1) return;
        good = readFileSync(checkpoint);
        (net.params.get('fc1.weight') as { value: Tensor }).value.data[5] = poison;
      },
    });
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof DivergenceError, String(e));
      assert.equal(e.step, 4, 'the first step of epoch 2 (three steps an epoch)');
      assert.equal(e.epoch, 2);
      assert.equal(e.layer, 'fc1');
      assert.match(e.message, /^training diverged at step 4 \(epoch 2\): the loss is NaN; the first non-finite values are in the output of layer 3 'fc1' \(FC-8, line 1 column \d+\)/);
      return true;
    });
    assert.ok(good !== null);
    assert.deepEqual(await readFile(checkpoint), good, 'the checkpoint on disk is the last good one, byte for byte');
    const kept = await loadCheckpoint(checkpoint);
    assert.equal(kept.state.epochsDone, 1);
    assert.ok([...kept.params.values()].every((t) => t.data.every(Number.isFinite)), 'the kept checkpoint is finite');
  });
}

test('a weight that turns Inf in the step before a checkpoint (finite gradients, an update that overflows) is not saved: the last good checkpoint stays', async () => {
  // Step 6 ends epoch 2 (three steps an epoch); with checkpointEvery 1, step 5 is mid-epoch.
  for (const [every, poisonedAt, keptStep] of [[0, 6, 3], [1, 5, 4]] as const) {
    const net = new Net(info.spec, { seed: 1 });
    const checkpoint = path.join(dir, `overflow-${every}.safetensors`);
    let steps = 0;
    let good: Buffer | null = null;
    const run = train({
      net, data: { train: images, test: images }, config, info, checkpoint, checkpointEvery: every,
      onEvent: (e) => {
        if (e.kind !== 'step' || ++steps !== poisonedAt) return;
        good = readFileSync(checkpoint);
        (net.params.get('fc1.weight') as { value: Tensor }).value.data[2] = Number.POSITIVE_INFINITY;
      },
    });
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof DivergenceError, String(e));
      assert.deepEqual([e.step, e.epoch, e.layer], [poisonedAt, 2, 'fc1']);
      assert.equal(e.message, `training diverged at step ${poisonedAt} (epoch 2): 'fc1.weight' holds Infinity after the step, in layer 3 'fc1' (FC-8, line 1 column 41); ${checkpoint} keeps the last good checkpoint`);
      return true;
    });
    assert.deepEqual(await readFile(checkpoint), good, 'the checkpoint on disk is the last good one, byte for byte');
    assert.equal((await loadCheckpoint(checkpoint)).state.step, keptStep);
  }
});

test('batch-norm training with one value per channel (a batch of 1 after FC) is refused, naming the layer', () => {
  const spec = toNetSpec('INPUT[4x4x1] -> FC-8 -> BN -> RELU -> FC-2');
  const net = new Net(spec, { seed: 1 });
  const one = Tensor.from([1, 1, 4, 4], Float32Array.from({ length: 16 }, (_, i) => i / 16));
  const runningVar = Float32Array.from(net.params.get('bn1.running_var')?.value.data ?? []);
  assert.throws(() => net.forward(one, { training: true }), (e: unknown) => {
    assert.ok(e instanceof NetError, String(e));
    assert.equal(e.index, 2);
    assert.equal(e.message, "layer 2 'bn1' at line 1, column 25 (BN): bn: training needs more than one value per channel, got a batch of 1 with (8) per image; use a batch of 2 or more");
    return true;
  });
  assert.deepEqual(net.params.get('bn1.running_var')?.value.data, runningVar, 'the running variance is untouched');
  net.clearTape();
  const two = Tensor.from([2, 1, 4, 4], Float32Array.from({ length: 32 }, (_, i) => i / 32));
  assert.equal(net.forward(two, { training: true }).shape[0], 2, 'a batch of 2 trains');
  assert.equal(net.forward(one).shape[0], 1, 'a batch of 1 runs in inference');
  const conv = new Net(toNetSpec('INPUT[4x4x1] -> CONV3-2(p=1) -> BN -> FC-2'), { seed: 1 });
  assert.equal(conv.forward(one, { training: true }).shape[0], 1, 'after a CONV, one image still gives 16 values per channel');
});

test('a disk without room for the checkpoint is refused before training, naming the file and the sizes', async () => {
  const net = new Net(info.spec, { seed: 1 });
  const weights = [...net.params.values()].reduce((n, p) => n + p.value.data.byteLength, 0);
  assert.equal(savedFileBytes(net), weights + 1_000_000);
  assert.equal(savedFileBytes(net, 'adam'), 3 * weights + 1_000_000, 'Adam keeps two slots per weight');
  const file = path.join(dir, 'huge.checkpoint.safetensors');
  await checkRoom([{ label: `--checkpoint ${file}`, file, bytes: 1000 }]);
  await assert.rejects(checkRoom([{ label: '--out m.safetensors', file: path.join(dir, 'm.safetensors'), bytes: 1000 }, { label: `--checkpoint ${file}`, file, bytes: 2 ** 62 }]), (e: unknown) => {
    assert.ok(e instanceof NoRoomError);
    assert.match(e.message, new RegExp(`^--out m\\.safetensors and --checkpoint ${file.replace(/[.]/g, '\\.')}: needs 4611686018427\\.4 MB on the disk of ${dir.replace(/[.]/g, '\\.')}, which has [\\d.]+ MB free$`));
    return true;
  });
});
