import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArrayDataset, type DataSplits } from '../../src/data/dataset.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { frozenLayers, headLayer, prepareFinetune, replaceHead, finetune } from '../../src/train/finetune.js';
import type { TrainConfig } from '../../src/train/loop.js';
import { netTensors, type ModelInfo } from '../../src/train/model_file.js';
import { checkNetGradients } from '../helpers/gradcheck.js';
import { testBackends } from '../helpers/backends.js';

// CONV, BN and FC layers, each kind with parameters a frozen layer must leave alone.
const TEXT = 'INPUT[8x8x1] -> c1: CONV3-4 -> b1: BN -> RELU -> POOL2 -> f1: FC-8 -> b2: BN -> RELU -> out: FC-3';
const info: ModelInfo = { spec: toNetSpec(TEXT), architecture: TEXT, classes: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.25] } };

/** Random 8x8 images of `classes.length` classes, 6 of each for training and 2 for testing. */
function tinyData(classes: string[], seed = 3): DataSplits {
  const rng = new Rng(seed);
  const make = (name: string, perClass: number): ArrayDataset => {
    const labels = Uint8Array.from({ length: perClass * classes.length }, (_, i) => i % classes.length);
    const pixels = Float32Array.from({ length: labels.length * 64 }, (_, k) => (rng.next() + (labels[Math.floor(k / 64)] as number)) / classes.length);
    return new ArrayDataset(name, [1, 8, 8], classes, pixels, labels);
  };
  return { train: make('tiny (train)', 6), test: make('tiny (test)', 2) };
}

const config: TrainConfig = {
  epochs: 2,
  batchSize: 4,
  optimizer: 'nesterov',
  optimizerOptions: { lr: 0.1, weightDecay: 1e-3 },
  schedule: { kind: 'constant' },
  loss: 'softmax',
  seed: 1,
  augmentation: {},
  data: 'tiny',
};

const snapshot = (net: Net): Map<string, Float64Array> => new Map([...net.params].map(([name, p]) => [name, Float64Array.from(p.value.data)]));

for (const backend of testBackends()) {
  test(`${backend.name}: a frozen backbone stays bit-identical (weights and BN running statistics) while the new head trains`, async () => {
    const pretrained = new Net(info.spec, { backend, seed: 2 });
    const before = snapshot(pretrained);
    const data = tinyData(['x', 'y']);
    const run = await finetune({ pretrained: { info, weights: netTensors(pretrained) }, data, config, backend });
    assert.equal(run.head, 'out');
    assert.deepEqual(run.frozen, ['c1', 'b1', 'f1', 'b2']);
    assert.deepEqual(run.net.params.get('out.weight')?.value.shape, [2, 8]);
    assert.deepEqual(run.net.params.get('out.bias')?.value.shape, [2]);
    assert.equal(run.result.steps, 6);
    for (const [name, values] of snapshot(run.net)) {
      if (name.startsWith('out.')) continue;
      assert.deepEqual(values, before.get(name), `${name} changed`);
    }
    assert.deepEqual(run.net.trainableParams().map((p) => p.name), ['out.weight', 'out.bias']);
    // 8 * 2 + 2 trained; frozen: c1 4*9+4, b1 4+4, f1 (4*4*4)*8+8, b2 8+8 (running statistics not counted).
    assert.deepEqual(run.parameters, { trained: 18, frozen: 40 + 8 + 520 + 16 });
    assert.deepEqual(run.info.classes, ['x', 'y']);
    assert.deepEqual(toNetSpec(run.info.architecture as string, run.info.compileOptions).nodes.at(-1)?.attrs, { outFeatures: 2, bias: true });
    [pretrained, run.net].forEach((net) => net.dispose());
  });

  test(`${backend.name}: backward allocates no gradient for a frozen layer's parameters`, () => {
    const net = new Net(info.spec, { backend, seed: 2, frozen: ['c1', 'b1'] });
    const x = Tensor.from([2, 1, 8, 8], Array.from({ length: 128 }, (_, i) => Math.sin(i)));
    const y = net.forward(x, { training: true });
    net.backward(Tensor.from(y.shape, [1, -1, 0.5, 0.25, 0, -2]));
    for (const p of net.params.values()) {
      const frozenOrBuffer = p.name.startsWith('c1.') || p.name.startsWith('b1.') || !p.trainable;
      assert.equal(p.grad === null, frozenOrBuffer, `${p.name}: grad ${p.grad === null ? 'absent' : 'present'}`);
    }
    [x, y].forEach((t) => t.dispose());
    net.dispose();
  });
}

test('freezing only some layers: those stay fixed, BN running statistics of unfrozen layers move', async () => {
  const pretrained = new Net(info.spec, { seed: 2 });
  const before = snapshot(pretrained);
  const run = await finetune({ pretrained: { info, weights: netTensors(pretrained) }, data: tinyData(['x', 'y', 'z']), config, freeze: ['c1', 'b1'] });
  const after = snapshot(run.net);
  for (const name of ['c1.weight', 'c1.bias', 'b1.weight', 'b1.bias', 'b1.running_mean', 'b1.running_var']) assert.deepEqual(after.get(name), before.get(name), name);
  for (const name of ['f1.weight', 'b2.weight', 'b2.running_mean', 'b2.running_var']) assert.notDeepEqual(after.get(name), before.get(name), name);
  assert.deepEqual(run.net.params.get('out.weight')?.value.shape, [3, 8]);
  assert.deepEqual(run.parameters, { trained: 520 + 16 + 27, frozen: 48 });
});

