import { ops, type OpAttrs, type OpType } from '../../ops/index.js';
import { toNetSpec } from '../../notation/index.js';
import type { Shape } from '../../tensor/shape.js';

/**
 * convstack's export writes each layer's notation (`POOL2`, `BN(eps=0.001)`) in the doc_string of the
 * layer's last ONNX node. ONNX cannot say some of it: it has no `exact` rounding (a POOL2 is a floor
 * MaxPool), and its float attributes are float32. Where the doc_string's layer is the op imported and
 * computes the same function (the same attributes up to float32, the same output shape), the import
 * keeps the written attributes, so that a net comes back as it was written.
 */
export function writtenAttrs<K extends OpType>(doc: string, op: K, imported: OpAttrs[K], inputs: readonly Shape[], output: Shape): OpAttrs[K] {
  const layer = parsedLayer(doc, inputs[0] ?? []);
  if (layer === null || layer.op !== op) return imported;
  const written = layer.attrs as OpAttrs[K];
  if (!sameUpToRounding(written, imported)) return imported;
  try {
    return (ops[op] as (typeof ops)[K]).outputShape(inputs, written as never).join() === output.join() ? written : imported;
  } catch {
    return imported;
  }
}

/** The one layer `doc` writes, resolved on an input of `shape`; null when it is no single layer. */
export function parsedLayer(doc: string, shape: Shape): { op: OpType; attrs: unknown } | null {
  if (doc.trim() === '' || doc.includes('->') || doc.includes('\n')) return null;
  const [c, h, w] = shape.length === 3 ? (shape as [number, number, number]) : [shape[0] ?? 1, 1, 1];
  try {
    const nodes = toNetSpec(`INPUT[${h}x${w}x${c}] -> ${doc}`).nodes;
    return nodes.length === 1 ? (nodes[0] as { op: OpType; attrs: unknown }) : null;
  } catch {
    return null;
  }
}

/** Equal attributes, numbers compared as float32, a window's `rounding` left out (the output shapes decide it). */
function sameUpToRounding(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.fround(a) === Math.fround(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameUpToRounding(v, b[i]));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => k !== 'rounding'));
  return [...keys].every((k) => sameUpToRounding((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
