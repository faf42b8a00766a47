import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/**
 * The built page: `npm run build:web` writes it to dist/web. NOTE: the same relative path from
 * src/cli/serve.ts (tsx) and dist/cli/serve.js (the package).
 */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/**
 * The headers every response carries. COOP and COEP make the page cross-origin isolated, which
 * SharedArrayBuffer (the wasm backend's threads) needs; CORP lets the isolated page load its files.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

/**
 * The file under `root` (a real path) that a request path names, or null when it names nothing
 * there: a path that does not decode, climbs out of the root (`..`, `%2e%2e`, an absolute path, a
 * backslash), holds a NUL, or leads through a symlink to outside the root. A folder serves its
 * index.html.
 */
export async function resolveRequest(root: string, requestPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath.split('?')[0] ?? '');
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((part) => part === '..')) return null;
  let file = path.join(root, decoded);
  if (!within(root, file)) return null;
  try {
    if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
    const real = await realpath(file);
    if (!within(root, real) || !(await stat(real)).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

function within(root: string, file: string): boolean {
  return file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * A static server of `root` on 127.0.0.1 with the cross-origin isolation headers; anything but a
 * GET or HEAD of a file under the root is a 404 (405 for other methods). `port` 0 picks a free one.
 */
export async function servePage(root: string, port: number): Promise<{ server: Server; url: string }> {
  const realRoot = await realpath(root);
  const server = createServer((request, response) => {
    void respond(realRoot, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { server, url: `http://127.0.0.1:${bound}/` };
}

async function respond(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) response.setHeader(name, value);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const file = await resolveRequest(root, request.url ?? '/');
  if (file === null) {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': (await stat(file)).size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).pipe(response);
}

/** `convstack serve [--port P]`: serves the page on 127.0.0.1 with COOP/COEP and prints its address. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the web page (design, size and train a net in the browser) on 127.0.0.1, cross-origin isolated for wasm threads')
    .option('--port <port>', 'the port to listen on (0: any free port)', '8080')
    .action(async (options: { port: string }) => {
      const port = Number(options.port);
      if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port must be an integer from 0 to 65535, got '${options.port}'`);
      const built = await stat(path.join(WEB_ROOT, 'index.html')).catch(() => null);
      if (built === null) throw new Error(`the page is not built (no ${path.join(WEB_ROOT, 'index.html')}): run npm run build:web`);
      const { url } = await servePage(WEB_ROOT, port);
      process.stdout.write(`convstack: serving the page at ${url} (Ctrl-C stops)\n`);
    });
}
