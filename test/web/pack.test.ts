import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WEB_ROOT } from '../../src/cli/serve.js';

/** The files of the built page, as web/build.mjs writes them. */
const PAGE = ['index.html', 'style.css', 'app.js', 'app.css', 'worker.js', 'mnist.bin', 'build/convstack-simd.wasm', 'build/convstack-relaxed.wasm'];

test('the package ships the built page: prepare builds it into dist/web, which `files` packs and convstack serve serves', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; files: string[] };
  assert.match(manifest.scripts['prepare'] ?? '', /npm run build:web/);
  assert.equal(path.relative(process.cwd(), WEB_ROOT), path.join('dist', 'web'));
  // npm pack of the package's own manifest (and ignore files) over a stand-in of the built folders.
  const folder = mkdtempSync(path.join(tmpdir(), 'convstack-pack-'));
  try {
    for (const file of ['package.json', '.npmignore', '.gitignore', 'README.md', 'LICENSE']) if (existsSync(file)) copyFileSync(file, path.join(folder, file));
    for (const file of [...PAGE.map((f) => `dist/web/${f}`), 'dist/index.js', 'dist/browser.js']) {
      mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
      writeFileSync(path.join(folder, file), 'x');
    }
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: folder, encoding: 'utf8' });
    assert.equal(packed.status, 0, packed.stderr);
    const [{ files }] = JSON.parse(packed.stdout) as [{ files: { path: string }[] }];
    const paths = new Set(files.map((f) => f.path));
    for (const file of PAGE) assert.ok(paths.has(`dist/web/${file}`), `the package has dist/web/${file}`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
