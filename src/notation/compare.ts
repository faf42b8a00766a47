import { formatBytes } from '../memory/units.js';
import { compile, type CompileOptions } from './compile.js';
import type { Program } from './ast.js';
import { parse } from './parser.js';
import { checkBindings, variablesOf } from './variables.js';
import type { ReceptiveField } from './infer.js';
import { formatField, summarize, thousands, type SummaryTotals } from './summary.js';

/** One design's figures, as the notes weigh a 7x7 CONV against three 3x3 CONVs. */
export interface DesignFigures {
  /** The output volume, [H, W, C]. */
  output: [number, number, number];
  /** Parameters, weights, biases, multiply-adds and activations, summed over the layers. */
  totals: SummaryTotals;
  /** The receptive field of the last layer on the input. */
  receptiveField: ReceptiveField;
  /** RELU layers: what makes a stack of small filters more expressive than one big one. */
  nonlinearities: number;
  /** Layers with weights (CONV and FC). */
  weightedLayers: number;
}

/** Two designs' figures, `a` and `b`, as `compare` puts them side by side. */
export interface Comparison {
  /** The first design's figures. */
  a: DesignFigures;
  /** The second design's figures. */
  b: DesignFigures;
}

/**
 * Puts two designs side by side, e.g. `CONV7-C` against `[CONV3-C -> RELU]*3` with C bound: weights
 * (49C^2 against 27C^2), receptive field, non-linearities, multiply-adds and activation memory.
 * A text without INPUT reads `options.input`, or a 32x32xC volume when C is bound, else the default.
 */
export function compare(a: string | Program, b: string | Program, options: CompileOptions = {}): Comparison {
  const [programA, programB] = [a, b].map((text) => (typeof text === 'string' ? parse(text) : text)) as [Program, Program];
  // The values are shared: each must be a variable of one design at least (C also sizes a fragment's input).
  const unknown = Object.fromEntries(Object.entries(options.bindings ?? {}).filter(([name]) => name !== 'C' && !variablesOf(programB).has(name)));
  if (options.ignoreUnknownBindings !== true) checkBindings(programA, unknown);
  const shared = { ...options, ignoreUnknownBindings: true };
  return { a: designFigures(programA, shared), b: designFigures(programB, shared) };
}

/**
 * One design's figures (what `compare` puts in each column). Throws NotationError. A binding of C
 * sizes a fragment's input, so it is never unknown here.
 */
export function designFigures(source: string | Program, options: CompileOptions = {}): DesignFigures {
  const program = typeof source === 'string' ? parse(source) : source;
  const first = program.body.elements[0]?.item;
  const channels = options.bindings?.['C'];
  // A fragment such as `CONV7-C` reads a volume of depth C, as in the notes' comparison.
  const fragmentInput = first?.kind === 'layer' && first.type === 'INPUT' ? undefined : channels === undefined ? undefined : ([32, 32, channels] as const);
  const input = options.input ?? fragmentInput;
  // C sized the fragment's input; the text itself need not read it.
  const sizedByC = fragmentInput !== undefined && options.input === undefined && !variablesOf(program).has('C');
  const bindings = sizedByC ? Object.fromEntries(Object.entries(options.bindings ?? {}).filter(([name]) => name !== 'C')) : options.bindings;
  const { net } = compile(program, { ...options, ...(bindings !== undefined && { bindings }), ...(input !== undefined && { input }) });
  const { layers, totals } = summarize(net);
  const last = net.layers[net.layers.length - 1];
  return {
    output: (layers[layers.length - 1] as (typeof layers)[number]).output,
    totals,
    receptiveField: last?.receptiveField ?? { size: [1, 1], stride: [1, 1] },
    nonlinearities: net.layers.filter((l) => l.node.op === 'relu').length,
    weightedLayers: net.layers.filter((l) => l.node.op === 'conv' || l.node.op === 'fc').length,
  };
}

/** The comparison as a two-column table; `names` label the columns. */
export function renderComparison(c: Comparison, names: [string, string]): string {
  const row = (label: string, f: (d: DesignFigures) => string): string[] => [label, f(c.a), f(c.b)];
  const rows = [
    ['', names[0], names[1]],
    row('output', (d) => `[${d.output.join('x')}]`),
    row('weights', (d) => thousands(d.totals.weights)),
    row('biases', (d) => thousands(d.totals.biases)),
    row('params', (d) => thousands(d.totals.params)),
    row('receptive field', (d) => formatField(d.receptiveField)),
    row('non-linearities', (d) => String(d.nonlinearities)),
    row('weighted layers', (d) => String(d.weightedLayers)),
    row('multiply-adds', (d) => thousands(d.totals.macs)),
    row('activations', (d) => `${thousands(d.totals.activations)} (${formatBytes(d.totals.activationBytes)})`),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}
