// Writes the README's screenshots of the page (docs/web-*.png): `npx tsx test/web/screenshots.ts`.
// Uses the browser tests' session: the page built afresh, served, and Debian's Chromium.
import { openPage, openSession, typeSpec } from './browser.js';

const session = await openSession();
try {
  const { page } = await openPage(session, session.url);
  await page.setViewportSize({ width: 1200, height: 760 });
  await page.selectOption('#picker', 'zoo:vgg16');
  await page.waitForFunction(() => document.querySelector('#params')?.textContent === '138,357,544');
  await page.click('#table-body tr:nth-child(2)');
  await page.screenshot({ path: 'docs/web-design.png', clip: { x: 0, y: 0, width: 1200, height: 620 } });

  await typeSpec(page, 'INPUT[32x32x3] -> CONV3-8 -> POOL3 -> FC-10');
  const squiggle = page.locator('.cm-lintRange-error').filter({ hasText: /^POOL3$/ });
  await squiggle.waitFor();
  await squiggle.hover();
  await page.locator('.cm-tooltip-lint').waitFor();
  await page.screenshot({ path: 'docs/web-squiggle.png', clip: { x: 0, y: 0, width: 1200, height: 300 } });

  await page.mouse.move(0, 700);
  await typeSpec(page, 'INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> CONV5-16 -> RELU -> POOL2 -> FC-120 -> RELU -> FC-84 -> RELU -> FC-10');
  await page.click('#train');
  await page.waitForFunction(() => (document.querySelector('#test-accuracy')?.textContent ?? '') !== '', null, { timeout: 120_000 });
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = await page.locator('#pad').boundingBox();
  if (box === null) throw new Error('no pad');
  await page.mouse.move(box.x + 90, box.y + 80);
  await page.mouse.down();
  for (const [x, y] of [[190, 80], [120, 230]] as const) await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction(() => (document.querySelector('#prediction')?.textContent ?? '') !== '');
  await page.evaluate(() => scrollTo(0, 0));
  const side = await page.locator('#side').boundingBox();
  if (side === null) throw new Error('no panel');
  await page.screenshot({ path: 'docs/web-train.png', fullPage: true, clip: { x: side.x - 8, y: side.y + 230, width: side.width + 16, height: 1130 } });
} finally {
  await session.close();
}
