import { test } from 'node:test';
import { trainStep, type TrainCase } from './train_helper.js';

/**
 * One net of each structure (plain, grouped, inception, residual, pre-activation; LeNet at its own full size) trained one step on the reference backend.
 * Inputs are the smallest that the nets' sizes allow with each BN seeing at least 4 values: the
 * backend is plain TypeScript, and this file must stay fast. train_deep.test.ts does every other
 * zoo net (CONVSTACK_ZOO_FULL=1).
 */
const CASES: TrainCase[] = [
  { name: 'lenet5', input: [32, 32, 1], batch: 2 },
  { name: 'lenet5_mnist', input: [28, 28, 1], batch: 2 },
  // 63 = 11 + 4*13 - 2*2: conv1 gives 15x15, the three pools 7, 3 and 1.
  { name: 'alexnet', input: [63, 63, 3], batch: 1 },
  // (67 - 11)/4 + 1 = 15: exact, as the paper's 227 is.
  { name: 'alexnet_grouped', input: [67, 67, 3], batch: 1 },
  // 80 leaves 3x3 at inception5 (at 2x2 the 3x3 max pool of branch4 makes all four values equal, and BN zeroes them).
  { name: 'googlenet', input: [80, 80, 3], batch: 1 },
  // 64 leaves 2x2 at layer4.
  { name: 'resnet18', input: [64, 64, 3], batch: 1 },
  { name: 'preact_resnet18', input: [64, 64, 3], batch: 1 },
];

for (const c of CASES) {
  test(`${c.name} at ${c.input.join('x')}, batch ${c.batch}: forward and a training step with finite, non-zero gradients everywhere`, () => trainStep(c));
}
