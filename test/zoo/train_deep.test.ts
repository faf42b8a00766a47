import { test } from 'node:test';
import { trainStep, type TrainCase } from './train_helper.js';

/**
 * Every zoo net that train.test.ts leaves out, one training step each at its smallest workable input.
 * NOTE: on the reference backend this takes one to two minutes (VGG-19 at 32x32 alone is ~1.2G
 * multiply-adds per step), so it runs only with CONVSTACK_ZOO_FULL=1.
 */
const CASES: TrainCase[] = [
  // 71: conv1 34, pool1 17, conv2 7, pool2 3, pool5 1; every size works out.
  { name: 'zfnet', input: [71, 71, 3], batch: 1 },
  // NOTE: Net has one output, so a loss on it reaches no auxiliary head; torchvision sums all three in training.
  { name: 'googlenet_aux', input: [80, 80, 3], batch: 1, unreachable: /^aux[12]\./ },
  ...['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn'].map((name): TrainCase => ({ name, input: [32, 32, 3], batch: 1 })),
  ...['resnet34', 'resnet50', 'resnet101', 'resnet152'].map((name): TrainCase => ({ name, input: [64, 64, 3], batch: 1 })),
];

const skip = process.env['CONVSTACK_ZOO_FULL'] === '1' ? false : 'slow on the reference backend: set CONVSTACK_ZOO_FULL=1';

for (const c of CASES) {
  test(`${c.name} at ${c.input.join('x')}: a training step with finite, non-zero gradients everywhere`, { skip }, () => trainStep(c));
}
