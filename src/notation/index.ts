/**
 * The notation of the notes "ConvNet Architectures" as a library: parse a text such as
 * `INPUT -> [[CONV -> RELU]*N -> POOL?]*M -> [FC -> RELU]*K -> FC`, infer every volume, and get the
 * notes' per-layer table, lint warnings, comparisons and a NetSpec to build a Net from.
 * Nothing here depends on Node, so the web page can use it as it is.
 */
import type { NetSpec } from '../net/spec.js';
import type { Program } from './ast.js';
import { checkTensorSizes, compile, type CompileOptions } from './compile.js';
import { format as formatProgram } from './format.js';
import type { InferredNet } from './infer.js';
import { parse } from './parser.js';
import { summarize, type Summary } from './summary.js';

export { parse } from './parser.js';
export { checkTensorSizes, compile, type CompileOptions, type Compiled } from './compile.js';
export { lint, lintNet, renderDiagnostic, RULES, type Diagnostic, type Rule } from './lint.js';
export { compare, designFigures, renderComparison, type Comparison, type DesignFigures } from './compare.js';
export { renderSummary, type Summary, type SummaryRow, type SummaryTotals } from './summary.js';
export { layerText } from './format.js';
export { NotationError, type Location, type NotationErrorKind } from './errors.js';
export { type Bindings } from './desugar.js';
export { DEFAULTS, LAYERS, BLOCKS, onnxNodes, type KeywordEntry, type OnnxAttr, type OnnxNode } from './keywords/index.js';
export type { InferredNet, LayerInfo, ReceptiveField } from './infer.js';
export type * from './ast.js';

/** The net a text describes, as data for `new Net(spec)`; every tensor fits in one typed array. Throws NotationError. */
export function toNetSpec(source: string | Program, options: CompileOptions = {}): NetSpec {
  const { program, spec, net } = compile(source, options);
  checkTensorSizes(net, program.source);
  return spec;
}

/** Every layer's volume, parameters, multiply-adds and receptive field. Throws NotationError. */
export function infer(source: string | Program, options: CompileOptions = {}): InferredNet {
  return compile(source, options).net;
}

/** The notes' per-layer table with totals, as data (render it with `renderSummary`). Throws NotationError. */
export function summary(source: string | Program, options: CompileOptions = {}): Summary {
  return summarize(compile(source, options).net);
}

/** A text (or parsed program) in canonical form; parsing the result gives the same program. */
export function format(source: string | Program): string {
  return formatProgram(typeof source === 'string' ? parse(source) : source);
}
