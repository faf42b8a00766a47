import type { OpType } from '../../ops/index.js';
import type { NodeSpec } from '../../net/spec.js';
import type { Shape } from '../../tensor/shape.js';
import { FC, FLATTEN } from './dense.js';
import { BN, DROPOUT, LRN, RELU, SOFTMAX } from './elementwise.js';
import { BLOCK_NAMES, LAYER_NAMES, type BlockKeyword, type LayerKeyword } from './names.js';
import type { KeywordEntry, OnnxNode } from './types.js';
import { AFFINE, LEAKYRELU, PAD } from './imported.js';
import { ADAPTIVEPOOL, AVGPOOL, CONV, GAP, POOL } from './window.js';

/**
 * Every layer keyword of the notation, one entry each, in the order error messages list them.
 * The lexer, parser, desugar, the table's layer column and the ONNX writer all read this table.
 */
export const LAYERS = { CONV, POOL, AVGPOOL, GAP, FC, RELU, BN, DROPOUT, LRN, SOFTMAX, FLATTEN, PAD, AFFINE, LEAKYRELU, ADAPTIVEPOOL } as const satisfies Record<Exclude<LayerKeyword, 'INPUT'>, unknown>;

/** Keywords that take a bracketed body, and the op that joins their branches (an AUX head joins nothing). */
export const BLOCKS = {
  RES: { join: 'add', written: 'ADD', onnx: [{ op: 'Add', params: [], attrs: [] }] },
  CONCAT: { join: 'concat', written: 'CONCAT', onnx: [{ op: 'Concat', params: [], attrs: [{ name: 'axis', int: 1 }] }] },
  MUL: { join: 'mul', written: 'MUL', onnx: [{ op: 'Mul', params: [], attrs: [] }] },
  DIV: { join: 'div', written: 'DIV', onnx: [{ op: 'Div', params: [], attrs: [] }] },
  AUX: { join: null, written: null, onnx: [] },
} as const satisfies Record<BlockKeyword, { join: OpType | null; written: string | null; onnx: OnnxNode[] }>;

export type { BlockKeyword, LayerKeyword } from './names.js';

/** Layer keywords as error messages list them: INPUT first. */
export const LAYER_KEYWORDS: readonly LayerKeyword[] = ['INPUT', ...LAYER_NAMES];
/** Block keywords, in the order error messages list them. */
export const BLOCK_KEYWORDS: readonly BlockKeyword[] = BLOCK_NAMES;

/** The entry of a layer keyword other than INPUT. */
export function entryOf(keyword: Exclude<LayerKeyword, 'INPUT'>): KeywordEntry {
  return LAYERS[keyword] as KeywordEntry;
}

const BY_OP = new Map<string, KeywordEntry>(Object.values(LAYERS).map((entry) => [entry.op, entry as KeywordEntry]));
const JOIN_BY_OP = new Map<string, (typeof BLOCKS)[BlockKeyword]>(Object.values(BLOCKS).flatMap((b) => (b.join === null ? [] : [[b.join, b]])));

/**
 * A node as notation with its defaults made explicit where they matter: a bare `CONV` reads
 * `CONV3-32`, `POOL3(s=2, ceil)` keeps its stride and rounding. This is the table's layer column.
 */
export function layerText(node: NodeSpec): string {
  const entry = BY_OP.get(node.op);
  if (entry !== undefined) return entry.write(node.attrs);
  return JOIN_BY_OP.get(node.op)?.written ?? node.op.toUpperCase();
}

/** The ONNX nodes (opset 13) for a node whose first input has per-image shape `input`. */
export function onnxNodes(node: NodeSpec, input: Shape): readonly OnnxNode[] {
  const entry = BY_OP.get(node.op);
  if (entry !== undefined) return entry.onnx(node.attrs, input);
  const join = JOIN_BY_OP.get(node.op);
  if (join === undefined) throw new Error(`no ONNX lowering for op '${node.op}'`);
  return join.onnx;
}

/** Whether a node of `op` overwrites its input (RELU, DROPOUT, FLATTEN): no row in the notes' table. */
export function appliedInPlace(op: OpType): boolean {
  return BY_OP.get(op)?.inPlace === true;
}

export { DEFAULTS } from './defaults.js';
export { readAttrs } from './attrs.js';
export type { KeywordEntry, OnnxAttr, OnnxConstant, OnnxNode, ResolveContext, WrittenAttrs } from './types.js';
