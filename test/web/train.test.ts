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

  // A "1": one vertical stroke down the middle of the pad.
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
  await page.screenshot({ path: path.join(SCREENSHOTS, 'digit.png'), fullPage: true });
  assert.equal(await page.locator('#train-error').textContent(), '');
  assert.deepEqual(errors, []);
  await page.close();
});
