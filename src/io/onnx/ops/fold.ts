import { sizeOf } from '../../../tensor/shape.js';
import type { NodeView, Value } from '../context.js';
import { constTensor, type ConstTensor } from '../tensor.js';
import type { OpImporter } from './types.js';

/**
 * The shape-computing ops, folded at import as ONNX's own optimizer does: Constant, Shape, Gather,
 * Unsqueeze, Squeeze, Concat (of known tensors; of net values it is a CONCAT), Slice and Cast.
 */

/** Row-major strides of `dims`. */
function strides(dims: readonly number[]): number[] {
  const s = dims.map(() => 1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (dims[i + 1] as number);
  return s;
}

/** Element-wise `f` of two known tensors with numpy broadcasting. */
export function broadcast(n: NodeView, a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number): ConstTensor {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]): number[] => [...Array(rank - d.length).fill(1), ...d];
  const [da, db] = [pad(a.dims), pad(b.dims)];
  const dims = da.map((x, i) => {
    const y = db[i] as number;
    if (x !== y && x !== 1 && y !== 1) n.fail(`shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`);
    return Math.max(x, y);
  });
  const [sa, sb, so] = [strides(da), strides(db), strides(dims)];
  n.ctx.reserve(n, sizeOf(dims));
  const out = new Float64Array(sizeOf(dims));
  for (let i = 0; i < out.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let axis = 0; axis < rank; axis++) {
      const k = Math.floor(i / (so[axis] as number)) % (dims[axis] as number);
      if (da[axis] !== 1) ia += k * (sa[axis] as number);
      if (db[axis] !== 1) ib += k * (sb[axis] as number);
    }
    out[i] = f(a.data[ia] as number, b.data[ib] as number);
  }
  return { dims, data: out, integer: a.integer && b.integer };
}

const known = (tensor: ConstTensor): Value => ({ kind: 'const', tensor });

/** Constant(; value | value_float | value_floats | value_int | value_ints). */
export const Constant: OpImporter = (n) => {
  const tensor = n.tensor('value');
  if (tensor !== null) return [known(tensor)];
  if (n.has('value_float')) return [known(constTensor([], [n.float('value_float', 0)], false))];
  if (n.has('value_int')) return [known(constTensor([], [n.int('value_int', 0)], true))];
  if (n.has('value_ints')) {
    const ints = n.ints('value_ints', []);
    return [known(constTensor([ints.length], ints, true))];
  }
  const floats = n.proto.attribute.find((a) => a.name === 'value_floats')?.floats;
  if (floats !== undefined) return [known(constTensor([floats.length], floats, false))];
  return n.fail('no value convstack reads (sparse and string constants are not supported)');
};

/** Shape(data; start = 0, end): a net value's shape is its batch and per-image shape. */
export const Shape: OpImporter = (n) => {
  const x = n.input(0) ?? n.fail('no input');
  const dims = x.kind === 'const' ? x.tensor.dims : x.kind === 'net' ? [n.ctx.batch, ...x.shape] : n.fail('the shape of a channel slice');
  const clamp = (i: number): number => Math.min(dims.length, Math.max(0, i < 0 ? i + dims.length : i));
  const part = dims.slice(clamp(n.int('start', 0)), clamp(n.int('end', dims.length)));
  return [known(constTensor([part.length], part, true))];
};

/** Gather(data, indices; axis = 0) of known tensors, or one channel of the images (axis 1, a scalar index). */
export const Gather: OpImporter = (n) => {
  const data = n.input(0) ?? n.fail('no data');
  const indices = n.constInput(1) ?? n.fail('no indices');
  const axis = n.int('axis', 0);
  if (data.kind === 'net') {
    if ((axis !== 1 && axis !== -(data.shape.length + 1)) || indices.dims.length !== 0) n.fail('only a single channel (axis 1, one index) of a computed tensor can be gathered');
    const channels = data.shape[0] as number;
    const channel = (indices.data[0] as number) < 0 ? (indices.data[0] as number) + channels : (indices.data[0] as number);
    return [{ kind: 'channel', source: data, channel, keepsAxis: false, scale: 1, shift: 0 }];
  }
  if (data.kind !== 'const') return n.fail('unexpected input');
  const t = data.tensor;
  const a = axis < 0 ? axis + t.dims.length : axis;
  const size = t.dims[a] ?? n.fail(`axis ${axis} of a ${t.dims.length}-D tensor`);
  const outer = sizeOf(t.dims.slice(0, a));
  const inner = sizeOf(t.dims.slice(a + 1));
  n.ctx.reserve(n, outer * indices.data.length * inner);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.data) {
      const index = raw < 0 ? raw + size : raw;
      if (index < 0 || index >= size) n.fail(`index ${raw} is outside a dimension of ${size}`);
      for (let i = 0; i < inner; i++) out.push(t.data[(o * size + index) * inner + i] as number);
    }
  }
  return [known(constTensor([...t.dims.slice(0, a), ...indices.dims, ...t.dims.slice(a + 1)], out, t.integer))];
};

