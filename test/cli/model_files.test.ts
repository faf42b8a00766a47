import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../src/data/images.js';
import { formatNpy, parseNpy } from '../../src/io/npy.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { saveModel } from '../../src/train/model_file.js';
import { convstack } from '../helpers/cli.js';

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'convstack-model-files-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** A w x h RGB PNG of seeded random pixels. */
async function randomPng(file: string, seed: number, w: number, h: number): Promise<void> {
  const rng = new Rng(seed);
  const pixels = Buffer.from(Array.from({ length: w * h * 3 }, () => rng.int(256)));
  await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

async function solidPng(file: string, colour: { r: number; g: number; b: number }): Promise<void> {
  await sharp({ create: { width: 4, height: 4, channels: 3, background: colour } }).png().toFile(file);
}

test('run applies the normalisation stored in a model file, so that it agrees with predict; --raw does not', async () => {
  const spec = toNetSpec('INPUT[6x6x3] -> CONV3-4 -> RELU -> FC-3');
  const net = new Net(spec, { seed: 3 });
  const normalization = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] };
  const model = path.join(root, 'norm.safetensors');
  await saveModel(model, net, { spec, classes: ['a', 'b', 'c'], normalization });
  const image = path.join(root, 'image.png');
  await randomPng(image, 5, 6, 6);
  const pixels = await decodeImage(image, [3, 6, 6]);
  const batch = path.join(root, 'image.npy');
  await writeFile(batch, formatNpy(Tensor.from([1, 3, 6, 6], Array.from(pixels, (p) => p / 255))));

  const run = convstack('run', model, batch, '--json', '--backend', 'reference');
  assert.equal(run.status, 0, run.stderr);
  const scores = (JSON.parse(run.stdout) as { shape: number[]; data: number[] }).data;
  const predict = convstack('predict', '--model', model, image, '--top', '3', '--json', '--backend', 'reference');
  assert.equal(predict.status, 0, predict.stderr);
  const [prediction] = JSON.parse(predict.stdout) as { top: { class: string; probability: number }[] }[];
  const total = scores.reduce((s, v) => s + Math.exp(v), 0);
  for (const { class: name, probability } of prediction?.top ?? []) {
    const fromRun = Math.exp(scores[['a', 'b', 'c'].indexOf(name)] as number) / total;
    assert.ok(Math.abs(fromRun - probability) < 1e-6, `${name}: run gives ${fromRun}, predict ${probability}`);
  }
  assert.equal(prediction?.top.length, 3);

  // --raw: the batch goes in as it is, as the net itself would take it.
  const raw = convstack('run', model, '--input', batch, '--raw', '--output', path.join(root, 'raw.npy'), '--backend', 'reference');
  assert.equal(raw.status, 0, raw.stderr);
  const expected = net.forward(parseNpy(readFileSync(batch)));
  assert.deepEqual(Array.from(parseNpy(readFileSync(path.join(root, 'raw.npy'))).data), Array.from(expected.data));
  assert.notDeepEqual(Array.from(expected.data), scores, 'the normalisation changes the scores');
});

test('run takes --input HxWxC for the volume (and --shape as before), and says when no batch is given', async () => {
  const batch = path.join(root, 'small.npy');
  await writeFile(batch, formatNpy(Tensor.zeros([2, 1, 8, 8])));
  const volume = convstack('run', 'INPUT -> FC-4', batch, '--input', '8x8x1', '--json', '--backend', 'reference');
  assert.equal(volume.status, 0, volume.stderr);
  assert.deepEqual((JSON.parse(volume.stdout) as { shape: number[] }).shape, [2, 4]);
  const shape = convstack('run', 'INPUT -> FC-4', '--input', batch, '--shape', '8x8x1', '--json', '--backend', 'reference');
  assert.equal(shape.status, 0, shape.stderr);
  assert.equal(shape.stdout, volume.stdout);
  const none = convstack('run', 'INPUT -> FC-4', '--input', '8x8x1', '--json');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /give the input batch, a \.npy file/);
  const nowhere = convstack('run', 'INPUT -> FC-4', batch, '--input', '8x8x1');
  assert.match(nowhere.stderr, /say where the output goes with --output y\.npy, or print it with --json/);
});

/**
 * A model that tells colours apart: class zebra is red, apple green, mango blue. Its one FC layer sums
 * each channel, so the class of the brightest channel wins. Its classes are not in sorted order.
 */
