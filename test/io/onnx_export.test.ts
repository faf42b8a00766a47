import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { Net } from '../../src/net/net.js';
import { toNetSpec } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { zooNet } from '../../src/zoo/index.js';
import { assertClose } from '../helpers/assert.js';
import { convstack } from '../helpers/cli.js';
import { checkExport } from './onnx_export_helper.js';
import { ONE_OF_EACH_STRUCTURE } from '../zoo/helper.js';

/**
 * ONNX export run by onnxruntime-node: its outputs are ours within 1e-4 relative. One zoo net of each
 * structure here at a reduced input; onnx_export.full.test.ts does every zoo net (`npm run test:full`).
 */
const CASES = ONE_OF_EACH_STRUCTURE;

describe('zoo nets exported to ONNX and run by onnxruntime', () => {
  for (const [name, input] of CASES) {
    test(`${name} at ${input.join('x')}`, async (t) => {
      const entry = zooNet(name) ?? assert.fail(name);
      t.diagnostic(`relative error ${(await checkExport(toNetSpec(entry.source, { bindings: entry.bindings, input }))).toExponential(2)}`);
    });
  }
});

// Every keyword the notation has, and PAD's three forms at the oldest, the default and the newest opset.
const EVERY_LAYER = [
  'INPUT[13x12x3] -> DIV[ | MUL[ | ] -> AFFINE(scale=1x1x1, shift=1x1x1)] -> PAD(t=1, l=0, b=2, r=1) -> CONV3-6(s=2, ceil) -> BN -> LEAKYRELU(0.1) -> AFFINE -> PAD(t=0, l=1, b=1, r=0, max=1) -> POOL3(s=2, floor)',
  '-> LRN -> AVGPOOL2(p=1, countpad=0, floor) -> CONCAT[CONV1-4 -> RELU | CONV3-4 -> RELU] -> MUL[CONV1-8 | ] -> PAD(t=1, l=1, b=1, r=1, value=0.5) -> AVGPOOL3(s=1) -> GAP -> FLATTEN -> DROPOUT -> FC-5 -> SOFTMAX',
].join(' ');

for (const opset of [11, 13, 18]) {
  test(`every layer keyword at opset ${opset}`, async (t) => {
    t.diagnostic(`relative error ${(await checkExport(toNetSpec(EVERY_LAYER), { opset })).toExponential(2)}`);
  });
}

// ONNX has no adaptive pooling: uneven windows (14 -> 4, and 10 -> 4 across) go as two MatMuls by window
// means, even ones (16 -> 4) as an AveragePool; onnxruntime must compute our values either way.
for (const input of ['14x14x3', '16x16x3', '14x10x3']) {
  test(`ADAPTIVEPOOL-4 on ${input}`, async (t) => {
    t.diagnostic(`relative error ${(await checkExport(toNetSpec(`INPUT[${input}] -> CONV3-4 -> RELU -> ADAPTIVEPOOL-4 -> FC-5`))).toExponential(2)}`);
  });
}

test('a float64 net is written as float32 and a fixed batch size is kept', async () => {
  const net = new Net(toNetSpec('INPUT[6x6x2] -> CONV3-3 -> RELU -> FC-4'), { seed: 5, dtype: 'float64' });
  const session = await ort.InferenceSession.create(exportOnnx(net, { batch: 3 }));
  assert.deepEqual(session.inputNames, ['input']);
  const x = Tensor.from([3, 2, 6, 6], Array.from({ length: 216 }, (_, i) => Math.cos(i)), 'float64');
  const { [session.outputNames[0] as string]: y } = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [3, 2, 6, 6]) });
  assertClose(y?.data as Float32Array, net.forward(x), 'float64 net', 1e-4);
  await assert.rejects(session.run({ input: new ort.Tensor('float32', new Float32Array(144), [2, 2, 6, 6]) }), /Got: 2 Expected: 3/);
  await session.release();
});

test('convstack export: a zoo net and a model file, the opset checked', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-export-'));
  const out = path.join(dir, 'lenet.onnx');
  const result = convstack('export', 'lenet5', '--onnx', out, '--opset', '11', '--seed', '4');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${out}: opset 11, 11 layers, 10 weight tensors\n`);
  const session = await ort.InferenceSession.create(readFileSync(out));
  const net = new Net(toNetSpec((zooNet('lenet5') ?? assert.fail()).source), { seed: 4 });
  const x = Tensor.from([1, 1, 32, 32], Array.from({ length: 1024 }, (_, i) => Math.sin(i)));
  const outputs = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [1, 1, 32, 32]) });
  assert.deepEqual(Object.keys(outputs), ['output']);
  assertClose(outputs['output']?.data as Float32Array, net.forward(x), 'lenet5 --seed 4', 1e-4);
  await session.release();

  const weights = new URL('../fixtures/pth/lenet5.pth', import.meta.url).pathname;
  assert.equal(convstack('export', 'lenet5', '--onnx', out, '--weights', weights).status, 0);
  const bad = convstack('export', 'lenet5', '--onnx', path.join(dir, 'bad.onnx'), '--opset', '10');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'convstack: ONNX export writes opsets 11 to 18, not 10\n');
  const noOut = convstack('export', 'lenet5');
  assert.equal(noOut.status, 1);
  assert.match(noOut.stderr, /say where the model goes with --onnx out\.onnx/);
});
