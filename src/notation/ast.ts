import type { Location } from './errors.js';
import type { BlockKeyword, LayerKeyword } from './keywords/index.js';

/** A number as written, or a variable bound by the caller, a `let` or a block's parameter. */
export type Num = { kind: 'num'; value: number; loc: Location } | { kind: 'var'; name: string; loc: Location };

/** One entry of a layer's attribute list: `s=2`, `p=1x0`, a flag such as `ceil`, or a positional `0.5`. */
export interface Attr {
  /** Absent for a positional value (`DROPOUT(0.5)`). */
  name: string | null;
  /** Absent for a flag (`ceil`); two numbers for `1x0`. */
  value: Num[] | null;
  loc: Location;
}

/** A layer: `CONV3-64(s=2)`, `POOL2`, `FC-4096`, `INPUT[224x224x3]`, `RELU`. */
export interface LayerNode {
  kind: 'layer';
  type: LayerKeyword;
  /** Filter size (`3` or `1x7`) or, for INPUT, the volume (`224x224x3`). */
  size: Num[] | null;
  /** Filters of a CONV, outputs of an FC: the number after `-`. */
  count: Num | null;
  attrs: Attr[];
  loc: Location;
}

/** `[a -> b]`: a sub-chain, spliced into its parent unless labelled. */
export interface GroupNode {
  kind: 'group';
  body: Chain;
  loc: Location;
}

/** `RES[body]`, `RES[body | shortcut]`, `CONCAT[a | b | ...]`, `AUX[head]`. */
export interface BlockNode {
  kind: 'block';
  type: BlockKeyword;
  branches: Chain[];
  loc: Location;
}

/** `basic(128, 2)`: an instance of a `def` block. */
export interface CallNode {
  kind: 'call';
  name: string;
  args: Num[];
  loc: Location;
}

export type Item = LayerNode | GroupNode | BlockNode | CallNode;

/** One step of a chain with its label and postfixes: `features: [ ... ]`, `[ ... ]*N`, `POOL?`. */
export interface Element {
  label: string | null;
  item: Item;
  /** `*N`: repeat the item N times. */
  repeat: Num | null;
  /** `?` or `?NAME`: keep the item only when the variable is non-zero; `name` is null for plain `?`. */
  optional: { name: string | null } | null;
  loc: Location;
}

/** `a -> b -> c`. */
export interface Chain {
  elements: Element[];
  loc: Location;
}

/** `def name(A, B) = chain`. */
export interface Def {
  name: string;
  params: string[];
  body: Chain;
  loc: Location;
}

/** `let N = 2`: a default the caller may override. */
export interface Let {
  name: string;
  value: number;
  loc: Location;
}

/** A whole text: blocks, defaults, and the net's chain. */
export interface Program {
  defs: Def[];
  lets: Let[];
  body: Chain;
  /** The text it was parsed from, for error excerpts. */
  source: string;
}
