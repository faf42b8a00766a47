import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy } from '../../../src/io/npy.js';
import { convstack } from '../../helpers/cli.js';

// convstack import, and the commands that take an .onnx file, on the ResNet fixture (tools/onnx_exports.py).

const FIXTURES = new URL('../../fixtures/onnx/', import.meta.url).pathname;
const MODEL = join(FIXTURES, 'tiny_resnet_basic_opset13.onnx');
const INPUT = join(FIXTURES, 'tiny_resnet_basic.input.npy');
const expected = parseNpy(readFileSync(join(FIXTURES, 'tiny_resnet_basic.output.npy')));

function assertPyTorchOutput(y: { shape: number[]; data: number[] }): void {
  assert.deepEqual(y.shape, [2, 10]);
  y.data.forEach((v, i) => assert.ok(Math.abs(v - (expected.data[i] as number)) <= 1e-4 * Math.max(Math.abs(expected.data[i] as number), 1e-2), `value ${i}`));
}

test('import --notation prints the net as notation that summary reads back', () => {
  const printed = convstack('import', MODEL, '--notation');
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stdout, /^INPUT\[64x64x3\]\n-> CONV7-8\(s=2, bias=no, floor\)\n-> BN\(momentum=0\.2\)\n-> RELU\n-> POOL3\(s=2, p=1, floor\)\n-> RES\[/);
  const fromText = convstack('summary', printed.stdout);
  const fromOnnx = convstack('summary', MODEL);
  assert.equal(fromOnnx.status, 0, fromOnnx.stderr);
  assert.equal(fromOnnx.stdout.replace(`${MODEL}\n`, ''), fromText.stdout);
  // 17,698 values less the batch norms' 368 running statistics, which are buffers.
  assert.match(fromOnnx.stdout, /params: 17,330 \(weights 17,136, biases 194\)/);
});

test('import --out writes a model file that run takes; run takes the .onnx itself too; both give PyTorch\'s outputs', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'convstack-import-')), 'model.safetensors');
  const imported = convstack('import', MODEL, '--out', out);
  assert.equal(imported.status, 0, imported.stderr);
  for (const model of [out, MODEL]) {
    const run = convstack('run', model, INPUT, '--json', '--backend', 'reference');
    assert.equal(run.status, 0, run.stderr);
    assertPyTorchOutput(JSON.parse(run.stdout) as { shape: number[]; data: number[] });
  }
});

test('memory takes an .onnx file', () => {
  const memory = convstack('memory', MODEL, '--batch', '32');
  assert.equal(memory.status, 0, memory.stderr);
  assert.match(memory.stdout, /parameters\s+17,698 values/);
});
