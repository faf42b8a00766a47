import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { servePage } from '../../src/cli/serve.js';
import type { Batches } from '../data.js';
import type { Step } from '../measure.js';
import type { Workload } from '../workloads.js';
import { SGD, type Peer } from './peer.js';

/** Debian's Chromium, which .ci/run installs when it is missing (as the page's tests use). */
const CHROMIUM = '/usr/bin/chromium';

/**
 * The page's side of the bench: a training Worker of the page's own bundle, started for W4. Each
 * `next()` queues one more step and waits for the one before it, so the Worker always has the next
 * step waiting and never idles while an answer travels back to Node (a round trip here takes 1 to 3
 * ms, a step about 15): a timed run is one step of the Worker's. It never runs ahead of Node by more
 * than the one queued step, so a slow round trip can only lower the figure.
 * NOTE: plain JavaScript in a string, since tsx would wrap a function passed to page.evaluate in a
 * helper that the page does not have.
 */
const PAGE_SCRIPT = `
globalThis.convstackBench = (() => {
  const worker = new Worker('./worker.js', { type: 'module' });
  let done = 0;
  let waiting = null;
  let started = null;
  let stopped = null;
  worker.onmessage = (event) => {
    const { kind } = event.data;
    if (kind === 'bench-stepped') {
      done++;
      if (waiting !== null && done >= waiting.step) {
        waiting.resolve();
        waiting = null;
      }
    } else if (kind === 'bench-ready') started.resolve(event.data);
    else if (kind === 'bench-stopped') stopped.resolve();
    else if (kind === 'error') for (const pending of [waiting, started, stopped]) pending?.reject(new Error(event.data.message));
  };
  const deferred = (extra) => {
    const d = { ...extra };
    d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
    return d;
  };
  let queued = 0;
  const queue = () => (queued++, worker.postMessage({ kind: 'bench-step' }));
  return {
    async start(settings) {
      started = deferred({});
      worker.postMessage({ kind: 'bench-start', settings });
      const ready = await started.promise;
      queue();
      return { ...ready, isolated: crossOriginIsolated };
    },
    next() {
      const step = queued;
      queue();
      if (done >= step) return Promise.resolve();
      waiting = deferred({ step });
      return waiting.promise;
    },
    async stop() {
      while (done < queued) await new Promise((resolve) => setTimeout(resolve, 5));
      stopped = deferred({});
      worker.postMessage({ kind: 'bench-stop' });
      await stopped.promise;
      worker.terminate();
    },
  };
})();
`;

/** The page served and a headless Chromium on it, started for W4 and closed at the end. */
interface Session {
  page: import('playwright-core').Page;
  close(): Promise<void>;
}

/** Builds the page into a temporary folder, serves it cross-origin isolated and opens it in Chromium. */
async function openSession(): Promise<Session> {
  const { chromium } = await import('playwright-core');
  const folder = mkdtempSync(path.join(tmpdir(), 'convstack-bench-web-'));
  const out = path.join(folder, 'web');
  const built = spawnSync(process.execPath, ['web/build.mjs', out], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build:web failed: ${built.stderr.split('\n')[0]}`);
  const { server, url } = await servePage(out, 0);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const close = async (): Promise<void> => {
    await browser.close();
    await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const page = await browser.newPage();
    await page.goto(url);
    return { page, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * convstack in Chromium: W4 (LeNet-5 training on the MNIST digits, batch 64, SGD with momentum) in
 * the page's training Worker on the wasm backend with its threads, as a student's browser runs it.
 * The other workloads are Node's. NOTE: the Worker trains on the digits the page bundles (the same
 * training split, in order, as the Node peers' batches), so `batches` is not sent over.
 */
export function browserPeer(threads: number): Peer {
  let session: Session | null = null;
  return {
    name: 'convstack-browser',
    async prepare(w: Workload, _batches: Batches): Promise<Step | { skip: string }> {
      if (w.name !== 'W4 lenet mnist train') return { skip: 'the page trains W4 only (LeNet-5 on MNIST in its Worker)' };
      if (!existsSync(CHROMIUM)) return { skip: `no ${CHROMIUM} (apt-get install -y --no-install-recommends chromium)` };
      session ??= await openSession();
      const { page } = session;
      await page.addScriptTag({ content: PAGE_SCRIPT });
      const settings = { batch: w.batch, lr: SGD.lr, momentum: SGD.momentum, threads };
      const ready = (await page.evaluate(`convstackBench.start(${JSON.stringify(settings)})`)) as { threads: number; isolated: boolean };
      if (!ready.isolated) return { skip: 'the page is not cross-origin isolated: no threads' };
      return {
        run: async () => {
          await page.evaluate('convstackBench.next()');
        },
        dispose: async () => {
          await page.evaluate('convstackBench.stop()');
        },
      };
    },
    async dispose() {
      await session?.close();
      session = null;
    },
  };
}
