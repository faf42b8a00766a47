import { weightTensor, type NetValue, type NodeView, type Value } from '../context.js';
import { broadcast } from './fold.js';
import { parsedLayer } from '../written.js';
import type { OpImporter } from './types.js';

/** Relu, LeakyRelu, BatchNormalization, LRN, Softmax, Dropout, Identity, and Add/Sub/Mul/Div. */

export const Relu: OpImporter = (n) => [n.ctx.add(n, 'relu', {}, [n.netInput(0)])];

/** LeakyRelu(X; alpha = 0.01). */
export const LeakyRelu: OpImporter = (n) => [n.ctx.add(n, 'leakyrelu', { alpha: n.float('alpha', 0.01) }, [n.netInput(0)])];

/**
 * Identity(input): the same value; a DROPOUT where convstack's export wrote one (its doc_string, see
 * written.ts), as ONNX's inference graph has no dropout.
 */
export const Identity: OpImporter = (n) => {
  const value = n.input(0) ?? n.fail('no input');
  const written = value.kind === 'net' && n.proto.docString.startsWith('DROPOUT') ? parsedLayer(n.proto.docString, value.shape) : null;
  if (written?.op !== 'dropout' || value.kind !== 'net') return [value];
  return [n.ctx.add(n, 'dropout', written.attrs as { p: number }, [value])];
};

/** Dropout(data, ratio?, training_mode?; ratio = 0.5 before opset 12): the identity at inference. */
export const Dropout: OpImporter = (n) => {
  if (n.ctx.opset >= 12 && (n.constInput(2)?.data[0] ?? 0) !== 0) n.fail('training_mode=true is not supported (import is for inference)');
  const p = n.ctx.opset >= 12 ? (n.constInput(1)?.data[0] ?? 0.5) : n.float('ratio', 0.5);
  const mask: Value = { kind: 'absent', why: "a Dropout mask, which convstack's import does not compute" };
  return [n.ctx.add(n, 'dropout', { p }, [n.netInput(0)]), mask];
};

/**
 * BatchNormalization(X, scale, B, input_mean, input_var; epsilon = 1e-5, momentum = 0.9,
 * training_mode = 0), inference only. NOTE: ONNX's momentum keeps that much of the running value,
 * PyTorch's (and convstack's) adds that much of the batch's: one is 1 minus the other.
 */
export const BatchNormalization: OpImporter = (n) => {
  if (n.int('training_mode', 0) !== 0 || (n.proto.output.length > 1 && n.proto.output.slice(1).some((o) => o !== ''))) {
    n.fail('training mode (more than one output) is not supported');
  }
  if (n.int('spatial', 1) !== 1) n.fail('spatial=0 is not supported');
  const x = n.netInput(0);
  const channels = x.shape[0] as number;
  const param = (i: number, what: string): Float64Array => {
    const t = n.constInput(i) ?? n.fail(`no ${what}`);
    if (t.data.length !== channels) n.fail(`${what} has ${t.data.length} values for ${channels} channels`);
    return t.data;
  };
  const params = {
    weight: weightTensor([channels], param(1, 'scale')),
    bias: weightTensor([channels], param(2, 'B')),
    running_mean: weightTensor([channels], param(3, 'input_mean')),
    running_var: weightTensor([channels], param(4, 'input_var')),
  };
  // Rounded to float32's precision, so that 0.8 gives 0.2 and not 0.19999999999999996.
  const momentum = Number((1 - n.float('momentum', 0.9)).toPrecision(7));
  return [n.ctx.add(n, 'bn', { eps: n.float('epsilon', 1e-5), momentum }, [x], params)];
};

/** LRN(X; alpha = 1e-4, beta = 0.75, bias = 1, size). */
export const LRN: OpImporter = (n) => {
  const size = n.int('size', 0);
  // NOTE: for an even size ONNX's window reaches one channel further up, PyTorch's (convstack's) one further down.
  if (size < 1 || size % 2 === 0) n.fail(`size ${size}: only an odd size is supported`);
  const attrs = { size, alpha: n.float('alpha', 1e-4), beta: n.float('beta', 0.75), k: n.float('bias', 1) };
  return [n.ctx.add(n, 'lrn', attrs, [n.netInput(0)])];
};

/**
 * Softmax(input; axis = 1 before opset 13, -1 after). From opset 13 over the one axis; before, over
 * everything from the axis on, which convstack computes when that is one axis of more than one value
 * (the others 1) or the scores of a vector. Over the batch axis, it mixes images: refused.
 */
export const Softmax: OpImporter = (n) => {
  const x = n.netInput(0);
  const rank = x.shape.length + 1;
  const written = n.int('axis', n.ctx.opset >= 13 ? -1 : 1);
  const axis = written < 0 ? written + rank : written;
  if (axis < 0 || axis >= rank) n.fail(`axis ${written} is outside a ${rank}-D tensor`);
  if (axis === 0) n.fail('axis 0 is the batch: a softmax across the images is not supported');
  if (x.shape.length === 1) return [n.ctx.add(n, 'softmax', {}, [x])];
  const over = x.shape.slice(axis - 1);
  if (n.ctx.opset < 13 && over.filter((d) => d > 1).length > 1) {
    n.fail(`axis ${written} of a per-image shape [${x.shape.join(', ')}]: before opset 13 that is a softmax over ${over.length} axes together, which is not supported`);
  }
  const single = n.ctx.opset >= 13 ? axis - 1 : axis - 1 + Math.max(0, over.findIndex((d) => d > 1));
  return [n.ctx.add(n, 'softmax', { axis: single }, [x])];
};

