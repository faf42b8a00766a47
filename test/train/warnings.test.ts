import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelStats } from '../../src/data/augment.js';
import type { ArrayDataset, DataSplits } from '../../src/data/dataset.js';
import { mnist } from '../../src/data/mnist.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { defaultConfig } from '../../src/train/defaults.js';
import { train, type TrainEvent } from '../../src/train/loop.js';
import { LossWatch, lowerLrAdvice } from '../../src/train/warnings.js';

const LN10 = Math.log(10);

/** Feeds `losses` (one epoch of `losses.length` steps) and returns every warning given. */
function watchEpochs(watch: LossWatch, epochs: number[][]): string[] {
  const warnings: string[] = [];
  epochs.forEach((losses, e) => {
    losses.forEach((loss, i) => {
      const w = watch.afterStep(e + 1, i + 1, losses.length, loss);
      if (w !== null) warnings.push(w);
    });
    const w = watch.afterEpoch(e + 1);
    if (w !== null) warnings.push(w);
  });
  return warnings;
}

test('a loss that stays at ln(C) gets one warning naming ln(C) and a lower learning rate', () => {
  const flat = Array.from({ length: 20 }, (_, i) => LN10 + (i % 2 === 0 ? 0.01 : -0.01));
  const warnings = watchEpochs(new LossWatch(10, 0.05), [flat, flat]);
  assert.equal(warnings.length, 1, 'once per run');
  assert.match(warnings[0] ?? '', /^the loss stays at ln\(C\) = 2\.303 \(2\.303 over the second half of epoch 1\): the net predicts the class frequencies whatever the image, so it is not learning; try a lower learning rate \(--lr 0\.005\)/);
});

test('a loss that explodes in the first epoch gets one warning; one that falls gets none', () => {
  const exploding = [2.3, 2.1, 1.9, 4, 9, 30, 80, 2.3];
  const warnings = watchEpochs(new LossWatch(10, 0.1), [exploding]);
  assert.deepEqual(warnings, [`the loss exploded in the first epoch: 9.00 at step 5, from 2.30 at the first step (ln(C) = 2.30); try a lower learning rate (--lr 0.01)`]);
  const falling = Array.from({ length: 20 }, (_, i) => LN10 * Math.exp(-i / 8));
  assert.deepEqual(watchEpochs(new LossWatch(10, 0.1), [falling, falling.map((l) => l / 2)]), []);
  // A loss that starts at 5 (a badly scaled classifier) and comes down is not an explosion.
  assert.deepEqual(watchEpochs(new LossWatch(3, 0.1), [[5, 12, 4, 2, 1, 0.5]]), []);
  assert.equal(lowerLrAdvice(0), 'the learning rate is 0: give --lr');
});

test('train() reports a run stuck at the prior as a warning event', async () => {
  const all = mnist();
  const data: DataSplits = {
    train: (all.train as ArrayDataset).subset('mnist (train slice)', Array.from({ length: 256 }, (_, i) => i * 31)),
    test: (all.test as ArrayDataset).subset('mnist (test slice)', Array.from({ length: 64 }, (_, i) => i * 31)),
  };
  const text = 'INPUT[28x28x1] -> CONV5-8 -> RELU -> POOL2 -> FC-10';
  const spec = toNetSpec(text);
  const info = { spec, architecture: text, classes: [...data.train.classes], normalization: channelStats(data.train) };
  // NOTE: a learning rate of 0 keeps the small initial classifier's near-uniform scores: the loss
  // is ln(10) plus a few thousandths throughout, as in a run whose ReLUs have died.
  const config = { ...defaultConfig(1, 'mnist'), optimizerOptions: { lr: 0 } };
  const events: TrainEvent[] = [];
  await train({ net: new Net(spec, { seed: 0 }), data, config, info, onEvent: (e) => events.push(e) });
  const warnings = events.flatMap((e) => (e.kind === 'warning' ? [e.message] : []));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^the loss stays at ln\(C\) = 2\.303 .*the learning rate is 0: give --lr/);
  assert.equal(events.findIndex((e) => e.kind === 'warning'), events.findIndex((e) => e.kind === 'epoch') + 1, 'given after the epoch line');
});
