import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { channelStats } from '../../src/data/augment.js';
import type { ArrayDataset, DataSplits } from '../../src/data/dataset.js';
import { mnist } from '../../src/data/mnist.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { DivergenceError, checkGradients, train, type TrainConfig, type TrainEvent } from '../../src/train/loop.js';
import type { ModelInfo } from '../../src/train/model_file.js';

// A small net on a slice of the real digits, on the reference backend: quick, and deterministic.
const TEXT = 'INPUT[28x28x1] -> CONV4-8(s=2, p=1) -> RELU -> POOL2 -> DROPOUT(p=0.2) -> FC-32 -> RELU -> FC-10';
const all = mnist();
const data: DataSplits = {
  train: (all.train as ArrayDataset).subset('mnist (train slice)', Array.from({ length: 1200 }, (_, i) => i * 6)),
  test: (all.test as ArrayDataset).subset('mnist (test slice)', Array.from({ length: 400 }, (_, i) => i * 5)),
};
const info: ModelInfo = { spec: toNetSpec(TEXT), architecture: TEXT, classes: [...data.train.classes], normalization: channelStats(data.train) };
const config: TrainConfig = {
  epochs: 2,
  batchSize: 32,
  optimizer: 'nesterov',
  optimizerOptions: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  schedule: { kind: 'cosine', tMax: 2, etaMin: 0 },
  loss: 'softmax',
  seed: 5,
  augmentation: { shift: 2, flip: false },
  data: 'mnist',
};

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convstack-train-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const weights = (net: Net): Float32Array[] => [...net.params.values()].map((p) => Float32Array.from(p.value.data));

test('a small net learns the digits: test accuracy far above chance after two short epochs', async () => {
  const events: TrainEvent[] = [];
  const net = new Net(info.spec, { seed: 1 });
  const plain: TrainConfig = { ...config, optimizer: 'momentum', optimizerOptions: { lr: 0.02 }, augmentation: {} };
  const result = await train({ net, data, config: plain, info, onEvent: (e) => events.push(e) });
  assert.equal(result.epochs.length, 2);
  assert.equal(result.steps, 2 * Math.ceil(1200 / 32));
  // Chance is 0.1; PyTorch reaches about 0.84 with this net and data.
  assert.ok(result.testAccuracy > 0.6, `test accuracy ${result.testAccuracy}`);
  assert.ok((result.epochs[1]?.loss as number) < (result.epochs[0]?.loss as number), 'the loss falls');
  assert.deepEqual(result.epochs.map((e) => e.lr), [0.02, 0.01]);
  const steps = events.filter((e) => e.kind === 'step');
  assert.equal(steps.length, result.steps);
  assert.deepEqual(steps.at(-1), { ...steps.at(-1), epoch: 2, step: 38, steps: 38 });
});

test('resume from the epoch-1 checkpoint reaches bit-identical weights to an uninterrupted run', async () => {
  const straight = new Net(info.spec, { seed: 3 });
  const full = path.join(dir, 'full.safetensors');
  await train({ net: straight, data, config, info, checkpoint: full });

  const interrupted = new Net(info.spec, { seed: 3 });
  const partial = path.join(dir, 'partial.safetensors');
  const crash = new Error('simulated crash after epoch 1');
  await assert.rejects(
    train({ net: interrupted, data, config, info, checkpoint: partial, onEvent: (e) => { if (e.kind === 'epoch') throw crash; } }),
    crash,
  );
  const checkpoint = await loadCheckpoint(partial);
  assert.equal(checkpoint.state.epochsDone, 1);
  assert.deepEqual(checkpoint.config, config);
  // A fresh process: a net with another seed, everything else from the checkpoint.
  const resumed = new Net(checkpoint.info.spec, { seed: 99 });
  const result = await train({ net: resumed, data, config: checkpoint.config, info: checkpoint.info, checkpoint: partial, resume: checkpoint });
  assert.equal(result.epochs.length, 2);
  const a = weights(straight);
  const b = weights(resumed);
  a.forEach((w, i) => assert.deepEqual(b[i], w, `parameter ${i}`));
  // Timings differ between the runs; the position, the generators and the accuracies do not.
  const [s1, s2] = [(await loadCheckpoint(full)).state, (await loadCheckpoint(partial)).state];
  assert.deepEqual([s2.epochsDone, s2.step, s2.rng], [s1.epochsDone, s1.step, s1.rng]);
  assert.deepEqual(s2.history.map((e) => [e.loss, e.testAccuracy]), s1.history.map((e) => [e.loss, e.testAccuracy]));
  assert.deepEqual((await readdir(dir)).sort(), ['full.safetensors', 'partial.safetensors'], 'no temporary files left');
});

