import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { openPage, openSession, SCREENSHOTS, tableRows, type Session } from './browser.js';
import { resolveRequest } from '../../src/cli/serve.js';

let session: Session;
let plain: Server;
let url: string;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

before(async () => {
  session = await openSession();
  // The same page from a static host that sends no COOP/COEP headers.
  const root = session.root;
  plain = createServer((request, response) => {
    void resolveRequest(root, request.url ?? '/').then((file) => {
      if (file === null) response.writeHead(404).end();
      else response.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const address = plain.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
});
after(async () => {
  await new Promise<void>((resolve) => plain?.close(() => resolve()));
  await session?.close();
});

test('served without cross-origin isolation, the page runs on one thread, says why, and still trains', async () => {
  const { page, errors } = await openPage(session, url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  await page.waitForSelector('#train:not([disabled])');
  const backend = page.locator('#backend');
  assert.equal(await backend.getAttribute('data-isolated'), 'false');
  assert.equal(await backend.getAttribute('data-threads'), '1');
  assert.match((await backend.textContent()) ?? '', /^wasm backend: 1 thread \(the page is not cross-origin isolated.*cross-origin isolated: no\. Training runs on one thread: serve the page with the COOP\/COEP headers/);
  assert.equal((await tableRows(page)).length, 13, 'the design works as anywhere');
  // Training runs in its Worker on the one thread: images per second come, and pause stops it.
  await page.click('#train');
  await page.waitForFunction(() => Number((document.querySelector('#speed')?.textContent ?? '').replace(/[^0-9]/g, '')) > 0);
  await page.click('#train');
  await page.waitForFunction(() => /\(paused\)$/.test(document.querySelector('#train-status')?.textContent ?? ''));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'not-isolated.png') });
  assert.equal(await page.locator('#train-error').textContent(), '');
  assert.deepEqual(errors, []);
  await page.close();
});
