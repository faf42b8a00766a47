import type { NodeView, Value } from '../context.js';

/** Imports one ONNX node: its outputs' values, in the node's output order. */
export type OpImporter = (node: NodeView) => Value[];