test('a NaN weight stops training, naming the step and the first layer with non-finite output', async () => {
  const net = new Net(info.spec, { seed: 1 });
  const fc = net.params.get('fc1.weight') ?? [...net.params.values()].find((p) => p.name.endsWith('.weight') && p.value.shape.length === 2);
  assert.ok(fc);
  const layer = fc.name.slice(0, fc.name.lastIndexOf('.'));
  fc.value.data[7] = Number.NaN;
  const checkpoint = path.join(dir, 'nan.safetensors');
  await assert.rejects(train({ net, data, config, info, checkpoint }), (e: unknown) => {
    assert.ok(e instanceof DivergenceError);
    assert.equal(e.step, 1);
    assert.equal(e.layer, layer);
    assert.match(e.message, new RegExp(`^training diverged at step 1 \\(epoch 1\\): the loss is NaN; the first non-finite values are in the output of layer \\d+ '${layer}' \\(FC-32, line 1 column \\d+\\); try a lower learning rate \\(--lr 0\\.005\\)$`));
    return true;
  });
  assert.deepEqual(await readdir(dir).then((f) => f.includes('nan.safetensors')), false, 'no checkpoint of a diverged epoch');
});

test('a non-finite gradient names the parameter and the layer backward reached first', () => {
  const net = new Net(info.spec, { seed: 1 });
  for (const p of net.trainableParams()) p.grad = Tensor.zeros(p.value.shape);
  const params = net.trainableParams();
  const first = params[0];
  const last = params[params.length - 2];
  assert.ok(first && last);
  first.grad?.data.fill(Number.POSITIVE_INFINITY);
  last.grad?.data.fill(Number.NaN, 3, 4);
  assert.throws(() => checkGradients(net, 17, 2), (e: unknown) => {
    assert.ok(e instanceof DivergenceError);
    assert.equal(e.step, 17);
    assert.equal(e.layer, last.name.slice(0, last.name.lastIndexOf('.')));
    assert.match(e.message, new RegExp(`at step 17 \\(epoch 2\\): the gradient of '${last.name.replace('.', '\\.')}' holds NaN; .* layer \\d+ '`));
    return true;
  });
});

test('an auxiliary head (AUX) trains with its loss weighted 0.3, and inference ignores it', async () => {
  const text = 'INPUT[28x28x1] -> CONV4-8(s=2, p=1) -> RELU -> AUX[POOL2 -> FC-10] -> POOL2 -> FC-32 -> RELU -> FC-10';
  const spec = toNetSpec(text);
  const net = new Net(spec, { seed: 1 });
  const [head] = net.auxiliaryHeads;
  assert.ok(head);
  const before = Float32Array.from(net.params.get(`${head.name}.weight`)?.value.data ?? []);
  const plain: TrainConfig = { ...config, epochs: 1, optimizer: 'momentum', optimizerOptions: { lr: 0.02 }, augmentation: {} };
  const result = await train({ net, data, config: plain, info: { ...info, spec, architecture: text } });
  assert.ok(result.testAccuracy > 0.5, `test accuracy ${result.testAccuracy}`);
  assert.notDeepEqual(net.params.get(`${head.name}.weight`)?.value.data, before, 'the auxiliary head learned');
});
