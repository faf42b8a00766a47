import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, openSession, SCREENSHOTS, tableRows, typeSpec, type Session } from './browser.js';
import { stateToHash, DEFAULT_STATE } from '../../web/state.js';

let session: Session;
before(async () => {
  session = await openSession();
});
after(async () => {
  await session?.close();
});

test('a typed spec gives the table its figures; VGG-16 from the zoo has 138,357,544 parameters', async () => {
  const { page, errors } = await openPage(session, session.url);
  await typeSpec(page, 'INPUT[32x32x3] -> CONV5-8 -> RELU -> POOL2 -> FC-10');
  await page.waitForFunction(() => document.querySelector('#params')?.textContent === '21,098');
  // 5*5*3*8 + 8 = 608 weights and biases; 16*16*8*10 + 10 = 20,490; 21,098 in all
  assert.deepEqual((await tableRows(page)).map((r) => [r[1], r[2], r[4]]), [
    ['INPUT[32x32x3]', '32x32x3', '0'],
    ['CONV5-8', '32x32x8', '608'],
    ['POOL2', '16x16x8', '0'],
    ['FC-10', '1x1x10', '20,490'],
  ]);
  await page.selectOption('#picker', 'zoo:vgg16');
  await page.waitForFunction(() => document.querySelector('#params')?.textContent === '138,357,544');
  const rows = await tableRows(page);
  assert.deepEqual(rows[1]?.slice(1, 3), ['CONV3-64', '224x224x64']);
  assert.deepEqual(rows.at(-1)?.slice(1, 5), ['FC-1000', '1x1x1000', '1,000', '4,097,000']);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'vgg16.png'), fullPage: true });
  // Selecting a row selects its layer's text in the editor.
  await page.click('#table-body tr:nth-child(2)');
  assert.equal(await page.evaluate(() => getSelection()?.toString()), 'CONV3-64');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a spec that does not size shows a squiggle with the arithmetic, and the quick fix removes it', async () => {
  const { page, errors } = await openPage(session, session.url);
  await typeSpec(page, 'INPUT[32x32x3] -> CONV3-8 -> POOL3 -> FC-10');
  // NOTE: the text is linted as it is typed; on a slow machine a squiggle of a half-typed text
  // ("... -> C") may show first, so wait for the one of the whole text.
  const squiggle = page.locator('.cm-lintRange-error').filter({ hasText: /^POOL3$/ });
  await squiggle.waitFor();
  assert.equal(await page.locator('.cm-lintRange-error').count(), 1, 'one squiggle, under POOL3');
  assert.equal(await page.locator('#table-body tr').count(), 0, 'no stale table for a text that does not size');
  await squiggle.hover();
  const diagnostic = page.locator('.cm-tooltip-lint .cm-diagnostic-error');
  await diagnostic.waitFor();
  const message = (await diagnostic.textContent()) ?? '';
  assert.match(message, /line 1, column 30: layer 2 POOL3/);
  assert.match(message, /\(32 - 3 \+ 2\*0\)\/3 \+ 1 = 29\/3 \+ 1 = 10\.666666666666666, not a whole number/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'squiggle.png') });
  await page.click('.cm-tooltip-lint .cm-diagnosticAction:has-text("round down")');
  await squiggle.waitFor({ state: 'detached' });
  // The linter runs again on the fixed text and finds nothing: no squiggle, no gutter marker.
  await page.waitForFunction(() => document.querySelectorAll('.cm-lintRange, .cm-lint-marker').length === 0);
  assert.equal(await page.locator('.cm-content').textContent(), 'INPUT[32x32x3] -> CONV3-8 -> POOL3(floor) -> FC-10');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#table-body td')).some((td) => td.textContent === '10x10x8'));
  assert.equal(await page.locator('#table-error').textContent(), '');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a shared URL opens the same design and settings', async () => {
  const state = { ...DEFAULT_STATE, spec: 'INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> FC-10', batch: 8, optimizer: 'adam', budget: '1GiB' };
  const { page, errors } = await openPage(session, session.url + stateToHash(state));
  assert.equal(await page.locator('.cm-content').textContent(), state.spec);
  assert.deepEqual((await tableRows(page)).map((r) => r[2]), ['28x28x1', '28x28x6', '14x14x6', '1x1x10']);
  assert.equal(await page.locator('#batch-value').textContent(), '8');
  assert.equal(await page.inputValue('#optimizer'), 'adam');
  assert.match((await page.locator('#memory-figures').textContent()) ?? '', /largest batch in 1GiB/);
  // Editing changes the URL, which opens the edited design.
  await typeSpec(page, 'INPUT[28x28x1] -> CONV3-4 -> FC-10');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('CONV3-4'));
  const { page: second } = await openPage(session, page.url());
  assert.equal(await second.locator('.cm-content').textContent(), 'INPUT[28x28x1] -> CONV3-4 -> FC-10');
  assert.deepEqual(errors, []);
  await Promise.all([page.close(), second.close()]);
});
