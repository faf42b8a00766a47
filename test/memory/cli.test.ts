import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WASM_FUSIONS, wasmWorkspace } from '../../src/backends/wasm/workspace.js';
import { NATIVE_FUSIONS, nativeWorkspace } from '../../src/backends/native/workspace.js';
import { DEFAULT_BACKEND, backendEntry } from '../../src/backends/registry.js';
import { formatNpy } from '../../src/io/npy.js';
import { estimateMemory, maxBatch } from '../../src/memory/estimate.js';
import { storedForBackward } from '../../src/memory/stored.js';
import { compile } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { zooSpec } from './nets.js';
import { convstack } from '../helpers/cli.js';

/** What `convstack memory --backend wasm --threads 2` estimates with. */
const WASM_2 = { workspace: wasmWorkspace(2), fusions: WASM_FUSIONS };
/** Whether the native addon was built and runs on this CPU. */
const NATIVE = backendEntry('native').available();
/** What `convstack memory --backend native --threads 2` estimates with (where the addon is built). */
const NATIVE_2 = NATIVE ? { workspace: nativeWorkspace(2), fusions: NATIVE_FUSIONS } : null;
/** The estimate's model for the default backend on 2 threads. */
const DEFAULT_2 = DEFAULT_BACKEND === 'native' && NATIVE_2 !== null ? NATIVE_2 : WASM_2;

describe('convstack memory', () => {
  it('--freeze backbone follows a fine-tune: the frozen layers get no gradients and no optimizer state', () => {
    const result = convstack('memory', 'lenet5', '--batch', '8', '--optimizer', 'adam', '--freeze', 'backbone', '--json', '--backend', 'reference');
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as { frozen: string[]; training: { optimizerState: number; paramGradients: number }; storedForBackward: number };
    assert.deepEqual(printed.frozen, ['c1', 'c3', 'c5', 'f6']);
    // Backward stops at the classifier: the tape holds its input (84 values) and the scores (10), for 8 images.
    assert.equal(printed.storedForBackward, 8 * (84 + 10) * 4);
    // Adam's two moments of the classifier alone, FC-10 on 84 values: 2 * 850 * 4 bytes.
    assert.equal(printed.training.optimizerState, 2 * 850 * 4);
    assert.deepEqual(printed.training, estimateMemory(zooSpec('lenet5'), { batch: 8, optimizer: 'adam', frozen: ['c1', 'c3', 'c5', 'f6'] }).training);
    const text = convstack('memory', 'lenet5', '--batch', '8', '--freeze', 'c1,c3', '--backend', 'reference');
    assert.match(text.stdout, /batch 8, float32, sgd, 2 layers frozen;/);
    const bad = convstack('memory', 'lenet5', '--batch', '8', '--freeze', 'c9');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--freeze: no layer with parameters named 'c9'/);
  });

  it('--json prints issue 5\'s keys, in bytes, with the largest batches for the budget', () => {
    const result = convstack('memory', 'lenet5', '--batch', '8', '--optimizer', 'adam', '--budget', '4MiB', '--json', '--backend', 'reference');
    assert.equal(result.status, 0, result.stderr);
    const spec = zooSpec('lenet5');
    const estimate = estimateMemory(spec, { batch: 8, optimizer: 'adam' });
    const fit = maxBatch(spec, 4 * 1024 ** 2, { optimizer: 'adam' });
    const stored = storedForBackward(spec, { batch: 8 }).bytes;
    assert.deepEqual(JSON.parse(result.stdout), { backend: 'reference', frozen: [], training: estimate.training, storedForBackward: stored, inference: estimate.inference, maxBatch: fit });
    assert.deepEqual(Object.keys(estimate.training), ['activations', 'activationGradients', 'params', 'paramGradients', 'optimizerState', 'data', 'workspace', 'total']);
    assert.deepEqual(Object.keys(estimate.inference), ['activations', 'params', 'workspace', 'total']);
    assert.deepEqual(fit, { training: 52, inference: 94 });
  });

  it('prints values and 1024-based sizes, labelled, for the reference backend', () => {
    const result = convstack('memory', 'vgg16', '--batch', '1', '--budget', '12GiB', '--backend', 'reference');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^vgg16: batch 1, float32, sgd; reference backend$/m);
    assert.match(result.stdout, /^ {2}activations \(peak live set\) +6,573,056 values +25\.07 MiB$/m);
    assert.match(result.stdout, /^ {2}total +318,612,256 values +1\.31 GiB$/m);
    // At the training peak (the second conv's backward) most of the tape is gone; the tape itself:
    // every RELU output and pool output, the pools' indices, the dropout masks, the FC inputs, the scores.
    assert.match(result.stdout, /^ {2}activations +3,212,264 values +12\.25 MiB$/m);
    assert.match(result.stdout, /^ {2}stored for backward +16,633,832 values +63\.45 MiB$/m);
    assert.match(result.stdout, /^budget 12\.00 GiB: largest batch 173 for training, 460 for inference$/m);
    assert.match(result.stdout, /1 GiB = 1024 MiB/);
  });

  it('follows the wasm backend with --backend wasm: its small tiles instead of im2row, its fused CONV+RELU', () => {
    const result = convstack('memory', 'vgg16', '--batch', '1', '--threads', '2', '--json', '--backend', 'wasm');
    assert.equal(result.status, 0, result.stderr);
    const spec = zooSpec('vgg16');
    const estimate = estimateMemory(spec, { batch: 1, ...WASM_2 });
    const json = JSON.parse(result.stdout);
    assert.equal(json.backend, 'wasm');
    assert.deepEqual(json.training, estimate.training);
    assert.deepEqual(json.inference, estimate.inference);
    assert.equal(json.storedForBackward, storedForBackward(spec, { batch: 1, fusions: WASM_FUSIONS }).bytes);
    // The largest tile area: two threads' packed blocks of the 512-channel convs, not 220 MiB of im2row.
    assert.ok(estimate.inference.workspace < 1024 ** 2, `${estimate.inference.workspace}`);
    assert.ok(estimate.inference.total < estimateMemory(spec, { batch: 1 }).inference.total - 200 * 1024 ** 2);
    const text = convstack('memory', 'vgg16', '--batch', '1', '--threads', '2', '--backend', 'wasm');
    assert.match(text.stdout, /^vgg16: batch 1, float32, sgd; wasm backend, 2 threads$/m);
  });

  it('follows the default backend (native where its addon is built, else wasm) when none is named', () => {
    const result = convstack('memory', 'vgg16', '--batch', '1', '--threads', '2', '--json');
    assert.equal(result.status, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.backend, DEFAULT_BACKEND);
    assert.deepEqual(json.training, estimateMemory(zooSpec('vgg16'), { batch: 1, ...DEFAULT_2 }).training);
  });

  it('follows the native backend with --backend native, or says in one line why it is unavailable', () => {
    const result = convstack('memory', 'lenet5', '--batch', '4', '--threads', '2', '--json', '--backend', 'native');
    if (NATIVE_2 === null) {
      assert.equal(result.status, 1);
      assert.match(result.stderr, /^convstack: the native backend is not available: .+$/m);
      return;
    }
    assert.equal(result.status, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.backend, 'native');
    assert.deepEqual(json.inference, estimateMemory(zooSpec('lenet5'), { batch: 4, ...NATIVE_2 }).inference);
    assert.ok(json.inference.workspace > 0, 'the native kernels hold a workspace');
  });

  it('refuses an unknown backend, and threads for the reference one', () => {
    const unknown = convstack('memory', 'lenet5', '--batch', '2', '--backend', 'gpu');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^convstack: --backend: expected native, wasm or reference, got 'gpu'/);
    const threads = convstack('memory', 'lenet5', '--batch', '2', '--backend', 'reference', '--threads', '2');
    assert.equal(threads.status, 1);
    assert.match(threads.stderr, /^convstack: --threads: only the native and wasm backends/);
  });

  it('refuses a budget without a unit with one line', () => {
    const result = convstack('memory', 'lenet5', '--batch', '2', '--budget', '12');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^convstack: --budget: '12' has no unit/);
  });
});

