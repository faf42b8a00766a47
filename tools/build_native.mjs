// Compiles the native backend's Node-API addon (native/src/*.c) into native/build/convstack.node
// with the machine's C compiler, against the `node-api-headers` package: no node-gyp, no Python, no
// download. Run by `npm install` and `npm run build`.
// NOTE: it never fails the install. Where there is no compiler, no headers or the build fails, it
// prints one line and exits 0; the native backend is then unavailable and wasm stays the default.
// Set CONVSTACK_NATIVE=0 to skip the build, CC to pick the compiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = join(root, 'native', 'src');
const outDir = join(root, 'native', 'build');
const target = join(outDir, 'convstack.node');

function skip(reason) {
  console.log(`convstack: native backend not built (${reason}); the wasm backend will be used`);
  process.exit(0);
}

function headers() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
  } catch {
    return null;
  }
}

/** Compiles every source into `out`; returns the compiler's complaint, or null on success. */
function compile(compiler, flags, out) {
  try {
    execFileSync(compiler, [...flags, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    return null;
  } catch (error) {
    const stderr = error.stderr?.toString().trim().split('\n')[0];
    return stderr || error.message.split('\n')[0];
  }
}

if (process.env.CONVSTACK_NATIVE === '0') skip('CONVSTACK_NATIVE=0');
if (process.platform === 'win32') skip('Windows builds are not supported yet');
const include = headers();
if (include === null) skip('the node-api-headers package is missing');

const compiler = process.env.CC || 'cc';
const files = readdirSync(sources).filter((f) => f.endsWith('.c')).map((f) => join(sources, f));
const common = ['-O3', '-std=c11', '-D_GNU_SOURCE', '-fPIC', '-shared', '-Wall', '-I', include, ...files];
// A shared object resolves Node's symbols when Node loads it; macOS's linker must be told so.
if (process.platform === 'darwin') common.push('-undefined', 'dynamic_lookup');
const temporary = `${target}.${process.pid}.tmp`;
mkdirSync(outDir, { recursive: true });
const error = compile(compiler, ['-pthread', ...common], temporary);
if (error !== null) {
  rmSync(temporary, { force: true });
  skip(`${compiler} failed: ${error}`);
}
renameSync(temporary, target);
console.log(`convstack: native backend built: ${target}`);
