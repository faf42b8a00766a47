import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { servePage } from '../../src/cli/serve.js';

/** Debian's Chromium, which .ci/run installs when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the tests save screenshots of each state (git-ignored). */
export const SCREENSHOTS = path.resolve('test-artifacts/web');

/** The page built afresh, served on a free port, and a headless Chromium. */
export interface Session {
  url: string;
  /** The built page's folder. */
  root: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the page (npm run build:web), serves it and launches Chromium. */
export async function openSession(): Promise<Session> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does)`);
  // Each session builds into its own folder, so that test files running side by side never
  // serve a folder another one is rebuilding.
  const folder = mkdtempSync(path.join(tmpdir(), 'convstack-web-'));
  const out = path.join(folder, 'web');
  const built = spawnSync(process.execPath, ['web/build.mjs', out], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build:web failed:\n${built.stderr}`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const { server, url } = await servePage(out, 0);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return {
    url,
    root: out,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** A page at `url` in a window `width` wide that records every console error and uncaught exception (its own and its workers'). */
export async function openPage(session: Session, url: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
  const page = await session.browser.newPage({ viewport: { width, height: 800 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('worker', (worker) => worker.on('console', (message) => message.type() === 'error' && errors.push(`worker console: ${message.text()}`)));
  await page.goto(url);
  await page.waitForSelector('#table-body tr', { timeout: 15000 }).catch((error: Error) => {
    throw new Error(`${error.message}\n${errors.join('\n')}`);
  });
  return { page, errors };
}

/** Replaces the editor's text by typing it, as a user would. */
export async function typeSpec(page: Page, text: string): Promise<void> {
  await page.click('#editor .cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

/** The table's rows, as the cells' text. */
export async function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval('#table-body tr', (rows) => rows.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
}

/** Drops a file of `bytes` named `name` on the page, as a user dragging it from their files would. */
export async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, base64 }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name));
      return transfer;
    },
    { name, base64: Buffer.from(bytes).toString('base64') },
  );
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
}
