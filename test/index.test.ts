import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { importSpecifiers, relativeImports } from './helpers/imports.js';
import { Net, Tensor, toNetSpec, summary, zooNet, estimateMemory, softmaxCrossEntropy } from '../src/index.js';

test('the public entry designs, sizes, runs and trains a net', () => {
  const spec = toNetSpec('INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC-10');
  const params = 8 * 9 + 8 + 8 * 72 + 8 + 7 * 7 * 8 * 10 + 10;
  assert.equal(summary('INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC-10').totals.params, params);
  const { training } = estimateMemory(spec, { batch: 2 });
  assert.equal(training.params, 4 * params, 'float32 weights and biases');
  assert.equal(training.data, 4 * 2 * 28 * 28, 'the float32 input batch');
  const { total, ...parts } = training;
  assert.equal(total, Object.values(parts).reduce((sum, bytes) => sum + bytes, 0), 'the total is the sum of its parts');
  const net = new Net(spec, { seed: 1 });
  const x = Tensor.zeros([2, 1, 28, 28]);
  x.data.fill(0.5);
  const scores = net.forward(x, { training: true });
  const { grad } = softmaxCrossEntropy(scores, [3, 4]);
  net.backward(grad);
  assert.ok(net.trainableParams().every((p) => p.grad !== null));
  assert.equal(zooNet('resnet18')?.torchvision, 'resnet18');
});

/** Follows relative imports from `file` and returns every bare or node: specifier reached. */
function externalImports(file: string, seen = new Set<string>()): Set<string> {
  const found = new Set<string>();
  if (seen.has(file)) return found;
  seen.add(file);
  for (const specifier of importSpecifiers(file)) if (!specifier.startsWith('.')) found.add(specifier);
  for (const next of relativeImports(file)) for (const s of externalImports(next, seen)) found.add(s);
  return found;
}

test('convstack/notation, for web pages, imports nothing from Node or any package', () => {
  assert.deepEqual([...externalImports(path.resolve('src/notation/index.ts'))], []);
});