describe('convstack train --memory and run --memory', () => {
  it('train prints the measured peak of its backend, which the estimate of the same step predicts within 5%', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'convstack-mem-')), 'm.safetensors');
    const result = convstack('train', '--epochs', '1', '--batch', '32', '--memory', '--threads', '2', '--out', out);
    assert.equal(result.status, 0, result.stderr);
    const measured = Number(/^measured peak: (\d+) bytes$/m.exec(result.stdout)?.[1]);
    // The default job: LeNet-5 for digits, Nesterov momentum, random shifts, on the default backend.
    const estimate = estimateMemory(zooSpec('lenet5_mnist'), { batch: 32, optimizer: 'nesterov', augment: true, ...DEFAULT_2 }).training;
    assert.ok(Math.abs(measured - estimate.total) <= 0.05 * estimate.total, `measured ${measured}, estimated ${estimate.total}`);
  });

  it('run prints the measured peak of the backend it ran on: the estimate of that backend, to the byte', () => {
    const source = 'INPUT[12x10x3] -> [CONV3-4 -> RELU]*2 -> POOL2 -> FC-5';
    const spec = compile(source).spec;
    const dir = mkdtempSync(path.join(tmpdir(), 'convstack-mem-'));
    writeFileSync(path.join(dir, 'x.npy'), formatNpy(Tensor.zeros([3, 3, 12, 10])));
    const peaks = new Map<string, number>();
    const models: [string, object][] = [['reference', {}], ['wasm', WASM_2], ...(NATIVE_2 === null ? [] : [['native', NATIVE_2] as [string, object]])];
    for (const [backend, model] of models) {
      const result = convstack('run', source, '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'), '--backend', backend, '--threads', '2', '--memory');
      assert.equal(result.status, 0, result.stderr);
      const measured = Number(/^measured peak: (\d+) bytes$/m.exec(result.stdout)?.[1]);
      assert.equal(measured, estimateMemory(spec, { batch: 3, ...model }).inference.total, backend);
      peaks.set(backend, measured);
    }
    assert.notEqual(peaks.get('wasm'), peaks.get('reference'), 'the backends hold different scratch');
    if (NATIVE_2 !== null) assert.notEqual(peaks.get('native'), peaks.get('wasm'), 'the native backend holds its own workspace');
  });
});
