import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { missingDocs } from '../tools/check_jsdoc.js';

test('every export in src/, and every public member of an exported class or interface, has a JSDoc comment', () => {
  const missing = missingDocs('src').map((m) => `${m.file}:${m.line} ${m.name}`);
  assert.deepEqual(missing, []);
});

test('the checker finds undocumented exports and members, and skips private, overriding and re-exported ones', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convstack-jsdoc-'));
  try {
    writeFileSync(
      path.join(dir, 'a.ts'),
      [
        "export { b } from './b.js';",
        '/** Documented. */',
        'export interface Options {',
        '  /** Documented. */',
        '  size: number;',
        '  depth?: number;',
        '}',
        'export const bare = 1;',
        '/** Documented. */',
        'export class Thing extends Error {',
        '  override name = "Thing";',
        '  constructor(readonly shape: number[], private readonly hidden: number) { super(); }',
        '  private secret(): void {}',
        '  run(): void {}',
        '}',
        'function internal(): void {}',
        '',
      ].join('\n'),
    );
    const names = missingDocs(dir).map((m) => `${path.basename(m.file)}:${m.line} ${m.name}`);
    assert.deepEqual(names, ['a.ts:6 Options.depth', 'a.ts:8 bare', 'a.ts:12 Thing.shape', 'a.ts:14 Thing.run']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
