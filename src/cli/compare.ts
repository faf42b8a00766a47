import type { Command } from 'commander';
import { compile, designFigures, NotationError, parse, renderComparison, type CompileOptions, type DesignFigures, type Program } from '../notation/index.js';
import { checkBindings, variablesOf } from '../notation/variables.js';
import { parseInputOption, parseSetOption, readSpec, specBindings, type SpecOptions, type SpecSource } from './model.js';

interface CompareOptions extends SpecOptions {
  json?: boolean;
}

/** One side of a comparison: what it is called, the input it read and where that came from, its figures. */
interface Side {
  name: string;
  /** The input volume, [H, W, C]. */
  input: [number, number, number];
  /** `INPUT` when the text gives it, else how it was chosen (the notes' C in, or --input, or the default). */
  inputFrom: string;
  figures: DesignFigures;
}

/**
 * `convstack compare <specA> <specB> [--set C=64]`: two designs side by side, e.g. `CONV7-C` against
 * `[CONV3-C -> RELU]*3`: weights, receptive field, non-linearities, multiply-adds, activations. A
 * fragment without INPUT reads --input, or 32x32xC when C is set (the notes' C channels in, C out),
 * and the output says which input it read.
 */
export function registerCompare(program: Command): void {
  program
    .command('compare <specA> <specB>')
    .description('compare two designs: parameters, receptive field, non-linearities, multiply-adds and memory')
    .option('--input <HxWxC>', 'input volume for both (a spec without INPUT reads 32x32xC when C is set)')
    .option('--set <vars>', "values for the specs' variables, e.g. C=64")
    .option('--json', 'print both sides as JSON: { a: {...}, b: {...} }')
    .action(async (specA: string, specB: string, options: CompareOptions) => {
      const [a, b] = await Promise.all([readSpec(specA), readSpec(specB)]);
      const label = (source: SpecSource, arg: string): string => (source.origin === '<spec>' ? arg : source.origin);
      checkSharedBindings(a, b, options);
      // Each side keeps its own zoo values; --set applies to both.
      const left = sideOf(a, label(a, specA), options);
      const right = sideOf(b, label(b, specB), options);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ a: left, b: right }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${renderComparison({ a: left.figures, b: right.figures }, [left.name, right.name])}\n`);
      process.stdout.write(`${inputLine(left, right)}\n`);
    });
}

function sideOf(source: SpecSource, name: string, options: CompareOptions): Side {
  const bindings = specBindings(source, options);
  try {
    const program = parse(source.text);
    const first = program.body.elements[0]?.item;
    const hasInput = first?.kind === 'layer' && first.type === 'INPUT';
    const channels = bindings['C'];
    // NOTE: the same choice as designFigures makes, spelled out so that the output can say which it was.
    const given = options.input !== undefined ? parseInputOption(options.input) : undefined;
    const assumed = given ?? (hasInput || channels === undefined ? undefined : ([32, 32, channels] as [number, number, number]));
    // checkSharedBindings has checked --set against both designs: a value may belong to one side only.
    const compileOptions: CompileOptions = { bindings, ignoreUnknownBindings: true, ...(assumed !== undefined && { input: assumed }) };
    const [c, h, w] = compile(program, compileOptions).spec.input as [number, number, number];
    const inputFrom =
      given !== undefined ? '--input' : hasInput ? 'INPUT' : assumed !== undefined ? `32x32xC with C = ${channels}` : 'the default; for C channels in, as the notes compare, give --input 32x32xC';
    return { name, input: [h, w, c], inputFrom, figures: designFigures(program, compileOptions) };
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${source.origin}: ${error.message}`);
    throw error;
  }
}

/**
 * Each --set value must be a variable of at least one of the two designs (C also sizes a fragment's
 * input, so it is always known), as the notation's `compare` checks.
 */
function checkSharedBindings(a: SpecSource, b: SpecSource, options: CompareOptions): void {
  if (options.set === undefined) return;
  const [programA, programB] = [a, b].map((source) => parseOrName(source)) as [Program, Program];
  const unknown = Object.entries(parseSetOption(options.set)).filter(([name]) => name !== 'C' && !variablesOf(programB).has(name));
  try {
    checkBindings(programA, Object.fromEntries(unknown));
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${a.origin} and ${b.origin}: ${error.message}`);
    throw error;
  }
}

function parseOrName(source: SpecSource): Program {
  try {
    return parse(source.text);
  } catch (error) {
    if (error instanceof NotationError) throw new Error(`${source.origin}: ${error.message}`);
    throw error;
  }
}

/** `input: [32x32x64] for both (32x32xC with C = 64)`, or each side's when they differ. */
function inputLine(a: Side, b: Side): string {
  const volume = (s: Side): string => `[${s.input.join('x')}]`;
  if (volume(a) === volume(b) && a.inputFrom === b.inputFrom) return `input: ${volume(a)} for both (${a.inputFrom})`;
  return `input: ${volume(a)} for ${a.name} (${a.inputFrom}), ${volume(b)} for ${b.name} (${b.inputFrom})`;
}