async function colourModel(file: string): Promise<void> {
  const spec = toNetSpec('INPUT[4x4x3] -> FC-3');
  const net = new Net(spec, { seed: 0 });
  const weight = net.params.get('fc1.weight')?.value;
  assert.ok(weight);
  weight.data.fill(0);
  for (let k = 0; k < 3; k++) for (let i = 0; i < 16; i++) weight.data[k * 48 + k * 16 + i] = 1;
  net.params.get('fc1.bias')?.value.data.fill(0);
  await saveModel(file, net, { spec, classes: ['zebra', 'apple', 'mango'], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
}

const COLOURS = { zebra: { r: 255, g: 0, b: 0 }, apple: { r: 0, g: 255, b: 0 }, mango: { r: 0, g: 0, b: 255 } } as const;

async function colourFolder(dir: string, classes: (keyof typeof COLOURS)[], perClass: number): Promise<void> {
  for (const cls of classes) {
    await mkdir(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) await solidPng(path.join(dir, cls, `${i}.png`), COLOURS[cls]);
  }
}

test('eval matches classes by name, evaluates a subset on that subset, and refuses classes the model does not know', async () => {
  const model = path.join(root, 'colours.safetensors');
  await colourModel(model);
  const all = path.join(root, 'all');
  // Sorted, the folders are apple, mango, zebra: by position every image would be wrong.
  await colourFolder(all, ['zebra', 'apple', 'mango'], 5);
  const test = convstack('eval', '--model', model, '--data', `folder:${all}`, '--backend', 'reference');
  assert.equal(test.status, 0, test.stderr);
  assert.match(test.stdout, /: 3 of 3 correct\ntest accuracy: 1\.0000\n$/);
  const train = convstack('eval', '--model', model, '--data', `folder:${all}`, '--split', 'train', '--backend', 'reference');
  assert.match(train.stdout, /: 12 of 12 correct\ntrain accuracy: 1\.0000\n$/);
  const whole = convstack('eval', '--model', model, '--data', `folder:${all},holdout=0.4`, '--split', 'all', '--json', '--backend', 'reference');
  assert.equal(whole.status, 0, whole.stderr);
  const json = JSON.parse(whole.stdout) as { split: string; correct: number; total: number; classes: string[] };
  assert.deepEqual([json.split, json.correct, json.total, json.classes], ['all', 15, 15, ['apple', 'mango', 'zebra']]);

  const subset = path.join(root, 'subset');
  await colourFolder(subset, ['zebra', 'mango'], 5);
  const some = convstack('eval', '--model', model, '--data', `folder:${subset}`, '--split', 'all', '--backend', 'reference');
  assert.equal(some.status, 0, some.stderr);
  assert.match(some.stdout, /: 10 of 10 correct\non 2 of the model's 3 classes: mango, zebra\naccuracy: 1\.0000\n$/);

  const strange = path.join(root, 'strange');
  await colourFolder(strange, ['apple', 'zebra'], 2);
  await mkdir(path.join(strange, 'pear'));
  await solidPng(path.join(strange, 'pear', '0.png'), { r: 200, g: 200, b: 0 });
  const unknown = convstack('eval', '--model', model, '--data', `folder:${strange}`, '--backend', 'reference');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /has a class the model does not know \(pear\); the model's classes: zebra, apple, mango; the data's: apple, pear, zebra\n$/);
});

test('a corrupt image is skipped in the same words by predict and eval', async () => {
  const model = path.join(root, 'colours2.safetensors');
  await colourModel(model);
  const dir = path.join(root, 'corrupt');
  await colourFolder(dir, ['apple', 'mango', 'zebra'], 2);
  const broken = path.join(dir, 'apple', 'broken.png');
  await writeFile(broken, 'not a png');
  const warning = new RegExp(`^convstack: warning: skipped ${broken}: cannot decode image \\(.+\\)$`, 'm');
  const evaluated = convstack('eval', '--model', model, '--data', `folder:${dir}`, '--split', 'all', '--backend', 'reference');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stderr, warning);
  assert.match(evaluated.stdout, /: 6 of 6 correct/);
  const good = path.join(dir, 'mango', '0.png');
  const predicted = convstack('predict', '--model', model, broken, good, '--top', '1', '--backend', 'reference');
  assert.equal(predicted.status, 0, predicted.stderr);
  assert.match(predicted.stderr, warning);
  assert.equal(predicted.stdout, `${good}: mango (${(Math.exp(16) / (Math.exp(16) + 2)).toFixed(4)})\n`);
  const missing = path.join(dir, 'mango', 'missing.png');
  const typo = convstack('predict', '--model', model, missing, good, '--backend', 'reference');
  assert.equal(typo.status, 1, 'a missing file is a mistake to fix, not an image to skip');
  assert.equal(typo.stderr, `convstack: ${missing}: no such file\n`);
});
