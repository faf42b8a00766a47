import { sizeOf } from '../../../tensor/shape.js';
import { weightTensor, type NetValue, type Value } from '../context.js';
import type { OpImporter } from './types.js';

/**
 * Concat(inputs; axis): of known tensors, folded; of net values along the channels, a CONCAT; of every
 * channel of one image in order, each scaled and shifted (GoogLeNet's `transform_input`), an AFFINE.
 */
export const Concat: OpImporter = (n) => {
  const inputs = n.proto.input.map((_, i) => n.input(i) ?? n.fail(`input ${i + 1} is missing`));
  const axis = n.int('axis', 0);
  if (inputs.every((v) => v.kind === 'const')) {
    const tensors = inputs.map((v) => v.tensor);
    const first = tensors[0] ?? n.fail('no inputs');
    const a = axis < 0 ? axis + first.dims.length : axis;
    const outer = sizeOf(first.dims.slice(0, a));
    n.ctx.reserve(n, outer * tensors.reduce((sum, t) => sum + sizeOf(t.dims.slice(a)), 0));
    const data: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const t of tensors) {
        const block = sizeOf(t.dims.slice(a));
        for (let i = 0; i < block; i++) data.push(t.data[o * block + i] as number);
      }
    }
    const dims = [...first.dims];
    dims[a] = tensors.reduce((s, t) => s + (t.dims[a] ?? 0), 0);
    return [{ kind: 'const', tensor: { dims, data: Float64Array.from(data), integer: first.integer } }];
  }
  if (inputs.every((v) => v.kind === 'channel')) return [joinChannels(n, inputs)];
  const nets = inputs.filter((v): v is NetValue => v.kind === 'net');
  if (nets.length !== inputs.length) n.fail('a mix of computed and known tensors is not supported');
  const rank = (nets[0]?.shape.length ?? 0) + 1;
  if (axis !== 1 && axis !== 1 - rank) n.fail(`axis ${axis}: only the channel axis (1) is supported`);
  return [n.ctx.add(n, 'concat', {}, nets)];
};

/** The channels of one source, in order and all of them, each with its scale and shift: one AFFINE. */
function joinChannels(n: Parameters<OpImporter>[0], slices: Extract<Value, { kind: 'channel' }>[]): Value {
  const source = (slices[0] ?? n.fail('no inputs')).source;
  const whole = slices.length === source.shape[0] && slices.every((s, i) => s.source.node === source.node && s.channel === i && s.keepsAxis);
  if (!whole) n.fail("only every channel of one tensor, in order, can be joined back from channel slices");
  const shape = source.shape.map((d, axis) => (axis === 0 ? d : 1));
  const params = { scale: weightTensor(shape, slices.map((s) => s.scale)), shift: weightTensor(shape, slices.map((s) => s.shift)) };
  return n.ctx.add(n, 'affine', {}, [source], params);
}
