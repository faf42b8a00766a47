import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArrayDataset } from '../../src/data/dataset.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { evaluate } from '../../src/train/evaluate.js';
import { bnNeedingTwoImages, lastBatchPolicy } from '../../src/train/last_batch.js';
import { train, TrainingInterrupted, type TrainConfig, type TrainEvent } from '../../src/train/loop.js';
import type { ModelInfo } from '../../src/train/model_file.js';
import { testBackends } from '../helpers/backends.js';

// 17 images in batches of 8 leave one image in the last batch: a BN after an FC layer cannot train
// on it (one value per channel), so the loop drops that batch, says so once, and evaluates on all 17.
const FC_BN = 'INPUT[4x4x1] -> FC-8 -> BN -> RELU -> FC-2';
const CONV_BN = 'INPUT[4x4x1] -> CONV3-4(p=1) -> BN -> RELU -> FC-2';
const dataset = (n: number): ArrayDataset => new ArrayDataset(`tiny (${n})`, [1, 4, 4], ['a', 'b'], Uint8Array.from({ length: n * 16 }, (_, i) => (i * 53 + (i >> 4)) % 256), Uint8Array.from({ length: n }, (_, i) => i % 2));
const infoOf = (text: string): ModelInfo => ({ spec: toNetSpec(text), architecture: text, classes: ['a', 'b'], normalization: { mean: [0.5], std: [0.25] } });
const config: TrainConfig = { epochs: 2, batchSize: 8, optimizer: 'momentum', optimizerOptions: { lr: 0.05 }, schedule: { kind: 'constant' }, loss: 'softmax', seed: 1, augmentation: {}, data: 'tiny' };

/** Trains `text` on `n` images; returns the events and the steps taken. */
async function run(text: string, n: number, backend = testBackends()[0]): Promise<{ events: TrainEvent[]; steps: number; net: Net }> {
  const info = infoOf(text);
  const net = new Net(info.spec, { seed: 2, ...(backend && { backend }) });
  const events: TrainEvent[] = [];
  const result = await train({ net, data: { train: dataset(n), test: dataset(n) }, config, info, onEvent: (e) => events.push(e) });
  return { events, steps: result.steps, net };
}

for (const backend of testBackends()) {
  test(`${backend.name}: a BN after an FC layer and a last batch of 1: the batch is dropped with one note; evaluation counts every image`, async () => {
    const { events, steps, net } = await run(FC_BN, 17, backend);
    assert.equal(steps, 4, 'two batches of 8 an epoch');
    const notes = events.filter((e) => e.kind === 'note');
    assert.deepEqual(notes.map((e) => e.kind === 'note' && e.message), [
      "each epoch leaves out 1 of its 17 training images (the last batch of 8, a different image each epoch): a batch of 1 gives layer 'bn1' at line 1, column 25 (BN) one value per channel, which it cannot train on (PyTorch's drop_last)",
    ]);
    const trainedPerEpoch = events.filter((e) => e.kind === 'step' && e.step === 2).map((e) => e.kind === 'step' && e.steps);
    assert.deepEqual(trainedPerEpoch, [2, 2]);
    const evaluation = evaluate(net, dataset(17), { normalization: infoOf(FC_BN).normalization, batchSize: 8 });
    assert.equal(evaluation.total, 17, 'evaluation reads all 17, the last batch of 1 included (inference needs no batch statistics)');
    const last = events.filter((e) => e.kind === 'epoch').at(-1);
    assert.ok(last?.kind === 'epoch' && last.result.testAccuracy === evaluation.accuracy);
  });
}

test('the last batch is kept where BN can train on it: a BN after a CONV layer, a last batch of 2, no BN', async () => {
  for (const [text, n] of [[CONV_BN, 17], [FC_BN, 18], [FC_BN, 16], ['INPUT[4x4x1] -> FC-8 -> RELU -> FC-2', 17]] as const) {
    const { events, steps } = await run(text, n);
    assert.equal(steps, 2 * Math.ceil(n / 8), `${text} on ${n} images`);
    assert.equal(events.filter((e) => e.kind === 'note').length, 0);
  }
  const [bn, conv] = [new Net(infoOf(FC_BN).spec), new Net(infoOf(CONV_BN).spec)];
  assert.equal(bnNeedingTwoImages(bn)?.name, 'bn1');
  assert.equal(bnNeedingTwoImages(conv), null, 'a BN after a 4x4 volume has 16 values per channel');
  assert.equal(bnNeedingTwoImages(new Net(infoOf(FC_BN).spec, { frozen: ['bn1'] })), null, 'a frozen BN normalises as in inference');
  assert.deepEqual(lastBatchPolicy(bn, 1, 8), { dropLast: false, note: null }, 'one image in all: nothing else to train on, BN says what to do');
});

test('a run that drops its last batch resumes within an epoch to the same weights', async () => {
  const info = infoOf(FC_BN);
  const data = { train: dataset(17), test: dataset(17) };
  const straight = new Net(info.spec, { seed: 2 });
  await train({ net: straight, data, config, info });
  const dir = await mkdtemp(path.join(tmpdir(), 'convstack-lastbatch-'));
  try {
    const file = path.join(dir, 'cut.safetensors');
    const stop = new AbortController();
    const cut = train({ net: new Net(info.spec, { seed: 2 }), data, config, info, checkpoint: file, signal: stop.signal, onEvent: (e) => e.kind === 'step' && e.epoch === 2 && stop.abort() });
    await assert.rejects(cut, TrainingInterrupted);
    const saved = await loadCheckpoint(file);
    assert.deepEqual([saved.state.epochsDone, saved.state.inEpoch?.batches], [1, 1]);
    const resumed = new Net(info.spec, { seed: 5 });
    await train({ net: resumed, data, config, info, resume: saved });
    for (const [name, p] of straight.params) assert.deepEqual(resumed.params.get(name)?.value.data, p.value.data, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
