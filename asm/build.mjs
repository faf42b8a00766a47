// Compiles the kernels (asm/index.ts and the files it imports, src/backends/wasm/abi.ts among them)
// to the two binaries src/backends/wasm/ loads: plain SIMD and relaxed SIMD (fused multiply-add).
// They are written beside the TS sources (tests run from src/ through tsx) and into dist/ (the
// published package). Run by `npm run build:wasm`, hence by `npm install`.
import asc from 'assemblyscript/asc';
import { mkdir, copyFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const outDirs = ['src/backends/wasm/build', 'dist/backends/wasm/build'];

// Memory is created by the TS side (shared, so worker threads see it) and imported; the module
// has no runtime and no static data, so every instance can share it without initialising it.
const common = [
  'asm/index.ts',
  '-O3',
  '--noAssert',
  '--runtime', 'stub',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory', '1',
  '--maximumMemory', '65536',
  '--enable', 'simd',
  '--enable', 'threads',
];

const variants = [
  { file: 'convstack-simd.wasm', flags: [] },
  { file: 'convstack-relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
];

await mkdir(`${root}/${outDirs[0]}`, { recursive: true });
for (const { file, flags } of variants) {
  const out = `${outDirs[0]}/${file}`;
  const { error, stderr } = await asc.main([...common, ...flags, '--outFile', out], { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(stderr.toString());
    process.exit(1);
  }
  for (const dir of outDirs.slice(1)) {
    await mkdir(`${root}/${dir}`, { recursive: true });
    await copyFile(`${root}/${out}`, `${root}/${dir}/${file}`);
  }
}
