import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropFile, openPage, openSession, SCREENSHOTS, tableRows, type Session } from './browser.js';
import { ArrayDataset, Net, batches, openBackend, saveModel, stratifiedSplit, summary, toNetSpec, zooNet } from '../../src/index.js';
import { asNotation, importOnnx } from '../../src/browser.js';

let session: Session;
const folder = mkdtempSync(path.join(tmpdir(), 'convstack-web-model-'));
before(async () => {
  session = await openSession();
});
after(async () => {
  await session?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('an ONNX file dropped on the page shows its table and drawing, and says it does not read the pad', async () => {
  const file = 'test/fixtures/onnx/tiny_alexnet_opset13.onnx';
  const bytes = new Uint8Array(readFileSync(file));
  const { text } = asNotation(importOnnx(bytes, { file: 'tiny_alexnet_opset13.onnx' }), 'tiny_alexnet_opset13.onnx');
  const expected = summary(text);
  const { page, errors } = await openPage(session, session.url);
  await dropFile(page, 'tiny_alexnet_opset13.onnx', bytes);
  await page.waitForFunction(() => (document.querySelector('#model-status')?.textContent ?? '') !== '');
  assert.equal(await page.locator('#model-error').textContent(), '');
  const [h, w, c] = expected.layers[0]?.output ?? [];
  assert.equal(await page.locator('#model-status').textContent(), `Opened tiny_alexnet_opset13.onnx, an ONNX model: its layers are in the editor. It reads ${h}x${w}x${c} images, not the pad's 28x28x1 digits.`);
  await page.waitForFunction((n) => document.querySelectorAll('#table-body tr').length === n, expected.layers.length);
  assert.deepEqual((await tableRows(page)).map((r) => [r[1], r[2]]), expected.layers.map((row) => [row.text, row.output.join('x')]));
  assert.equal(await page.locator('#params').textContent(), expected.totals.params.toLocaleString('en-US'));
  assert.equal(await page.locator('#drawing figure.volume').count(), expected.layers.length);
  assert.ok((await page.locator('#memory-bars .bars-row').count()) === expected.layers.length);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'onnx.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

/** The page's held-out digits (its mnist.bin, as the worker splits it) and their labels. */
async function heldOut(): Promise<ArrayDataset> {
  const bytes = new Uint8Array(await (await fetch(new URL('mnist.bin', session.url))).arrayBuffer());
  const count = new DataView(bytes.buffer).getUint32(0, true);
  const table = Float32Array.from({ length: 256 }, (_, k) => Math.round((k / 255) * 1000) / 1000);
  const pixels = Float32Array.from(bytes.subarray(4 + count), (k) => table[k] as number);
  const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  return stratifiedSplit(new ArrayDataset('mnist', [1, 28, 28], digits, pixels, bytes.slice(4, 4 + count)), 2000, 0).test as ArrayDataset;
}

test('a convstack model file dropped on the page runs on the pad, with the confusion matrix Node computes', async () => {
  const lenet = zooNet('lenet5_mnist');
  assert.ok(lenet !== undefined);
  const spec = toNetSpec(lenet.source, { bindings: lenet.bindings });
  // Node computes on the wasm backend too, as the page does. NOTE: its kernels split work over outputs,
  // never a sum, so thread counts do not change a value; Chromium's relaxed SIMD may round a score
  // differently in the last bit, which moves no prediction unless two scores tie to ~1e-7.
  const backend = await openBackend('wasm', { threads: 1 });
  const net = new Net(spec, { seed: 7, backend });
  const normalization = { mean: [0.13], std: [0.31] };
  const file = path.join(folder, 'lenet.safetensors');
  await saveModel(file, net, { spec, architecture: lenet.source, compileOptions: { bindings: lenet.bindings }, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], normalization });
  // Node's confusion matrix of the same (untrained, seeded) net on the page's held-out digits.
  const test = await heldOut();
  const expected = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (const { x, labels } of batches(test, { batchSize: 500, normalization })) {
    const scores = net.forward(x);
    x.dispose();
    labels.forEach((label, i) => {
      const row = Array.from(scores.data.subarray(i * 10, i * 10 + 10));
      const predicted = row.indexOf(Math.max(...row));
      (expected[label] as number[])[predicted] = ((expected[label] as number[])[predicted] as number) + 1;
    });
    scores.dispose();
  }
  net.dispose();
  await backend.dispose();

  const { page, errors } = await openPage(session, session.url);
  await page.waitForSelector('#train:not([disabled])');
  await page.locator('#model-file').setInputFiles(file);
  await page.waitForFunction(() => /runs on the pad/.test(document.querySelector('#model-status')?.textContent ?? ''));
  assert.equal(await page.locator('#train-net').textContent(), 'the pad runs lenet.safetensors');
  assert.equal(await page.locator('.cm-content').evaluate((e) => (e as HTMLElement).innerText.trim()), lenet.source.trim());
  await page.waitForSelector('#confusion td');
  const matrix = await page.$$eval('#confusion tr', (rows) => rows.slice(1).map((r) => Array.from(r.querySelectorAll('td')).map((td) => Number(td.textContent))));
  assert.deepEqual(matrix, expected);
  assert.equal(await page.locator('#filters canvas').count(), 6);

  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = await page.locator('#pad').boundingBox();
  assert.ok(box !== null);
  await page.mouse.move(box.x + 140, box.y + 50);
  await page.mouse.down();
  await page.mouse.move(box.x + 140, box.y + 230, { steps: 10 });
  await page.mouse.up();
  await page.waitForFunction(() => (document.querySelector('#prediction')?.textContent ?? '') !== '');
  const probabilities = await page.$$eval('#probabilities i', (cells) => cells.map((c) => Number(c.textContent)));
  assert.equal(probabilities.length, 10);
  assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 0.01);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'model.png'), fullPage: true });
  assert.equal(await page.locator('#train-error').textContent(), '');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file that is not a model says why, and the design stays', async () => {
  const { page, errors } = await openPage(session, session.url);
  const before = await page.locator('.cm-content').textContent();
  await dropFile(page, 'notes.safetensors', new TextEncoder().encode('hello'));
  await page.waitForFunction(() => (document.querySelector('#model-error')?.textContent ?? '') !== '');
  assert.equal(await page.locator('#model-error').textContent(), 'notes.safetensors: not a safetensors file: 5 bytes, fewer than the 8-byte header length');
  await dropFile(page, 'broken.onnx', new Uint8Array([1, 2, 3]));
  await page.waitForFunction(() => /^broken\.onnx: /.test(document.querySelector('#model-error')?.textContent ?? ''));
  assert.equal(await page.locator('.cm-content').textContent(), before);
  assert.deepEqual(errors, []);
  await page.close();
});
