import type { NodeSpec } from '../../net/spec.js';

/**
 * `nodes` with pairs made one: where a node's first input is another node of which it is the only
 * reader, and `merge(first, node)` says they are one layer (doing what that takes, such as folding
 * weights), the node reads the first one's inputs instead and the first one goes. The passes that
 * undo how the export writes a layer as two ONNX nodes (affines.ts, adaptive.ts) share it.
 */
export function mergedPairs(nodes: readonly NodeSpec[], merge: (first: NodeSpec, node: NodeSpec) => boolean): NodeSpec[] {
  const readers = new Map<string, number>();
  for (const node of nodes) for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const dropped = new Set<string>();
  const merged = nodes.map((node): NodeSpec => {
    const first = byName.get(node.inputs[0] ?? '');
    if (first === undefined || readers.get(first.name) !== 1 || !merge(first, node)) return node;
    dropped.add(first.name);
    return { ...node, inputs: first.inputs };
  });
  return merged.filter((node) => !dropped.has(node.name));
}
