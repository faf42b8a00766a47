import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { estimateMemory, maxBatch } from '../../src/memory/estimate.js';
import { zooSpec } from './nets.js';
import { convstack } from '../helpers/cli.js';

describe('convstack memory', () => {
  it('--json prints issue 5\'s keys, in bytes, with the largest batches for the budget', () => {
    const result = convstack('memory', 'lenet5', '--batch', '8', '--optimizer', 'adam', '--budget', '4MiB', '--json');
    assert.equal(result.status, 0, result.stderr);
    const spec = zooSpec('lenet5');
    const estimate = estimateMemory(spec, { batch: 8, optimizer: 'adam' });
    const fit = maxBatch(spec, 4 * 1024 ** 2, { optimizer: 'adam' });
    assert.deepEqual(JSON.parse(result.stdout), { training: estimate.training, inference: estimate.inference, maxBatch: fit });
    assert.deepEqual(Object.keys(estimate.training), ['activations', 'activationGradients', 'params', 'paramGradients', 'optimizerState', 'data', 'workspace', 'total']);
    assert.deepEqual(Object.keys(estimate.inference), ['activations', 'params', 'workspace', 'total']);
    assert.deepEqual(fit, { training: 52, inference: 94 });
  });

  it('prints values and 1024-based sizes, labelled', () => {
    const result = convstack('memory', 'vgg16', '--batch', '1', '--budget', '12GiB');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^vgg16: batch 1, float32, sgd$/m);
    assert.match(result.stdout, /^ {2}activations \(peak live set\) +6,573,056 values +25\.07 MiB$/m);
    assert.match(result.stdout, /^ {2}total +318,612,256 values +1\.31 GiB$/m);
    assert.match(result.stdout, /^budget 12\.00 GiB: largest batch 173 for training, 460 for inference$/m);
    assert.match(result.stdout, /1 GiB = 1024 MiB/);
  });

  it('refuses a budget without a unit with one line', () => {
    const result = convstack('memory', 'lenet5', '--batch', '2', '--budget', '12');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^convstack: --budget: '12' has no unit/);
  });
});

describe('convstack train --memory', () => {
  it('prints the measured peak, which the estimate of the same step predicts within 5%', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'convstack-mem-')), 'm.safetensors');
    const result = convstack('train', '--epochs', '1', '--batch', '32', '--memory', '--out', out);
    assert.equal(result.status, 0, result.stderr);
    const measured = Number(/^measured peak: (\d+) bytes$/m.exec(result.stdout)?.[1]);
    // The default job: LeNet-5 for digits, Nesterov momentum, random shifts.
    const estimate = estimateMemory(zooSpec('lenet5_mnist'), { batch: 32, optimizer: 'nesterov', augment: true }).training;
    assert.ok(Math.abs(measured - estimate.total) <= 0.05 * estimate.total, `measured ${measured}, estimated ${estimate.total}`);
  });
});