type Arithmetic = 'Add' | 'Sub' | 'Mul' | 'Div';
const APPLY: Record<Arithmetic, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b };

/**
 * Add, Sub, Mul, Div: of two known tensors, folded; of two same-shape net values, an ADD (Sub: with an
 * AFFINE of -1 on the second), a MUL or a DIV; of a net value and a scalar or per-channel constant, an AFFINE.
 */
export function arithmetic(op: Arithmetic): OpImporter {
  return (n) => {
    const a = n.input(0) ?? n.fail('no A');
    const b = n.input(1) ?? n.fail('no B');
    if (a.kind === 'const' && b.kind === 'const') return [{ kind: 'const', tensor: broadcast(n, a.tensor, b.tensor, APPLY[op]) }];
    if (a.kind === 'net' && b.kind === 'net') {
      if (a.shape.join() !== b.shape.join()) n.fail(`${op} of two computed tensors of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]: only tensors of equal shapes are supported`);
      if (op === 'Mul') return [n.ctx.add(n, 'mul', {}, [a, b])];
      if (op === 'Div') return [n.ctx.add(n, 'div', {}, [a, b])];
      // a - b is a + (-1) b: an AFFINE on b and an ADD, which the notation writes as RES[... | ... -> AFFINE].
      const second = op === 'Add' ? b : (affineOf(n, b, Array.from({ length: b.shape[0] as number }, () => [-1, 0] as const)) as NetValue);
      return [n.ctx.add(n, 'add', {}, [a, second])];
    }
    if (a.kind === 'const' && (op === 'Div' || op === 'Sub')) {
      if (op === 'Div') n.fail('a constant divided by a computed tensor is not supported');
      return [affineOf(n, b, perChannel(n, b, a.tensor).map((c) => [-1, c] as const))];
    }
    const [value, constant] = a.kind === 'const' ? [b, a] : [a, b];
    if (constant.kind !== 'const') return n.fail('unexpected operands');
    const terms = perChannel(n, value, constant.tensor).map((c) => (op === 'Add' ? [1, c] : op === 'Sub' ? [1, -c] : op === 'Mul' ? [c, 0] : [1 / c, 0]) as readonly [number, number]);
    return [affineOf(n, value, terms)];
  };
}

/** A constant as one value per channel of `x` (a scalar, or (C), (C, 1, 1), (1, C, 1, 1)), or an error. */
function perChannel(n: NodeView, x: Value, c: { dims: number[]; data: Float64Array }): number[] {
  if (x.kind === 'channel') return c.data.length === 1 ? [c.data[0] as number] : n.fail(`a constant of shape [${c.dims.join(', ')}] on one channel of the images`);
  const channels = x.kind === 'net' ? (x.shape[0] as number) : 1;
  const rank = x.kind === 'net' ? x.shape.length + 1 : 2;
  const dims = [...Array(Math.max(0, rank - c.dims.length)).fill(1), ...c.dims];
  const ok = dims.length === rank && dims.every((d, axis) => d === 1 || (axis === 1 && d === channels));
  if (!ok || x.kind === 'absent' || x.kind === 'const') return n.fail(`a constant of shape [${c.dims.join(', ')}] is not one value per channel of the computed tensor${x.kind === 'net' ? ` (N, ${x.shape.join(', ')})${alongWhich(dims, rank)}` : ''}`);
  return Array.from({ length: channels }, (_, i) => c.data[c.data.length === 1 ? 0 : i] as number);
}

/** Why a constant broadcast to `dims` (the batched rank, 1 where it is constant) is not per channel. */
function alongWhich(dims: readonly number[], rank: number): string {
  if (dims.length > rank) return `: it has ${dims.length} axes, the tensor ${rank}`;
  if (dims[0] !== 1) return ': it varies along the batch axis, and the constants of a net are the same for every image';
  const axes = dims.flatMap((d, axis) => (axis > 1 && d !== 1 ? [axis] : []));
  return axes.length > 0 ? `: it varies along axis ${axes.join(' and ')}, and AFFINE holds one scale and shift per channel (axis 1)` : '';
}

/** x scaled and shifted by `terms` ([scale, shift] per channel): an AFFINE, or a channel slice's pending scale. */
function affineOf(n: NodeView, x: Value, terms: readonly (readonly [number, number])[]): Value {
  if (x.kind === 'channel') {
    const [scale, shift] = terms[0] as readonly [number, number];
    return { ...x, scale: x.scale * scale, shift: x.shift * scale + shift };
  }
  const net = x as NetValue;
  const shape = net.shape.map((d, axis) => (axis === 0 ? d : 1));
  const params = { scale: weightTensor(shape, terms.map(([s]) => s)), shift: weightTensor(shape, terms.map(([, t]) => t)) };
  return n.ctx.add(n, 'affine', {}, [net], params);
}
