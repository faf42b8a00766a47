import type { NodeSpec } from '../../net/spec.js';
import { Tensor } from '../../tensor/tensor.js';
import { mergedPairs } from './pairs.js';
import { parsedLayer } from './written.js';

/**
 * AFFINE nodes of an import made whole: a Mul by a per-channel constant followed by an Add (how
 * `x * scale + shift` exports) is two AFFINEs, the first read only by the second; they become one,
 * scale = s1 * s2 and shift = t1 * s2 + t2, under the second's name. Where convstack's export wrote
 * the layer's values in the notation (`AFFINE(scale=..., shift=...)`, its doc_string) and they are the
 * buffers' to float32, the node takes the written values and the buffers go.
 */
export function mergedAffines(nodes: readonly NodeSpec[], weights: Map<string, Tensor>, docs: ReadonlyMap<string, string>): NodeSpec[] {
  const merged = mergedPairs(nodes, (first, node) => {
    if (!buffered(first, weights) || !buffered(node, weights)) return false;
    const [s1, t1, s2, t2] = [`${first.name}.scale`, `${first.name}.shift`, `${node.name}.scale`, `${node.name}.shift`].map((n) => weights.get(n) as Tensor) as [Tensor, Tensor, Tensor, Tensor];
    if (s1.size !== s2.size) return false;
    weights.set(`${node.name}.scale`, Tensor.from(s2.shape, s1.data.map((v, c) => v * (s2.data[c] as number)), 'float32'));
    weights.set(`${node.name}.shift`, Tensor.from(s2.shape, t1.data.map((v, c) => v * (s2.data[c] as number) + (t2.data[c] as number)), 'float32'));
    weights.delete(`${first.name}.scale`);
    weights.delete(`${first.name}.shift`);
    return true;
  });
  return merged.map((node) => (node.op === 'affine' ? withWrittenValues(node, weights, docs.get(node.name)) : node));
}

/** An AFFINE whose values are buffers (bare `AFFINE`). */
function buffered(node: NodeSpec, weights: ReadonlyMap<string, Tensor>): boolean {
  return node.op === 'affine' && node.attrs.scale === undefined && weights.has(`${node.name}.scale`) && weights.has(`${node.name}.shift`);
}

/** The AFFINE with the values its doc_string writes, when they are its buffers' to float32 (the buffers then go). */
function withWrittenValues(node: NodeSpec, weights: Map<string, Tensor>, doc: string | undefined): NodeSpec {
  if (doc === undefined || !buffered(node, weights)) return node;
  const scale = weights.get(`${node.name}.scale`) as Tensor;
  const shift = weights.get(`${node.name}.shift`) as Tensor;
  const written = parsedLayer(doc, [scale.size, 1, 1]);
  if (written?.op !== 'affine') return node;
  const values = written.attrs as { scale?: number[]; shift?: number[] };
  const same = (w: number[] | undefined, t: Tensor): boolean => w !== undefined && w.length === t.size && w.every((v, c) => Math.fround(v) === Math.fround(t.data[c] as number));
  if (!same(values.scale, scale) || !same(values.shift, shift)) return node;
  weights.delete(`${node.name}.scale`);
  weights.delete(`${node.name}.shift`);
  return { ...node, attrs: { scale: values.scale as number[], shift: values.shift as number[] } } as NodeSpec;
}
