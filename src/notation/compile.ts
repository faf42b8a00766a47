import type { NetSpec } from '../net/spec.js';
import { sizeOf } from '../tensor/shape.js';
import type { Program } from './ast.js';
import { build } from './build.js';
import { desugar, type Bindings } from './desugar.js';
import { NotationError, spanLocation } from './errors.js';
import { infer, type InferredNet } from './infer.js';
import { MAX_TENSOR_VALUES } from './limits.js';
import { parse } from './parser.js';
import { checkBindings } from './variables.js';

/** What the caller decides: variable values and, optionally, the input volume. */
export interface CompileOptions {
  /** Values for the text's variables (`{ N: 2, M: 3, K: 1, POOL: 1 }`); they override `let` defaults. */
  bindings?: Bindings;
  /** The input volume as [H, W, C], as the notes write it (`--input 64x64x3`); overrides INPUT. */
  input?: readonly [number, number, number];
  /**
   * Accept bindings for variables the text does not have. By default they are an error, since they
   * would be ignored silently; a caller sharing one set of values among several texts (`compare`) sets this.
   */
  ignoreUnknownBindings?: boolean;
}

/** Every stage's result for one text. */
export interface Compiled {
  /** The parsed text. */
  program: Program;
  /** The net as data, after desugaring. */
  spec: NetSpec;
  /** Every layer's shapes, parameters and multiply-adds. */
  net: InferredNet;
}

/** Runs the whole pipeline: parse, check the bindings, desugar, build, infer. Throws NotationError. */
export function compile(source: string | Program, options: CompileOptions = {}): Compiled {
  const program = typeof source === 'string' ? parse(source) : source;
  if (options.bindings !== undefined && options.ignoreUnknownBindings !== true) checkBindings(program, options.bindings);
  const input = options.input;
  const expanded = desugar(program, {
    ...(options.bindings !== undefined && { bindings: options.bindings }),
    ...(input !== undefined && { input: [input[2], input[0], input[1]] as const }),
  });
  const spec = build(expanded);
  return { program, spec, net: infer(spec, program.source) };
}

/**
 * Refuses, at the layer, a layer whose output or parameter for one image would not fit in one tensor.
 * `compile` leaves this out, so that the table of a net too large to run can still be drawn (the notes'
 * point about memory); whatever builds a Net from the spec calls it (`toNetSpec` does).
 */
export function checkTensorSizes(net: InferredNet, source: string): void {
  for (const layer of net.layers) {
    const tensors = [{ what: 'output', shape: layer.output }, ...layer.params.map((p) => ({ what: `parameter '${p.name}'`, shape: p.shape }))];
    const tooLarge = tensors.find((t) => sizeOf(t.shape) > MAX_TENSOR_VALUES);
    if (tooLarge === undefined) continue;
    const { node, index } = layer;
    const reason = `layer ${index} ${node.source?.text ?? layer.text} ('${node.name}'): its ${tooLarge.what} would hold ${sizeOf(tooLarge.shape).toLocaleString('en-US')} values for one image, more than a tensor can hold (at most ${MAX_TENSOR_VALUES.toLocaleString('en-US')})`;
    const loc = node.source === undefined ? { offset: 0, line: 1, column: 1, end: 0 } : spanLocation(source, node.source);
    throw new NotationError('sizing', reason, loc, source, index);
  }
}
