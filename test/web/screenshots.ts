// Writes the README's screenshots of the page (docs/web-*.png): `npx tsx test/web/screenshots.ts`.
// Uses the browser tests' session: the page built afresh, served, and Debian's Chromium.
import { openPage, openSession, typeSpec } from './browser.js';

const WIDTH = 1280;
const LENET = 'INPUT[28x28x1] -> CONV5-6(p=2) -> RELU -> POOL2 -> CONV5-16 -> RELU -> POOL2 -> FC-120 -> RELU -> FC-84 -> RELU -> FC-10';

const session = await openSession();
try {
  const { page } = await openPage(session, session.url);
  await page.setViewportSize({ width: WIDTH, height: 800 });
  const top = async (selector: string): Promise<number> => (await page.locator(selector).boundingBox())?.y ?? 0;

  // The design: VGG-16's table, its volumes with a layer's receptive field, the memory chart.
  await page.selectOption('#picker', 'zoo:vgg16');
  await page.waitForFunction(() => document.querySelector('#params')?.textContent === '138,357,544');
  await page.click('#table-body tr:nth-child(8)');
  await page.evaluate(() => scrollTo(0, 0));
  const drawingEnd = await top('#drawing-caption');
  await page.screenshot({ path: 'docs/web-design.png', fullPage: true, clip: { x: 0, y: 0, width: WIDTH, height: drawingEnd + 40 } });

  await typeSpec(page, 'INPUT[32x32x3] -> CONV3-8 -> POOL3 -> FC-10');
  const squiggle = page.locator('.cm-lintRange-error').filter({ hasText: /^POOL3$/ });
  await squiggle.waitFor();
  await squiggle.hover();
  await page.locator('.cm-tooltip-lint').waitFor();
  await page.screenshot({ path: 'docs/web-squiggle.png', clip: { x: 0, y: 0, width: WIDTH, height: 300 } });
  await page.mouse.move(0, 700);

  // Compare: AlexNet, ZF Net and VGG-16.
  await page.selectOption('#compare-preset', 'AlexNet against ZF Net against VGG-16');
  await page.waitForFunction(() => document.querySelectorAll('#compare-figures thead th').length === 4);
  const compare = await page.locator('#compare').boundingBox();
  if (compare === null) throw new Error('no compare section');
  await page.screenshot({ path: 'docs/web-compare.png', fullPage: true, clip: { x: 0, y: compare.y, width: WIDTH, height: Math.min(compare.height, 900) } });

  // Training: LeNet-5 for an epoch, its views, and a drawn digit.
  await typeSpec(page, LENET);
  await page.click('#train');
  await page.waitForSelector('#misclassified button', { timeout: 180_000 });
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = await page.locator('#pad').boundingBox();
  if (box === null) throw new Error('no pad');
  await page.mouse.move(box.x + 90, box.y + 80);
  await page.mouse.down();
  for (const [x, y] of [[190, 80], [120, 230]] as const) await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#activations p')?.textContent === 'your drawing');
  await page.evaluate(() => scrollTo(0, 0));
  const side = await page.locator('#side').boundingBox();
  if (side === null) throw new Error('no panel');
  const from = await top('#backend');
  const padEnd = await page.locator('.pad').boundingBox();
  if (padEnd === null) throw new Error('no pad');
  await page.screenshot({ path: 'docs/web-train.png', fullPage: true, clip: { x: side.x - 8, y: from - 8, width: side.width + 16, height: padEnd.y + padEnd.height - from + 16 } });
  const views = await page.locator('#train-views').boundingBox();
  if (views === null) throw new Error('no views');
  await page.screenshot({ path: 'docs/web-views.png', fullPage: true, clip: { x: views.x - 8, y: views.y - 8, width: views.width + 16, height: Math.min(views.height + 16, 1200) } });
} finally {
  await session.close();
}
