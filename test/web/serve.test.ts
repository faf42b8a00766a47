import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { servePage, resolveRequest } from '../../src/cli/serve.js';
import { convstack } from '../helpers/cli.js';

// A page folder with a file, a sub-folder, a secret beside it, and symlinks out and in.
const outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'convstack-serve-')));
const root = path.join(outside, 'page');
mkdirSync(path.join(root, 'sub'), { recursive: true });
writeFileSync(path.join(root, 'index.html'), '<p>page</p>');
writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub</p>');
writeFileSync(path.join(root, 'app.js'), 'export {};');
writeFileSync(path.join(outside, 'secret.txt'), 'secret');
symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link-out.txt'));
symlinkSync(path.join(root, 'app.js'), path.join(root, 'link-in.js'));

let server: Server;
let base: string;
before(async () => {
  ({ server, url: base } = await servePage(root, 0));
});
after(() => server.close());

/** GET `rawPath` exactly as written (no URL normalisation on the way), with its status, headers and body. */
function get(rawPath: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('files under the root are served with the cross-origin isolation headers', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.body, '<p>page</p>');
  assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal((await get('/app.js')).headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await get('/sub/')).body, '<p>sub</p>');
  assert.equal((await get('/link-in.js')).body, 'export {};', 'a symlink that stays inside the root is served');
});

test('a path outside the page folder is a 404, however it is written', async () => {
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/sub/../../secret.txt', '/..%5csecret.txt', `/${outside}/secret.txt`, `//${outside}/secret.txt`, '/link-out.txt', '/missing.js', '/%00', '/%zz']) {
    const response = await get(p);
    assert.equal(response.status, 404, p);
    assert.doesNotMatch(response.body, /secret/, p);
  }
  assert.equal(await resolveRequest(root, '/../page/index.html'), null, 'no .. at all, even one that comes back');
  assert.equal(await resolveRequest(root, 'index.html'), null, 'a path must begin with / (Node answers 400 before it reaches us)');
});

test('convstack serve prints its address and serves the built page; a bad port is an error', async () => {
  const bad = convstack('serve', '--port', '70000');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^convstack: --port must be an integer from 0 to 65535, got '70000'/);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.stderr.on('data', (chunk: Buffer) => reject(new Error(chunk.toString())));
      child.once('exit', (code) => reject(new Error(`convstack serve exited with ${code}: ${out}`)));
    });
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
    assert.ok(url !== undefined, line);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await response.text(), /<title>convstack/);
  } finally {
    child.kill();
  }
});
