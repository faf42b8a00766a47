import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxBatch } from '../../src/memory/estimate.js';
import { compile } from '../../src/notation/index.js';
import { zooNet } from '../../src/zoo/index.js';
import { parseBudget } from '../../src/cli/memory.js';
import { convstack } from '../helpers/cli.js';

function zooSpec(name: string): ReturnType<typeof compile>['spec'] {
  const net = zooNet(name);
  assert.ok(net);
  return compile(net.source, { bindings: net.bindings }).spec;
}

test('--budget sizes: 1024-based and 1000-based units; a bare number is an error, not bytes', () => {
  assert.equal(parseBudget('12GiB'), 12 * 1024 ** 3);
  assert.equal(parseBudget('12 GB'), 12e9);
  assert.equal(parseBudget('1.5gib'), 1.5 * 1024 ** 3);
  assert.equal(parseBudget('512MiB'), 512 * 1024 ** 2);
  assert.equal(parseBudget('512MB'), 512e6);
  assert.throws(() => parseBudget('12'), /--budget: '12' has no unit; write 12GiB, 12GB, 512MiB or 512MB/);
  assert.throws(() => parseBudget('12 gigs'), /--budget: expected a size such as 12GiB/);
});

test('memory --budget without --batch finds the largest batch and shows its figures', () => {
  const r = convstack('memory', 'vgg16', '--budget', '12GiB', '--backend', 'reference');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^vgg16: batch 173 \(the largest that fits the budget for training\), float32, sgd; reference backend$/m);
  assert.match(r.stdout, /^budget 12\.00 GiB: largest batch 173 for training, 460 for inference$/m);
  const si = convstack('memory', 'lenet5', '--budget', '4MB', '--optimizer', 'adam', '--json', '--backend', 'reference');
  assert.equal(si.status, 0, si.stderr);
  const fit = maxBatch(zooSpec('lenet5'), 4e6, { optimizer: 'adam' });
  const json = JSON.parse(si.stdout) as { training: { total: number }; maxBatch: { training: number; inference: number } };
  assert.deepEqual(json.maxBatch, fit);
  assert.ok(json.training.total <= 4e6, 'the figures are those of the largest batch, within the budget');
  const neither = convstack('memory', 'lenet5');
  assert.equal(neither.status, 1);
  assert.match(neither.stderr, /give --batch B, or --budget 12GiB/);
});

test('a budget the parameters alone exceed says so', () => {
  const r = convstack('memory', 'vgg16', '--budget', '100MiB');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^budget 100\.00 MiB: the parameters alone take 527\.79 MiB; no batch fits, for training or inference$/m);
  const fixed = convstack('memory', 'vgg16', '--budget', '1GiB', '--optimizer', 'adam');
  assert.match(fixed.stdout, /^budget 1\.00 GiB: the parameters, their gradients and the optimizer state take 2\.06 GiB; no batch fits for training, \d+ for inference$/m);
});
