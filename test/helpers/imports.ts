import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Static `import ... from` and `export ... from` specifiers, type-only ones included, and `import('...')`. */
const SPECIFIER = /^(?:import|export)\s[^;]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gms;

/** Every specifier `file` imports or re-exports from, in source order. */
export function importSpecifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2]) as string);
}

/** The files `file` imports by relative path, resolved to their .ts sources. */
export function relativeImports(file: string): string[] {
  return importSpecifiers(file)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every .ts file under `dir`, recursively, sorted. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.resolve(dir, f))
    .sort();
}

/**
 * The import cycles among `files`: each as the files along it, the first repeated at the end. One
 * cycle per strongly connected group is enough to name the problem; a depth-first walk finds it.
 */
export function importCycles(files: readonly string[]): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of relativeImports(file)) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return cycles;
}
