import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { importSpecifiers, relativeImports } from '../helpers/imports.js';

/** Every bare or node: specifier reached from `file` by relative imports, with the chain that reaches it. */
function externalImports(file: string, seen = new Set<string>(), chain: readonly string[] = []): Map<string, string> {
  const found = new Map<string, string>();
  if (seen.has(file)) return found;
  seen.add(file);
  const here = [...chain, path.relative('src', file)];
  for (const specifier of importSpecifiers(file)) if (!specifier.startsWith('.')) found.set(specifier, here.join(' > '));
  for (const next of relativeImports(file)) for (const [s, via] of externalImports(next, seen, here)) found.set(s, via);
  return found;
}

test('convstack/browser imports nothing from Node or any package', () => {
  assert.deepEqual(Object.fromEntries(externalImports(path.resolve('src/browser.ts'))), {});
});

test('the walk sees Node in the Node entry (it is not blind)', () => {
  const found = externalImports(path.resolve('src/index.ts'));
  assert.ok(found.has('node:worker_threads'), 'the Node wasm host starts worker_threads');
  assert.ok(found.has('node:fs/promises'));
});

test('the browser entry exports what the page needs, like the Node entry', async () => {
  const browser = await import('../../src/browser.js');
  const node = await import('../../src/index.js');
  for (const name of ['Net', 'Tensor', 'toNetSpec', 'summary', 'lint', 'estimateMemory', 'maxBatch', 'zoo', 'createOptimizer', 'createReferenceBackend', 'createWasmBackend']) {
    assert.ok(name in browser, `convstack/browser exports ${name}`);
  }
  assert.equal(browser.summary, node.summary, 'the same notation code');
  assert.notEqual(browser.createWasmBackend, node.createWasmBackend, "the browser's wasm backend has its own host");
});
