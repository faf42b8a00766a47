import type { NodeSpec } from '../../net/spec.js';
import type { Shape } from '../../tensor/shape.js';
import { mergedPairs } from './pairs.js';

/**
 * ADAPTIVEPOOL nodes of an import made whole: adaptive average pooling over the width followed by
 * adaptive average pooling over the height (how convstack's export writes an ADAPTIVEPOOL with uneven
 * windows, two MatMuls by window means), the first read only by the second, is one ADAPTIVEPOOL to
 * both sizes, under the second's name. Each window is a rectangle, so the mean over it is the mean
 * over its rows of the means over its columns: the same function. `shapes` gives each value's
 * per-image shape by node name (`input` for the images).
 */
export function mergedAdaptivePools(nodes: readonly NodeSpec[], shapes: ReadonlyMap<string, Shape>): NodeSpec[] {
  return mergedPairs(nodes, (first, node) => {
    if (node.op !== 'adaptiveavgpool' || first.op !== 'adaptiveavgpool') return false;
    const input = shapes.get(first.inputs[0] ?? '');
    if (input?.length !== 3) return false;
    const [, h, w] = input as [number, number, number];
    const [h1, w1] = first.attrs.output;
    const [h2, w2] = node.attrs.output;
    // One pools only the width and the other only the height (in either order).
    return (h1 === h && w2 === w1) || (w1 === w && h2 === h1);
  });
}
