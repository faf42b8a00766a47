import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatNpy, parseNpy } from '../../src/io/npy.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { convstack } from '../helpers/cli.js';

const SPEC = 'INPUT[12x10x3] -> [CONV3-4 -> RELU]*2 -> POOL2 -> FC-5';

function randomBatch(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const x = Tensor.zeros(shape);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  return x;
}

test('run writes the forward pass of the seeded net to .npy', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-run-'));
  const x = randomBatch([2, 3, 12, 10], 1);
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(x));
  const expected = new Net(toNetSpec(SPEC), { seed: 7 }).forward(x);
  for (const backend of ['reference', 'wasm']) {
    const result = convstack('run', SPEC, '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'), '--seed', '7', '--backend', backend, '--memory');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^measured peak: \d+ bytes$/m);
    const y = parseNpy(readFileSync(path.join(dir, 'y.npy')));
    assert.deepEqual(y.shape, [2, 5]);
    // The reference backend is the definition; the wasm one sums in another order (and may use FMA).
    const tolerance = backend === 'reference' ? 0 : 1e-5;
    y.data.forEach((v, i) => assert.ok(Math.abs(v - (expected.data[i] as number)) <= tolerance * Math.max(1, Math.abs(v)), `${backend}: output ${i}`));
    assert.deepEqual(readdirSync(dir).sort(), ['x.npy', 'y.npy'], 'no temporary file is left behind');
  }
});

test('run takes one (C, H, W) image as a batch of one', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-run-'));
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(randomBatch([3, 12, 10], 2)));
  const result = convstack('run', SPEC, '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'));
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(parseNpy(readFileSync(path.join(dir, 'y.npy'))).shape, [1, 5]);
});

test('run fails with exit 1 and a message that says what and where', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-run-'));
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(randomBatch([1, 3, 8, 8], 3)));
  const out = path.join(dir, 'y.npy');
  const wrongSize = convstack('run', SPEC, '--input', path.join(dir, 'x.npy'), '--output', out);
  assert.equal(wrongSize.status, 1);
  assert.match(wrongSize.stderr, /the net takes \[12x10x3\] images, got \[8x8x3\]/);
  const missing = convstack('run', SPEC, '--input', path.join(dir, 'none.npy'), '--output', out);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read .*none\.npy: no such file/);
  const badSpec = convstack('run', 'INPUT[12x10x3] -> CONV3-4 -> POOL5 -> FC-5', '--input', path.join(dir, 'x.npy'), '--output', out);
  assert.equal(badSpec.status, 1);
  assert.match(badSpec.stderr, /line 1, column 30: .*POOL5.*\(12 - 5 \+ 2\*0\)\/5 \+ 1/);
  assert.deepEqual(readdirSync(dir), ['x.npy'], 'a failed run writes nothing');
});

test('--threads sets the wasm pool and --debug-backend lists where each kernel runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-run-'));
  writeFileSync(path.join(dir, 'x.npy'), formatNpy(randomBatch([1, 3, 12, 10], 4)));
  const args = ['run', SPEC, '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy')];
  const listed = convstack(...args, '--backend', 'wasm', '--threads', '1', '--debug-backend');
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stderr, /^wasm backend: 1 thread, /m);
  assert.match(listed.stderr, /^ {2}conv2d +wasm$/m);
  assert.match(listed.stderr, /^ {2}lrn +reference$/m);
  const zero = convstack(...args, '--threads', '0');
  assert.equal(zero.status, 1);
  assert.match(zero.stderr, /--threads: expected an integer >= 1, got '0'/);
});
