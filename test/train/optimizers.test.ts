// Fixtures: test/fixtures/optim/*.json, written by tools/make_optimizer_fixtures.py with torch 1.13:
// five steps of each optimizer on fixed parameters and gradients, and each scheduler's lr per epoch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Parameter } from '../../src/net/net.js';
import { HeapAllocator, Tensor } from '../../src/tensor/tensor.js';
import { createOptimizer, parseOptimizerName, type OptimizerOptions } from '../../src/train/optimizers/index.js';
import { lrAt, parseSchedule, type Schedule } from '../../src/train/schedules.js';
import { assertClose } from '../helpers/assert.js';

interface OptimizerCase {
  name: string;
  optimizer: string;
  options: OptimizerOptions;
  params: Record<string, { shape: number[]; values: number[] }>;
  steps: { grads: Record<string, number[]>; expected: Record<string, number[]> }[];
}

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/optim/${name}`, import.meta.url), 'utf8'));
const optimizerCases = (fixture('optimizers.json') as { cases: OptimizerCase[] }).cases;
const scheduleCases = (fixture('schedules.json') as { cases: { name: string; schedule: Schedule; baseLr: number; lrs: number[] }[] }).cases;

/** Each value within 1e-5 of torch's, relative to its own magnitude (at least 1e-3). */
const TORCH_STEP = { tolerance: 1e-5, floor: 1e-3, perValue: true };

for (const c of optimizerCases) {
  test(`optimizer ${c.name} matches torch.optim step by step`, () => {
    const params: Parameter[] = Object.entries(c.params).map(([name, p]) => ({
      name,
      value: Tensor.from(p.shape, p.values),
      grad: null,
      trainable: true,
    }));
    const optimizer = createOptimizer(parseOptimizerName(c.optimizer), params, c.options);
    assert.equal(optimizer.name, c.optimizer);
    c.steps.forEach((step, s) => {
      for (const p of params) p.grad = Tensor.from(p.value.shape, step.grads[p.name] ?? []);
      optimizer.step();
      for (const p of params) assertClose(p.value.data, step.expected[p.name] ?? [], `step ${s + 1} ${p.name}`, TORCH_STEP);
    });
  });
}

test('optimizer state round-trips: a restored optimizer continues exactly', () => {
  const c = optimizerCases.find((x) => x.name === 'adam_weight_decay') as OptimizerCase;
  const make = (): Parameter[] =>
    Object.entries(c.params).map(([name, p]) => ({ name, value: Tensor.from(p.shape, p.values), grad: null, trainable: true }));
  const setGrads = (params: Parameter[], s: number): void => {
    for (const p of params) p.grad = Tensor.from(p.value.shape, c.steps[s]?.grads[p.name] ?? []);
  };
  const a = make();
  const optA = createOptimizer('adam', a, c.options);
  const b = make();
  const optB = createOptimizer('adam', b, c.options);
  for (let s = 0; s < 2; s++) {
    setGrads(a, s);
    optA.step();
  }
  a.forEach((p, i) => b[i]?.value.data.set(p.value.data));
  optB.loadState(optA.state());
  for (let s = 2; s < 5; s++) {
    setGrads(a, s);
    optA.step();
    setGrads(b, s);
    optB.step();
  }
  a.forEach((p, i) => assert.deepEqual(b[i]?.value.data, p.value.data));
});

test('optimizer state is allocated up front beside the parameters, counted by their allocator, and freed by dispose', () => {
  const allocator = new HeapAllocator();
  const params: Parameter[] = [{ name: 'w', value: Tensor.zeros([10, 10], 'float32', allocator), grad: null, trainable: true }];
  assert.equal(allocator.tracker.live, 100 * 4);
  const optimizer = createOptimizer('adam', params, { lr: 0.001 });
  assert.equal(allocator.tracker.live, 3 * 100 * 4);
  optimizer.dispose();
  params[0]?.value.dispose();
  assert.equal(allocator.tracker.live, 0);
});

test('an unknown optimizer name lists the known ones', () => {
  assert.throws(() => parseOptimizerName('lbfgs'), /unknown optimizer 'lbfgs'.*sgd, momentum, nesterov/);
});

for (const c of scheduleCases) {
  test(`schedule ${c.name} matches torch's lr_scheduler`, () => {
    c.lrs.forEach((lr, epoch) => assertClose([lrAt(c.schedule, c.baseLr, epoch)], [lr], `epoch ${epoch}`, TORCH_STEP));
  });
}

test('--schedule parses each form and rejects the rest', () => {
  assert.deepEqual(parseSchedule('cosine', 20), { kind: 'cosine', tMax: 20, etaMin: 0 });
  assert.deepEqual(parseSchedule('cosine:0.001', 5), { kind: 'cosine', tMax: 5, etaMin: 0.001 });
  assert.deepEqual(parseSchedule('step:3', 5), { kind: 'step', stepSize: 3, gamma: 0.1 });
  assert.deepEqual(parseSchedule('step:3:0.5', 5), { kind: 'step', stepSize: 3, gamma: 0.5 });
  assert.deepEqual(parseSchedule('constant', 5), { kind: 'constant' });
  for (const bad of ['linear', 'step', 'step:0', 'step:1.5', 'cosine:x', 'constant:1']) assert.throws(() => parseSchedule(bad, 5), /bad --schedule/);
});
