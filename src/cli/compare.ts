import type { Command } from 'commander';
import { designFigures, NotationError, renderComparison, type CompileOptions, type DesignFigures } from '../notation/index.js';
import type { SpecSource } from './model.js';
import { parseInputOption, parseSetOption, readSpec, type SpecOptions } from './model.js';

/**
 * `convstack compare <specA> <specB> [--set C=64]`: two designs side by side, e.g. `CONV7-C` against
 * `[CONV3-C -> RELU]*3`: weights, receptive field, non-linearities, multiply-adds, activations.
 */
export function registerCompare(program: Command): void {
  program
    .command('compare <specA> <specB>')
    .description('compare two designs: parameters, receptive field, non-linearities, multiply-adds and memory')
    .option('--input <HxWxC>', 'input volume for both (a spec without INPUT reads 32x32xC when C is set)')
    .option('--set <vars>', "values for the specs' variables, e.g. C=64")
    .action(async (specA: string, specB: string, options: SpecOptions) => {
      const [a, b] = await Promise.all([readSpec(specA), readSpec(specB)]);
      const set = options.set !== undefined ? parseSetOption(options.set) : {};
      const input = options.input !== undefined ? { input: parseInputOption(options.input) } : {};
      // Each side keeps its own zoo values; --set applies to both.
      const left = figuresOf(a, { bindings: { ...a.bindings, ...set }, ...input });
      const right = figuresOf(b, { bindings: { ...b.bindings, ...set }, ...input });
      const label = (source: SpecSource, arg: string): string => (source.origin === '<spec>' ? arg : source.origin);
      process.stdout.write(`${renderComparison({ a: left, b: right }, [label(a, specA), label(b, specB)])}\n`);
    });
}

function figuresOf(source: SpecSource, options: CompileOptions): DesignFigures {
  try {
    return designFigures(source.text, options);
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${source.origin}: ${error.message}`);
    throw error;
  }
}
