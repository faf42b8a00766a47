import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimateMemory } from '../../src/memory/estimate.js';
import { measureInferencePeak, measureTrainingPeak } from '../../src/memory/measure.js';
import { zooSpec } from './nets.js';

// Issue 5's acceptance test: for the notes' named nets, the estimate is the tracker's measured peak
// within 5%, for a training step (SGD) and for an inference pass, on the reference backend. Inputs
// are reduced to keep the reference kernels quick; GoogLeNet's 31x31 is the smallest its ceil-mode
// pools accept (31 -> 16 -> 8 -> 4 -> 2 -> 1).

const CASES: { name: string; input: [number, number, number]; training: number[]; inference: number[] }[] = [
  { name: 'lenet5', input: [32, 32, 1], training: [1, 8], inference: [1, 8] },
  { name: 'vgg16', input: [32, 32, 3], training: [1, 8], inference: [1, 8] },
  { name: 'resnet18', input: [32, 32, 3], training: [1, 8], inference: [1, 8] },
  { name: 'googlenet', input: [31, 31, 3], training: [1, 8], inference: [1, 8] },
];

function assertWithin5Percent(estimate: number, measured: number): void {
  const error = Math.abs(estimate - measured) / measured;
  assert.ok(error <= 0.05, `estimate ${estimate} vs measured ${measured} bytes: ${(error * 100).toFixed(2)}% apart`);
}

describe('estimate vs measured peak, zoo nets', () => {
  for (const { name, input, training, inference } of CASES) {
    const spec = zooSpec(name, input);
    for (const batch of training) {
      it(`${name} ${input.join('x')}, training step, batch ${batch}`, () => {
        assertWithin5Percent(estimateMemory(spec, { batch }).training.total, measureTrainingPeak(spec, { batch }));
      });
    }
    for (const batch of inference) {
      it(`${name} ${input.join('x')}, inference, batch ${batch}`, () => {
        assertWithin5Percent(estimateMemory(spec, { batch }).inference.total, measureInferencePeak(spec, { batch }));
      });
    }
  }
});
