import type { NetSpec } from '../../net/spec.js';
import { toNetSpec } from '../../notation/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { OnnxError } from './errors.js';
import type { ImportedModel } from './import.js';
import { specToNotation } from './notation.js';

/** An imported net as the notation writes it: the text, its compiled spec, and the weights by that spec's names. */
export interface NotatedModel {
  /** The notation text that describes the net (what a model file stores as its architecture). */
  text: string;
  /** The spec `text` compiles to, its nodes named by the notation rather than by the ONNX file. */
  spec: NetSpec;
  /** The imported weights under `spec`'s node names (`<node>.<param>`); the same Tensor objects as the import's, not copies. */
  weights: Map<string, Tensor>;
}

/**
 * The imported net as notation text, compiled back, with each weight renamed from the imported node's
 * name to the name the notation gives the same layer, so that a model file of text and weights loads.
 */
export function asNotation(imported: ImportedModel, origin: string): NotatedModel {
  const { text, order } = specToNotation(imported.spec, origin);
  const spec = toNetSpec(text);
  const byName = new Map(imported.spec.nodes.map((node) => [node.name, node]));
  if (spec.nodes.length !== order.length) throw new OnnxError(`${origin}: the notation written for the net compiles to ${spec.nodes.length} layers, not ${order.length}`);
  const weights = new Map<string, Tensor>();
  spec.nodes.forEach((node, i) => {
    const original = byName.get(order[i] as string);
    if (original?.op !== node.op) throw new OnnxError(`${origin}: layer ${i + 1} of the written notation is ${node.op}, the imported net's ${original?.op}`);
    for (const [name, tensor] of imported.weights) {
      if (name.startsWith(`${original.name}.`)) weights.set(`${node.name}${name.slice(original.name.length)}`, tensor);
    }
  });
  return { text, spec, weights };
}
