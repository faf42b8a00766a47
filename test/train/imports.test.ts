import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const TRAIN = path.resolve('src/train');

/** The files under src/train that `file` imports (type-only imports too: a cycle of types is still a cycle to read). */
function trainImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)]
    .map(([, specifier]) => path.resolve(path.dirname(file), (specifier as string).replace(/\.js$/, '.ts')))
    .filter((target) => target.startsWith(TRAIN + path.sep));
}

test('no import cycle between the files of src/train (issue 10, point 6: checkpoint.ts <-> loop.ts)', () => {
  const files = readdirSync(TRAIN, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(TRAIN, f));
  const graph = new Map(files.map((f) => [f, trainImports(f)]));
  assert.ok(graph.get(path.join(TRAIN, 'loop.ts'))?.includes(path.join(TRAIN, 'checkpoint.ts')), 'the loop writes checkpoints');
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (trail.includes(file)) {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(TRAIN, f)).join(' -> '));
      return;
    }
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});
