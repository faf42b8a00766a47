import { test } from 'node:test';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { trainStep, type TrainCase } from './train_helper.js';

/**
 * Every zoo net that train.test.ts leaves out, one training step each at its smallest workable input,
 * on the WebAssembly backend: on the reference one this file takes minutes (VGG-19 at 32x32 alone is
 * ~1.2G multiply-adds per step), on wasm seconds. The kernels themselves are checked against the
 * reference backend in test/backends/wasm.test.ts.
 */
const CASES: TrainCase[] = [
  // 71: conv1 34, pool1 17, conv2 7, pool2 3, pool5 1; every size works out.
  { name: 'zfnet', input: [71, 71, 3], batch: 1 },
  // Both auxiliary heads get their gradients from their own losses (stepLoss), as in the paper. Their
  // 5x5/3 pools leave 1x1 at this input, so a batch of 4 gives their BN layers 4 values each.
  { name: 'googlenet_aux', input: [80, 80, 3], batch: 4 },
  ...['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn'].map((name): TrainCase => ({ name, input: [32, 32, 3], batch: 1 })),
  ...['resnet34', 'resnet50', 'resnet101', 'resnet152'].map((name): TrainCase => ({ name, input: [64, 64, 3], batch: 1 })),
];

const wasm = await createWasmBackend();

for (const c of CASES) {
  test(`${c.name} at ${c.input.join('x')}: a training step with finite, non-zero gradients everywhere (wasm)`, () => trainStep(c, wasm));
}
