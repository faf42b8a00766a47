import type { AdaptiveAvgPoolAttrs, AvgPoolAttrs } from '../../ops/attrs.js';
import { ops, type OpAttrs, type OpType } from '../../ops/index.js';
import { adaptiveWindow } from '../../ops/window.js';
import { toNetSpec } from '../../notation/index.js';
import type { Shape } from '../../tensor/shape.js';

/**
 * convstack's export writes each layer's notation (`POOL2`, `BN(eps=0.001)`) in the doc_string of the
 * layer's last ONNX node. ONNX cannot say some of it: it has no `exact` rounding (a POOL2 is a floor
 * MaxPool), its float attributes are float32, and it has no adaptive pooling (an ADAPTIVEPOOL whose
 * windows tile the input evenly is an AveragePool). Where the doc_string's layer computes the same
 * function as the op imported (the same op with the same attributes up to float32, or an ADAPTIVEPOOL
 * whose windows are the average pool's, and the same output shape), the import keeps the written
 * layer, so that a net comes back as it was written.
 */
export function writtenLayer<K extends OpType>(doc: string, op: K, imported: OpAttrs[K], inputs: readonly Shape[], output: Shape): { op: OpType; attrs: unknown } {
  const importedLayer = { op, attrs: imported };
  const layer = parsedLayer(doc, inputs[0] ?? []);
  if (layer === null) return importedLayer;
  const same = layer.op === op ? sameUpToRounding(layer.attrs, imported) : layer.op === 'adaptiveavgpool' && op === 'avgpool' && sameWindows(layer.attrs as AdaptiveAvgPoolAttrs, imported as AvgPoolAttrs, inputs[0] ?? []);
  if (!same) return importedLayer;
  try {
    return ops[layer.op].outputShape(inputs, layer.attrs as never).join() === output.join() ? layer : importedLayer;
  } catch {
    return importedLayer;
  }
}

/** An average pool without padding whose every window, on an input of `shape`, is the adaptive pool's. */
function sameWindows(adaptive: AdaptiveAvgPoolAttrs, pool: AvgPoolAttrs, shape: Shape): boolean {
  if (shape.length !== 3 || pool.padding.some((p) => p !== 0)) return false;
  return [0, 1].every((axis) => {
    const size = shape[axis + 1] as number;
    const out = adaptive.output[axis] as number;
    const [k, s] = [pool.kernel[axis] as number, pool.stride[axis] as number];
    return Array.from({ length: out }, (_, i) => adaptiveWindow(i, size, out)).every(([start, end], i) => start === i * s && end === i * s + k);
  });
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