test('gradients through frozen layers are right: a float64 check with a frozen BN and FC between trained layers', () => {
  const net = new Net(info.spec, { seed: 4, dtype: 'float64', frozen: ['b1', 'f1'] });
  // Running statistics away from 0 and 1, so that a frozen BN that used the batch's would show.
  net.params.get('b1.running_mean')?.value.data.set([0.3, -0.2, 0.1, 0]);
  net.params.get('b1.running_var')?.value.data.set([2, 0.5, 1.5, 0.8]);
  const x = Tensor.from([3, 1, 8, 8], Array.from({ length: 192 }, (_, i) => Math.cos(i * 1.3)), 'float64');
  const errors = checkNetGradients(net, x);
  assert.deepEqual([...errors.keys()].sort(), ['b2.bias', 'b2.weight', 'c1.bias', 'c1.weight', 'input', 'out.bias', 'out.weight']);
  for (const [name, error] of errors) assert.ok(error < 1e-6, `${name}: relative error ${error}`);
});

test('a frozen BN normalises with its running statistics in training: the training output is the inference output', () => {
  const net = new Net(info.spec, { seed: 4, frozen: ['c1', 'b1', 'f1', 'b2', 'out'] });
  net.params.get('b2.running_var')?.value.data.fill(3);
  const x = Tensor.from([2, 1, 8, 8], Array.from({ length: 128 }, (_, i) => Math.sin(i)));
  const inference = net.forward(x);
  const training = net.forward(x, { training: true });
  assert.deepEqual(training.data, inference.data);
  net.clearTape();
});

test('the head: the FC giving the scores, looking back through a SOFTMAX; a net without one is an error', () => {
  assert.equal(headLayer(toNetSpec('INPUT[8x8x1] -> FC-5 -> RELU -> last: FC-3 -> SOFTMAX')).name, 'last');
  assert.throws(() => headLayer(toNetSpec('INPUT[8x8x3] -> CONV3-3 -> GAP')), /replaces the FC layer that gives the net's scores/);
});

test('replaceHead keeps the notation text: CLASSES is rebound, or the FC is rewritten at its place', () => {
  const withVariable = 'let CLASSES = 10\nINPUT[8x8x1] -> FC-16 -> RELU -> FC-CLASSES';
  const rebound = replaceHead({ spec: toNetSpec(withVariable), architecture: withVariable }, 4);
  assert.equal(rebound.architecture, withVariable);
  assert.deepEqual(rebound.compileOptions, { bindings: { CLASSES: 4 } });
  const rewritten = replaceHead({ spec: info.spec, architecture: TEXT }, 7);
  assert.equal(rewritten.architecture, TEXT.replace('out: FC-3', 'out: FC-7'));
  assert.deepEqual(toNetSpec(rewritten.architecture as string).nodes.at(-1)?.attrs, { outFeatures: 7, bias: true });
  // Inside a repetition the FC cannot be rewritten alone: the spec is stored instead.
  const repeated = 'INPUT[8x8x1] -> [FC-3]*2';
  const stored = replaceHead({ spec: toNetSpec(repeated), architecture: repeated }, 5);
  assert.equal(stored.architecture, undefined);
  assert.deepEqual(stored.spec.nodes.map((n) => n.op === 'fc' && n.attrs.outFeatures), [3, 5]);
});

test('frozenLayers: backbone is every layer with parameters but the head; bad names are errors', () => {
  assert.deepEqual(frozenLayers(info.spec, 'out', 'backbone'), ['c1', 'b1', 'f1', 'b2']);
  assert.deepEqual(frozenLayers(info.spec, 'out', 'none'), []);
  assert.deepEqual(frozenLayers(info.spec, 'out', ['f1', 'c1']), ['c1', 'f1']);
  assert.throws(() => frozenLayers(info.spec, 'out', ['c9']), /no layer with parameters named 'c9' \(they are c1, b1, f1, b2, out\)/);
  assert.throws(() => frozenLayers(info.spec, 'out', ['out']), /'out' is the new classifier/);
  assert.throws(() => new Net(info.spec, { frozen: ['relu1'] }), /layer 'relu1' \(relu\) has no parameters/);
});

test('prepareFinetune lists the backbone tensors the weights lack or shape otherwise, and names those it leaves unused', () => {
  const weights = netTensors(new Net(info.spec));
  weights.delete('f1.weight');
  weights.set('b1.bias', Tensor.zeros([5]));
  assert.throws(
    () => prepareFinetune({ info, weights }, { classes: ['x', 'y'] }),
    (error: Error) => error.message === "the pretrained weights do not fit the net's layers but its classifier:\n1 missing (the net has them, the weights do not):\n  'f1.weight' (8, 64)\n1 wrongly shaped:\n  'b1.bias' has shape (5), the net expects (4)",
  );
  const extra = netTensors(new Net(info.spec));
  extra.set('aux.weight', Tensor.zeros([2]));
  const start = prepareFinetune({ info, weights: extra }, { classes: ['x', 'y'] });
  assert.deepEqual(start.unused, ['aux.weight']);
});
