import { after, test } from 'node:test';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { testBackends } from '../helpers/backends.js';
import { REDUCED_INPUT, trainStep, type TrainCase } from './helper.js';

/**
 * Every zoo net that train.test.ts leaves out, one training step each at its reduced input, on every
 * fast backend: on the reference one this file takes minutes (VGG-19 at 32x32 alone is ~1.2G
 * multiply-adds per step), on wasm seconds. The kernels themselves are checked against the reference
 * backend by the conformance suite (test/backends/conformance.test.ts). In `npm run test:full` only.
 */
const CASES: TrainCase[] = [
  { name: 'zfnet', batch: 1 },
  // Both auxiliary heads get their gradients from their own losses (stepLoss), as in the paper.
  { name: 'googlenet_aux', batch: 4 },
  ...['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn'].map((name): TrainCase => ({ name, batch: 1 })),
  ...['resnet34', 'resnet50', 'resnet101', 'resnet152'].map((name): TrainCase => ({ name, batch: 1 })),
];

for (const backend of testBackends().filter((b) => b !== referenceBackend)) {
  for (const c of CASES) {
    test(`${c.name} at ${REDUCED_INPUT[c.name]?.join('x')}: a training step with finite, non-zero gradients everywhere (${backend.name})`, () => trainStep(c, backend));
  }
}

after(async () => {
  await Promise.all(testBackends().map((b) => b.dispose()));
});
