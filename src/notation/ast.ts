import type { Location } from './errors.js';
import type { BlockKeyword, LayerKeyword } from './keywords/names.js';

/** A number as written, or a variable bound by the caller, a `let` or a block's parameter. */
export type Num = { kind: 'num'; value: number; loc: Location } | { kind: 'var'; name: string; loc: Location };

/** One entry of a layer's attribute list: `s=2`, `p=1x0`, a flag such as `ceil`, or a positional `0.5`. */
export interface Attr {
  /** Absent for a positional value (`DROPOUT(0.5)`). */
  name: string | null;
  /** Absent for a flag (`ceil`); two numbers for `1x0`. */
  value: Num[] | null;
  /** Where the entry starts in the text. */
  loc: Location;
}

/** A layer: `CONV3-64(s=2)`, `POOL2`, `FC-4096`, `INPUT[224x224x3]`, `RELU`. */
export interface LayerNode {
  /** Discriminates the Item union. */
  kind: 'layer';
  /** The layer keyword: `CONV`, `POOL`, `FC`, `RELU`, ... */
  type: LayerKeyword;
  /** Filter size (`3` or `1x7`) or, for INPUT, the volume (`224x224x3`). */
  size: Num[] | null;
  /** Filters of a CONV, outputs of an FC: the number after `-`. */
  count: Num | null;
  /** The width of a count written as a pair, `ADAPTIVEPOOL-14x4`'s 4 (the keyword's `countPair`); absent otherwise. */
  countWidth?: Num;
  /** The `(...)` list, in order; empty when there is none. */
  attrs: Attr[];
  /** Where the layer starts in the text. */
  loc: Location;
}

/** `[a -> b]`: a sub-chain, spliced into its parent unless labelled. */
export interface GroupNode {
  /** Discriminates the Item union. */
  kind: 'group';
  /** The chain inside the brackets. */
  body: Chain;
  /** Where the `[` is. */
  loc: Location;
}

/** `RES[body]`, `RES[body | shortcut]`, `CONCAT[a | b | ...]`, `MUL[a | b]`, `DIV[a | b]`, `AUX[head]`. */
export interface BlockNode {
  /** Discriminates the Item union. */
  kind: 'block';
  /** `RES`, `CONCAT`, `MUL`, `DIV` or `AUX`. */
  type: BlockKeyword;
  /**
   * The chains between `|`, in order (RES: body then shortcut; DIV: dividend then divisor). Only MUL
   * and DIV take an empty chain (no elements), which stands for the block's input.
   */
  branches: Chain[];
  /** Where the keyword is. */
  loc: Location;
}

/** `basic(128, 2)`: an instance of a `def` block. */
export interface CallNode {
  /** Discriminates the Item union. */
  kind: 'call';
  /** The `def`'s name. */
  name: string;
  /** Values for the def's parameters, in order. */
  args: Num[];
  /** Where the name is. */
  loc: Location;
}

/** What one element of a chain holds: a layer, a group, a block or a call. */
export type Item = LayerNode | GroupNode | BlockNode | CallNode;

/** One step of a chain with its label and postfixes: `features: [ ... ]`, `[ ... ]*N`, `POOL?`. */
export interface Element {
  /** `features:` before the item, naming its layers `features.0`, `features.1`, ...; null when unlabelled. */
  label: string | null;
  /** The layer, group, block or call. */
  item: Item;
  /** `*N`: repeat the item N times. */
  repeat: Num | null;
  /** `?` or `?NAME`: keep the item only when the variable is non-zero; `name` is null for plain `?`. */
  optional: { name: string | null } | null;
  /** Where the element starts. */
  loc: Location;
}

/** `a -> b -> c`. */
export interface Chain {
  /** The steps, in order; none only for an empty branch of MUL or DIV. */
  elements: Element[];
  /** Where the chain starts. */
  loc: Location;
}

/** `def name(A, B) = chain`. */
export interface Def {
  /** The name calls use. */
  name: string;
  /** Parameter names, bound to the call's arguments in order. */
  params: string[];
  /** The chain a call expands to. */
  body: Chain;
  /** Where `def` is. */
  loc: Location;
}

/** `let N = 2`: a default the caller may override. */
export interface Let {
  /** The variable's name, upper case by convention. */
  name: string;
  /** Its default value. */
  value: number;
  /** Where `let` is. */
  loc: Location;
}

/** A whole text: blocks, defaults, and the net's chain. */
export interface Program {
  /** The `def` blocks, in order. */
  defs: Def[];
  /** The `let` defaults, in order. */
  lets: Let[];
  /** The net's chain, from INPUT to the output. */
  body: Chain;
  /** The text it was parsed from, for error excerpts. */
  source: string;
}
