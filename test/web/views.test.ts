import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, openSession, SCREENSHOTS, tableRows, typeSpec, type Session } from './browser.js';
import { summary, zooNet, zooNotation } from '../../src/index.js';

let session: Session;
before(async () => {
  session = await openSession();
});
after(async () => {
  await session?.close();
});

/** The drawn box of row `i`: its face's width and height (the SVG's rect.face). */
async function faceOf(page: import('playwright-core').Page, i: number): Promise<{ width: number; height: number }> {
  return page.locator(`#drawing figure[data-row="${i}"] rect.face`).evaluate((rect) => ({ width: Number(rect.getAttribute('width')), height: Number(rect.getAttribute('height')) }));
}

test('the drawing has one volume per row, to scale on a log axis, and links to the table and the editor both ways', async () => {
  const { page, errors } = await openPage(session, session.url);
  await typeSpec(page, 'INPUT[32x32x3] -> CONV5-8 -> RELU -> POOL2 -> CONV3-16 -> POOL2 -> FC-10');
  await page.waitForFunction(() => document.querySelectorAll('#table-body tr').length === 6);
  assert.equal(await page.locator('#drawing figure.volume').count(), 6);
  // 4 px plus 11 px per doubling: 32 -> 59, 16 -> 48, 8 -> 37, 1 -> 4.
  assert.deepEqual(await faceOf(page, 0), { width: 59, height: 59 });
  assert.deepEqual(await faceOf(page, 2), { width: 48, height: 48 });
  assert.deepEqual(await faceOf(page, 4), { width: 37, height: 37 });
  assert.deepEqual(await faceOf(page, 5), { width: 4, height: 4 });

  // A row picked in the table marks its volume; the receptive field of its middle output is on the input.
  await page.click('#table-body tr:nth-child(4)');
  assert.equal(await page.locator('#drawing figure.selected').getAttribute('data-row'), '3');
  // CONV3-16 after CONV5 and POOL2: a 10x10 field, stride 2, its windows starting 2 + 2*1 = 4 pixels
  // into the padding; output (8, 8) of 16x16 sees rows -4 + 2*8 = 12 to 21 of the 32x32 input.
  assert.match((await page.locator('#drawing-caption').textContent()) ?? '', /^output \(8, 8\) of CONV3-16 sees 10x10 pixels of the input: rows 12–21, columns 12–21\./);
  const field = await page.locator('#drawing figure[data-row="0"] rect.field').evaluate((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a))));
  const input = await page.locator('#drawing figure[data-row="0"] rect.face').evaluate((r) => ['x', 'y', 'width'].map((a) => Number(r.getAttribute(a))));
  const [fx, fy, fw, fh] = field as [number, number, number, number];
  const [ix, iy, iw] = input as [number, number, number];
  assert.ok(Math.abs(fw - (10 / 32) * iw) < 1e-6 && Math.abs(fh - (10 / 32) * iw) < 1e-6, `a 10/32 share of the face: ${fw}`);
  assert.ok(Math.abs(fx - ix - (12 / 32) * iw) < 1e-6 && Math.abs(fy - iy - (12 / 32) * iw) < 1e-6, `from row and column 12: ${fx}, ${fy}`);

  // A click on the selected volume's face picks another output: its top-left one sees padding.
  const conv = page.locator('#drawing figure[data-row="3"] rect.face');
  await conv.click({ position: { x: 2, y: 2 } });
  assert.match((await page.locator('#drawing-caption').textContent()) ?? '', /^output \(0, 0\) of CONV3-16 .* rows 0–5, columns 0–5 \(the rest of its window falls outside the input\)/);

  // A click on another volume selects its row and its layer's text in the editor.
  await page.click('#drawing figure[data-row="1"]');
  assert.equal(await page.locator('#table-body tr.selected td:nth-child(2)').textContent(), 'CONV5-8');
  assert.equal(await page.evaluate(() => getSelection()?.toString()), 'CONV5-8');
  assert.equal(await page.locator('#memory-bars .bars-row.selected .name').textContent(), 'CONV5-8');
  // And back: the cursor in a layer's text selects its volume.
  await page.click('.cm-content');
  await page.keyboard.press('End');
  assert.equal(await page.locator('#drawing figure.selected').getAttribute('data-row'), '5', 'the cursor after FC-10');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'drawing.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the receptive field's window starts where the layers' padding puts it, whatever their rounding", async () => {
  const { page, errors } = await openPage(session, session.url);
  // CONV3 stride 2 unpadded: 15x15; POOL2 stride 2 rounding up: 8x8, its last window half outside.
  await typeSpec(page, 'INPUT[31x31x1] -> CONV3-4(s=2, p=0) -> POOL2(s=2, ceil)');
  await page.waitForFunction(() => document.querySelectorAll('#table-body tr').length === 3);
  await page.click('#table-body tr:nth-child(3)');
  const caption = async (): Promise<string> => (await page.locator('#drawing-caption').textContent()) ?? '';
  // A 5x5 field, stride 4, from (0, 0): output (4, 4) sees rows 16..20.
  assert.match(await caption(), /^output \(4, 4\) of POOL2\(ceil\) sees 5x5 pixels of the input: rows 16–20, columns 16–20\./);
  await page.locator('#drawing figure[data-row="2"]').focus();
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowRight');
  }
  // Output (7, 7) reads rows 28..32 of a 31-row input.
  assert.match(await caption(), /^output \(7, 7\) .* rows 28–30, columns 28–30 \(the rest of its window falls outside the input\)/);
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('Shift+ArrowUp');
  assert.match(await caption(), /^output \(6, 6\) .* rows 24–28, columns 24–28\./);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the memory view charts each layer: its batch of activations and its parameters, in the dtype', async () => {
  const { page, errors } = await openPage(session, session.url);
  const bars = async (): Promise<string[][]> => page.$$eval('#memory-bars .bars-row', (rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent ?? '')));
  // The default design at batch 64: CONV3-32 keeps 32*32*32 values per image, 8 MiB in float32; FC-512 has 262,656 parameters.
  const rows = await bars();
  assert.equal(rows.length, (await tableRows(page)).length);
  assert.deepEqual(rows[1], ['CONV3-32', '8.00 MiB', '3.50 KiB']);
  assert.deepEqual(rows.find((r) => r[0] === 'FC-512'), ['FC-512', '128.00 KiB', '1.00 MiB']);
  await page.selectOption('#dtype', 'float64');
  await page.waitForFunction(() => document.querySelector('#memory-bars .bars-row:nth-child(3) i')?.textContent === '16.00 MiB');
  // The longest bar (half its column) is the first CONV3-32's 16 MiB of activations; the others are to
  // its scale: its 896 parameters in 8 bytes, and the first POOL2's 4 MiB (and no parameters).
  const widths = await page.$$eval('#memory-bars .bars-row:nth-child(3) .fill, #memory-bars .bars-row:nth-child(5) .fill', (fills) => fills.map((f) => parseFloat((f as HTMLElement).style.width)));
  assert.deepEqual(widths, [50, (50 * 896 * 8) / 2 ** 24, 12.5, 0].map((w) => Number(w.toFixed(2))));
  const figures = (await page.locator('#memory-figures').textContent()) ?? '';
  assert.match(figures, /training step in 12GiB\s*fits \(/);
  assert.match(figures, /largest batch in 12GiB\s*[\d,]+ training, [\d,]+ inference/);
  await page.fill('#budget', '1MiB');
  await page.waitForFunction(() => /does not fit/.test(document.querySelector('#memory-figures')?.textContent ?? ''));
  assert.deepEqual(errors, []);
  await page.close();
});

