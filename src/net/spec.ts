import type { OpAttrs, OpType } from '../ops/index.js';
import type { Shape } from '../tensor/shape.js';

/** Where a layer came from in notation text, for error messages. */
export interface SourceSpan {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The layer as written, e.g. `CONV3-64`. */
  text: string;
}

/** One layer of a net: its op, attributes, and the nodes it reads. */
export type NodeSpec = {
  [K in OpType]: {
    /** Unique; parameters are named `<name>.<param>` as in PyTorch's state_dict (`features.0.weight`). */
    name: string;
    op: K;
    attrs: OpAttrs[K];
    /** Names of the nodes this one reads; `input` is the image batch. */
    inputs: string[];
    source?: SourceSpan;
  };
}[OpType];

/**
 * A whole net as data: what the notation compiles to, what the zoo holds and what a model file
 * stores. Nodes are listed in an order where each comes after the nodes it reads; the last node is
 * the output.
 */
export interface NetSpec {
  /** One image's shape, [C, H, W]. */
  input: Shape;
  /** The layers, each after the nodes it reads; the last is the output. */
  nodes: NodeSpec[];
}

/** The name a node lists in `inputs` to read the image batch. */
export const INPUT_NODE = 'input';
