import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, openSession, SCREENSHOTS, type Session } from './browser.js';

let session: Session;
before(async () => {
  session = await openSession();
});
after(async () => {
  await session?.close();
});

test('LeNet-5 trains one epoch in the page on wasm threads above 0.95 held out, and reads a drawn digit', async () => {
  const { page, errors } = await openPage(session, session.url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the server sends COOP/COEP');
  await page.waitForSelector('#train:not([disabled])');
  const backend = page.locator('#backend');
  assert.equal(await backend.getAttribute('data-isolated'), 'true');
  assert.ok(Number(await backend.getAttribute('data-threads')) >= 2, `${await backend.textContent()}: the worker runs the wasm pool`);
  await page.click('#train');
  await page.waitForFunction(() => (document.querySelector('#test-accuracy')?.textContent ?? '') !== '', null, { timeout: 120_000 });
  const accuracy = Number(await page.locator('#test-accuracy').textContent());
  assert.ok(accuracy > 0.95, `held-out accuracy ${accuracy}`);
  assert.match((await page.locator('#train-net').textContent()) ?? '', /LeNet-5/, "the default design does not read 28x28x1: LeNet-5 is trained");
  const speed = (await page.locator('#speed').textContent()) ?? '';
  assert.ok(Number(speed.replace(/[^0-9]/g, '')) > 0, `images per second shown: '${speed}'`);
  await page.locator('#pad').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'trained.png'), fullPage: true });

  // The views of the trained net: LeNet-5's six 5x5 filters, and the confusion matrix of the
  // 2,000 held-out digits, whose diagonal is the accuracy shown.
  await page.waitForSelector('#misclassified button');
  assert.deepEqual(await page.$$eval('#filters canvas', (canvases) => canvases.map((c) => `${(c as HTMLCanvasElement).width}x${(c as HTMLCanvasElement).height}`)), new Array(6).fill('5x5'));
  const matrix = await page.$$eval('#confusion tr', (rows) => rows.slice(1).map((r) => Array.from(r.querySelectorAll('td')).map((td) => Number(td.textContent))));
  assert.equal(matrix.length, 10);
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  const right = matrix.reduce((sum, row, i) => sum + (row[i] ?? 0), 0);
  assert.equal(total, 2000);
  assert.equal((right / total).toFixed(4), accuracy.toFixed(4), 'the diagonal is the held-out accuracy');
  for (const [i, row] of matrix.entries()) assert.ok((row[i] ?? 0) > 150, `digit ${i}: ${row}`);
  const mistakes = await page.$$eval('#misclassified figcaption', (captions) => captions.map((c) => (c.textContent ?? '').split(' → ').map(Number)));
  assert.equal(mistakes.length, Math.min(24, total - right));
  for (const [label, predicted] of mistakes) assert.ok(label !== predicted && (matrix[label as number]?.[predicted as number] ?? 0) > 0, `${label} read as ${predicted} is in the matrix`);
  // A mistake's activations: every layer of LeNet-5, from the 28x28x6 of its first CONV to the 10 scores.
  await page.click('#misclassified button:first-child');
  await page.waitForSelector('#activations .layer-output');
  const layers = await page.$$eval('#activations h4', (titles) => titles.map((t) => t.textContent));
  // NOTE: the wasm backend fuses each CONV with its RELU, so one title names both.
  assert.deepEqual(layers, [
    'CONV5-6(p=P) -> RELU: 28x28x6',
    'AVGPOOL2: 14x14x6',
    'CONV5-16(p=0) -> RELU: 10x10x16',
    'AVGPOOL2: 5x5x16',
    'CONV5-120(p=0) -> RELU: 1x1x120, the first 16 channels',
    'FC-84: 84 values',
    'RELU: 84 values',
    'FC-CLASSES: 10 values',
  ]);
  assert.equal(await page.locator('#activations .layer-output').first().locator('canvas').count(), 6);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'train-views.png'), fullPage: true });

  // A "1": one vertical stroke down the middle of the pad.
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = await page.locator('#pad').boundingBox();
  assert.ok(box !== null);
  await page.mouse.move(box.x + 140, box.y + 50);
  await page.mouse.down();
  for (let y = 50; y <= 230; y += 10) await page.mouse.move(box.x + 140 + (y - 50) / 30, box.y + y);
  await page.mouse.up();
  await page.waitForFunction(() => (document.querySelector('#prediction')?.textContent ?? '') !== '');
  const probabilities = await page.$$eval('#probabilities i', (cells) => cells.map((c) => Number(c.textContent)));
  assert.equal(probabilities.length, 10);
  assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 0.01, `probabilities sum to 1: ${probabilities}`);
  assert.match((await page.locator('#prediction').textContent()) ?? '', /^prediction: 1 /);
  // The drawing's activations replace the mistake's: the same eight layers.
  await page.waitForFunction(() => document.querySelector('#activations p')?.textContent === 'your drawing');
  assert.equal(await page.locator('#activations .layer-output').count(), 8);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'digit.png'), fullPage: true });
  assert.equal(await page.locator('#train-error').textContent(), '');
  assert.deepEqual(errors, []);
  await page.close();
});
