import type { OpAttrs, OpType } from '../../ops/index.js';
import type { Rounding } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import type { LayerNode, Num } from '../ast.js';
import type { Location } from '../errors.js';

/** What a layer keyword is written with, besides its attributes in parentheses. */
export interface KeywordSyntax {
  /** `CONV3`, `POOL1x7`: a filter size glued to the keyword. */
  filterSize: boolean;
  /** `CONV3-64`, `FC-10`: what the number after `-` counts, for the parser's "expected" message. */
  count: 'filters' | 'outputs' | null;
  /** `ADAPTIVEPOOL-14x4`: the count may be a height x width pair. */
  countPair?: boolean;
}

/** Which attributes a layer takes in parentheses; flags are the rounding modes. */
export interface Accepts {
  /** Names it takes as `name=value` (`s`, `p`, `groups`, ...). */
  named: readonly string[];
  /** `exact`, `floor`, `ceil` */
  rounding: boolean;
  /** The attribute a bare value fills: `DROPOUT(0.5)` is `p=0.5`. */
  positional: string | null;
  /** Attributes that take a list of numbers, `x` between them (`AFFINE(scale=0.458x0.448x0.45)`). */
  lists?: readonly string[];
  /** Attributes written with a word rather than a number, and the words each takes (`SOFTMAX(over=c)`). */
  words?: Readonly<Record<string, readonly string[]>>;
}

/** A layer's attributes as written, checked against its `Accepts` and with variables substituted. */
export interface WrittenAttrs {
  /** The numbers of a named attribute, or null when it was not written. */
  get(name: string): number[] | null;
  /** Fails at the attribute's place when one of its numbers breaks `ok`: `${what}, got ${name}=...`. */
  check(name: string, what: string, ok: (v: number) => boolean): void;
  /** The word of an attribute of `Accepts.words`, or null when it was not written. */
  word(name: string): string | null;
  /** Whether `name` was written, as a flag or with a value. */
  has(name: string): boolean;
  /** The rounding flag written (`exact`, `floor`, `ceil`), or the default. */
  rounding: Rounding;
  /** False when `bias=no` (or `bias=0`) was written. */
  bias: boolean;
}

/** What an entry may ask of desugaring while it resolves a layer: numbers and errors at a place. */
export interface ResolveContext {
  /** The value of `num`, a variable looked up in the bindings. */
  number(num: Num): number;
  /** A whole number of at least `min`, and no larger than a tensor can hold. */
  integer(num: Num, what: string, min: number): number;
  /** Throws a NotationError of `reason` at `loc`. */
  fail(reason: string, loc: Location): never;
}

/** One ONNX attribute, typed as onnx.proto types it. */
export type OnnxAttr =
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; float: number };

/**
 * One ONNX node of a layer's lowering. The first node reads the layer's inputs, each later one the
 * node before it; `params` are the layer's parameter names (`weight`, `bias`) appended as inputs.
 */
export interface OnnxNode {
  /** The ONNX op type, e.g. `Conv`. */
  op: string;
  /** The layer's parameters appended to the node's inputs, e.g. `weight`, `bias`. */
  params: readonly string[];
  /** The node's attributes. */
  attrs: readonly OnnxAttr[];
  /** Values the layer writes in the notation, appended after `params` as float initializers `<layer>.<name>`. */
  constants?: readonly OnnxConstant[];
  /** The constants come before the value from the node before (a MatMul whose matrix multiplies from the left). */
  constantsFirst?: boolean;
}

/** A constant input of a lowered node: AFFINE's written scale, as a [C, 1, 1] tensor. */
export interface OnnxConstant {
  /** Its name within the layer (`scale`). */
  name: string;
  /** Its ONNX dimensions. */
  dims: readonly number[];
  /** Its values, in order. */
  values: readonly number[];
  /** Written as int64 (a Reshape's target shape) rather than float. */
  int64?: boolean;
}

/**
 * One notation keyword: how it is written, what it accepts, the op and attributes it resolves to,
 * how a node of that op is written back, and the ONNX nodes it stands for. A new layer is one op
 * file (src/ops) plus one entry in `keywords/index.ts`.
 */
export interface KeywordEntry<K extends OpType = OpType> {
  /** The op the keyword resolves to. */
  op: K;
  /** How the keyword is written: filter size, count after `-`. */
  syntax: KeywordSyntax;
  /** The attributes it takes in parentheses. */
  accepts: Accepts;
  /** The op's attributes with every default filled in; a bare FC's size is 0 until desugar knows what follows. */
  resolve(layer: LayerNode, attrs: WrittenAttrs, ctx: ResolveContext): OpAttrs[K];
  /** The layer as notation with its defaults explicit where they matter (the table's layer column). */
  write(attrs: OpAttrs[K]): string;
  /** Its automatic name's stem, `pool` for `pool1`; the op's name when absent. */
  autoName?: string;
  /** Owns trainable weights, so two such layers may not share a name. */
  weighted?: boolean;
  /** Can overwrite its input: no row and no activations in the notes' table. */
  inPlace?: boolean;
  /** The ONNX nodes (opset 13) computing the layer; `input` is one image's input shape. */
  onnx(attrs: OpAttrs[K], input: Shape): OnnxNode[];
}

/** Declares an entry with its op's attribute type checked. */
export function keyword<K extends OpType>(entry: KeywordEntry<K>): KeywordEntry<K> {
  return entry;
}
