import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

/**
 * The packages the browser entry may import: plain JavaScript with no Node in it, declared in
 * `dependencies` so that a bundler finds them (the ONNX importer decodes protobuf with this one).
 */
const BROWSER_PACKAGES = ['@bufbuild/protobuf'];

test('convstack/browser imports nothing from Node, and no package but the browser-safe ones it depends on', () => {
  const found = externalImports(path.resolve('src/browser.ts'));
  const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const others = [...found].filter(([specifier]) => !BROWSER_PACKAGES.includes(packageOf(specifier)));
  assert.deepEqual(Object.fromEntries(others), {});
  assert.ok(found.has('@bufbuild/protobuf'), 'the walk reaches the ONNX importer (it is not blind)');
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  for (const name of BROWSER_PACKAGES) assert.ok(name in manifest.dependencies, `${name} is a dependency, not a dev dependency`);
});

test('the walk sees Node in the Node entry (it is not blind)', () => {
  const found = externalImports(path.resolve('src/index.ts'));
  assert.ok(found.has('node:worker_threads'), 'the Node wasm host starts worker_threads');
  assert.ok(found.has('node:fs/promises'));
});

test('the browser entry exports what the page needs, like the Node entry', async () => {
  const browser = await import('../../src/browser.js');
  const node = await import('../../src/index.js');
  for (const name of ['Net', 'Tensor', 'toNetSpec', 'summary', 'lint', 'estimateMemory', 'maxBatch', 'zoo', 'createOptimizer', 'createReferenceBackend', 'createWasmBackend', 'parseSafetensors', 'importOnnx', 'asNotation']) {
    assert.ok(name in browser, `convstack/browser exports ${name}`);
  }
  assert.equal(browser.summary, node.summary, 'the same notation code');
  assert.notEqual(browser.createWasmBackend, node.createWasmBackend, "the browser's wasm backend has its own host");
});
