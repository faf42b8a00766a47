import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importCycles, sourceFiles } from './helpers/imports.js';

test('no import cycle between files in src/, type-only imports included', () => {
  const src = path.resolve('src');
  const cycles = importCycles(sourceFiles(src)).map((cycle) => cycle.map((f) => path.relative(src, f)).join(' -> '));
  assert.deepEqual(cycles, []);
});

test('the walk finds a cycle made of type-only imports and re-exports', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-imports-'));
  writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B[];\n");
  writeFileSync(path.join(dir, 'b.ts'), "export { c } from './c.js';\nexport type B = number;\n");
  writeFileSync(path.join(dir, 'c.ts'), "import type { A } from './a.js';\nexport const c = (a: A) => a;\n");
  const cycles = importCycles(sourceFiles(dir)).map((cycle) => cycle.map((f) => path.basename(f)).join(' -> '));
  assert.deepEqual(cycles, ['a.ts -> b.ts -> c.ts -> a.ts']);
});
