import type { NodeSpec } from '../../net/spec.js';
import type { Shape } from '../../tensor/shape.js';

/**
 * ADAPTIVEPOOL nodes of an import made whole: adaptive average pooling over the width followed by
 * adaptive average pooling over the height (how convstack's export writes an ADAPTIVEPOOL with uneven
 * windows, two MatMuls by window means), the first read only by the second, is one ADAPTIVEPOOL to
 * both sizes, under the second's name. Each window is a rectangle, so the mean over it is the mean
 * over its rows of the means over its columns: the same function. `shapes` gives each value's
 * per-image shape by node name (`input` for the images).
 */
export function mergedAdaptivePools(nodes: readonly NodeSpec[], shapes: ReadonlyMap<string, Shape>): NodeSpec[] {
  const readers = new Map<string, number>();
  for (const node of nodes) for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const dropped = new Set<string>();
  const merged = nodes.map((node): NodeSpec => {
    const first = byName.get(node.inputs[0] ?? '');
    if (node.op !== 'adaptiveavgpool' || first?.op !== 'adaptiveavgpool' || readers.get(first.name) !== 1) return node;
    const input = shapes.get(first.inputs[0] ?? '');
    if (input?.length !== 3) return node;
    const [, h, w] = input as [number, number, number];
    const [h1, w1] = first.attrs.output;
    const [h2, w2] = node.attrs.output;
    // One pools only the width and the other only the height (in either order).
    const orthogonal = (h1 === h && w2 === w1) || (w1 === w && h2 === h1);
    if (!orthogonal) return node;
    dropped.add(first.name);
    return { ...node, inputs: first.inputs };
  });
  return merged.filter((node) => !dropped.has(node.name));
}