/** The axes of Unsqueeze and Squeeze: an attribute before opset 13, an input after. */
function axesOf(n: NodeView): number[] | null {
  if (n.ctx.opset < 13) return n.has('axes') ? n.ints('axes', []) : null;
  const t = n.constInput(1);
  return t === null ? null : Array.from(t.data);
}

/** Unsqueeze(data, axes): folded, or a channel slice given its axis back. */
export const Unsqueeze: OpImporter = (n) => {
  const x = n.input(0) ?? n.fail('no data');
  const axes = axesOf(n) ?? n.fail('no axes');
  if (x.kind === 'channel') {
    if (axes.length !== 1 || (axes[0] !== 1 && axes[0] !== -3) || x.keepsAxis) n.fail('only the channel axis (1) can be given back to a channel slice');
    return [{ ...x, keepsAxis: true }];
  }
  const t = x.kind === 'const' ? x.tensor : n.fail('unsqueezing a computed tensor is not supported');
  const rank = t.dims.length + axes.length;
  const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(at.has(i) ? 1 : (t.dims[j++] as number));
  return [known({ ...t, dims })];
};

/** Squeeze(data, axes?) of a known tensor. */
export const Squeeze: OpImporter = (n) => {
  const t = n.constInput(0) ?? n.fail('no data');
  const axes = axesOf(n);
  const drop = new Set((axes ?? t.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a < 0 ? a + t.dims.length : a)));
  return [known({ ...t, dims: t.dims.filter((_, i) => !drop.has(i)) })];
};

/** Cast(input; to) of a known tensor: an integer type truncates. */
export const Cast: OpImporter = (n) => {
  const t = n.constInput(0) ?? n.fail('only a tensor known at import can be cast');
  const to = n.int('to', 1);
  const integer = [2, 3, 4, 5, 6, 7, 9, 12, 13].includes(to);
  n.ctx.reserve(n, t.data.length);
  return [known({ dims: t.dims, data: integer ? t.data.map(Math.trunc) : t.data, integer })];
};

/** Slice(data, starts, ends, axes?, steps?) of a known tensor; attributes before opset 10. */
export const Slice: OpImporter = (n) => {
  const t = n.constInput(0) ?? n.fail('only a tensor known at import can be sliced');
  const list = (i: number, attr: string): number[] | null => (n.ctx.opset < 10 ? (n.has(attr) ? n.ints(attr, []) : null) : (() => { const c = n.constInput(i); return c === null ? null : Array.from(c.data); })());
  const starts = list(1, 'starts') ?? n.fail('no starts');
  const ends = list(2, 'ends') ?? n.fail('no ends');
  const axes = list(3, 'axes') ?? starts.map((_, i) => i);
  const steps = list(4, 'steps') ?? starts.map(() => 1);
  const ranges = t.dims.map((d) => ({ start: 0, end: d, step: 1 }));
  axes.forEach((raw, k) => {
    const axis = raw < 0 ? raw + t.dims.length : raw;
    const d = t.dims[axis] ?? n.fail(`axis ${raw} of a ${t.dims.length}-D tensor`);
    const step = steps[k] as number;
    if (step === 0) n.fail('a step of 0');
    const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
    const [lo, hi] = step > 0 ? [0, d] : [-1, d - 1];
    ranges[axis] = { start: clamp(starts[k] as number, lo, hi), end: clamp(ends[k] as number, lo, hi), step };
  });
  const picks = ranges.map(({ start, end, step }) => {
    const out: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
    return out;
  });
  const src = strides(t.dims);
  const dims = picks.map((p) => p.length);
  const data: number[] = [];
  const visit = (axis: number, offset: number): void => {
    if (axis === dims.length) {
      data.push(t.data[offset] as number);
      return;
    }
    for (const i of picks[axis] as number[]) visit(axis + 1, offset + i * (src[axis] as number));
  };
  n.ctx.reserve(n, sizeOf(dims));
  if (sizeOf(dims) > 0) visit(0, 0);
  return [known(constTensor(dims, data, t.integer))];
};