test('compare: one 7x7 CONV against three 3x3 CONVs, and AlexNet against ZF Net against VGG-16', async () => {
  const { page, errors } = await openPage(session, session.url);
  await page.locator('#compare').scrollIntoViewIfNeeded();
  const figures = async (): Promise<Record<string, string[]>> =>
    Object.fromEntries(await page.$$eval('#compare-figures tbody tr', (rows) => rows.map((r) => [r.firstElementChild?.textContent ?? '', Array.from(r.querySelectorAll('td')).map((td) => td.textContent ?? '')])));
  // The notes: 49C^2 + C against 3(9C^2 + C) weights and biases with C = 64; both see 7x7.
  let table = await figures();
  assert.deepEqual(table['parameters'], ['200,768', '110,784']);
  assert.deepEqual(table['receptive field'], ['7x7', '7x7']);
  assert.deepEqual(table['non-linearities'], ['1', '3']);
  assert.deepEqual(table['multiply-adds'], ['205,520,896', '113,246,208']);
  const differing = await page.$$eval('#compare-rows > div', (columns) => columns.map((c) => [c.querySelector('h4')?.textContent, Array.from(c.querySelectorAll('tr.differs td:first-child')).map((td) => td.textContent)]));
  assert.deepEqual(differing, [
    ['CONV7: 1 of 2 rows differ', ['CONV7-64']],
    ['3 x CONV3: 3 of 4 rows differ', ['CONV3-64', 'CONV3-64', 'CONV3-64']],
  ]);

  await page.selectOption('#compare-preset', 'AlexNet against ZF Net against VGG-16');
  await page.waitForFunction(() => document.querySelectorAll('#compare-figures thead th').length === 4);
  table = await figures();
  const expected = ['alexnet', 'zfnet', 'vgg16'].map((name) => summary(zooNotation(zooNet(name) as NonNullable<ReturnType<typeof zooNet>>)).totals);
  assert.deepEqual(table['parameters'], expected.map((t) => t.params.toLocaleString('en-US')));
  assert.deepEqual(table['multiply-adds'], expected.map((t) => t.macs.toLocaleString('en-US')));
  assert.equal(table['parameters']?.[2], '138,357,544');
  assert.match(table['training step, batch 64']?.[2] ?? '', /GiB$/);
  // ZF Net's first CONV differs from AlexNet's. All three share only the input and the last two FC
  // layers: VGG-16's first FC-4096 reads 7x7x512 (102,764,544 parameters), the others' 6x6x256.
  const zfRows = await page.$$eval('#compare-rows > div:nth-child(2) tr.differs td:first-child', (cells) => cells.map((c) => c.textContent));
  assert.equal(zfRows[0], 'CONV7-96(s=2, p=1, floor)');
  const shared = await page.$$eval('#compare-rows > div', (columns) => columns.map((c) => Array.from(c.querySelectorAll('tr:not(.differs)')).map((tr) => Array.from(tr.children).map((td) => td.textContent).join(' '))));
  assert.deepEqual(shared, new Array(3).fill(['INPUT[224x224x3] 224x224x3 0', 'FC-4096 1x1x4096 16,781,312', 'FC-1000 1x1x1000 4,097,000']));
  // A text edit recomputes, and an error names the design.
  await page.locator('#compare-inputs textarea').first().fill('INPUT[32x32x3] -> CONV3-8(s=2)');
  await page.waitForFunction(() => /CONV3-8\(s=2\)/.test(document.querySelector('#compare-error')?.textContent ?? ''));
  assert.match((await page.locator('#compare-error').textContent()) ?? '', /^AlexNet: line 1, column 19: .* = 16\.5, not a whole number/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'compare.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('keyboard: tab reaches the editor, then one stop each for the table and the volumes, whose arrows walk them', async () => {
  const { page, errors } = await openPage(session, session.url);
  const focused = (): Promise<string> =>
    page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      if (a === null) return '';
      if (a.classList.contains('cm-content')) return 'editor';
      if (a.dataset['row'] !== undefined) return `${a.tagName.toLowerCase()} ${a.dataset['row']}`;
      return a.id !== '' ? `#${a.id}` : a.tagName.toLowerCase();
    });
  const order: string[] = [];
  for (let i = 0; i < 6 && !order.includes('editor'); i++) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  assert.deepEqual(order, ['#picker', '#share', 'editor'], 'the header, then the editor');
  await page.keyboard.press('Escape');
  for (const expected of ['tr 0', 'figure 0', '#batch']) {
    await page.keyboard.press('Tab');
    assert.equal(await focused(), expected, 'the table and the drawing are one tab stop each');
  }
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('#table-body tr[aria-selected="true"]').getAttribute('data-row'), '2');
  assert.equal(await focused(), 'tr 2', 'the focus stays in the table');
  assert.equal(await page.locator('#drawing figure.selected').getAttribute('data-row'), '2');
  // The selected row is the table's tab stop, its volume the drawing's.
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'figure 2');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), 'figure 4', 'the focus stays in the drawing');
  assert.equal(await page.locator('#table-body tr.selected').getAttribute('data-row'), '4');
  // Shift and the arrows move the chosen output on the selected volume: 16x16, from (8, 8).
  assert.match((await page.locator('#drawing-caption').textContent()) ?? '', /^output \(8, 8\)/);
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowUp');
  assert.match((await page.locator('#drawing-caption').textContent()) ?? '', /^output \(7, 9\)/);
  // Enter takes the focus to the layer's text, to edit it.
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'editor');
  assert.equal(await page.evaluate(() => getSelection()?.toString()), 'CONV3-32');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a narrow window (400 px): nothing overflows and the views stack', async () => {
  const { page, errors } = await openPage(session, session.url, 400);
  await page.selectOption('#picker', 'zoo:vgg16');
  await page.waitForFunction(() => document.querySelector('#params')?.textContent === '138,357,544');
  // NOTE: no named functions inside evaluate: tsx wraps them in a helper the page does not have.
  const [design, side, compare] = await page.$$eval('#design, #side, #compare', (sections) => sections.map((s) => s.getBoundingClientRect().toJSON() as DOMRect));
  const layout = { width: await page.evaluate(() => document.documentElement.scrollWidth), design: design as DOMRect, side: side as DOMRect, compare: compare as DOMRect };
  assert.ok(layout.width <= 400, `the page is ${layout.width} px wide`);
  assert.ok(layout.side.top >= layout.design.bottom && layout.compare.top >= layout.side.bottom, 'design, then memory and training, then compare');
  for (const id of ['design', 'side', 'compare']) assert.ok(layout[id as 'side'].right <= 400, `#${id} ends inside the window`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'narrow.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
