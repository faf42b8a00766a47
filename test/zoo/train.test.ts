import { test } from 'node:test';
import { REDUCED_INPUT, trainStep, type TrainCase } from './helper.js';

/**
 * One net of each structure (plain, grouped, inception, residual, pre-activation) trained one step on
 * the reference backend at its reduced input (helper.ts): the backend is plain TypeScript, and
 * this file must stay fast. train_deep.full.test.ts does every other zoo net (`npm run test:full`).
 */
const CASES: TrainCase[] = [
  { name: 'lenet5', batch: 2 },
  { name: 'lenet5_mnist', batch: 2 },
  { name: 'alexnet', batch: 1 },
  { name: 'alexnet_grouped', batch: 1 },
  { name: 'googlenet', batch: 1 },
  { name: 'resnet18', batch: 1 },
  { name: 'preact_resnet18', batch: 1 },
];

for (const c of CASES) {
  test(`${c.name} at ${REDUCED_INPUT[c.name]?.join('x')}, batch ${c.batch}: forward and a training step with finite, non-zero gradients everywhere`, () => trainStep(c));
}
