import { adaptiveMeans } from '../../../ops/window.js';
import { sizeOf } from '../../../tensor/shape.js';
import { weightTensor, type NetValue, type NodeView, type Value } from '../context.js';
import { constTensor, type ConstTensor } from '../tensor.js';
import type { OpImporter } from './types.js';

/** Gemm, MatMul, Flatten and Reshape: the ops around fully connected layers. */

/** A (rows, cols) matrix transposed. */
function transpose(m: ConstTensor): Float64Array {
  const [rows, cols] = m.dims as [number, number];
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m.data[r * cols + c] as number;
  return t;
}

/** A (K) vector input: an FC reads one vector per image. */
function vectorInput(n: NodeView, i: number): Extract<Value, { kind: 'net' }> {
  const x = n.netInput(i);
  if (x.shape.length !== 1) n.fail(`input ${i + 1} has per-image shape [${x.shape.join(', ')}]; convstack's FC takes (N, K)`);
  return x;
}

/** Gemm(A, B, C?; alpha = 1, beta = 1, transA = 0, transB = 0): Y = alpha A' B' + beta C. */
export const Gemm: OpImporter = (n) => {
  if (n.int('transA', 0) !== 0) n.fail('transA=1 (the activations transposed) is not supported');
  const a = vectorInput(n, 0);
  const b = n.constInput(1) ?? n.fail('no B');
  if (b.dims.length !== 2) n.fail(`B of shape [${b.dims.join(', ')}] is not a matrix`);
  const transB = n.int('transB', 0) === 1;
  const [outFeatures, inFeatures] = (transB ? b.dims : [b.dims[1], b.dims[0]]) as [number, number];
  if (inFeatures !== a.shape[0]) n.fail(`B has ${inFeatures} inputs, the activations ${a.shape[0]}`);
  const alpha = n.float('alpha', 1);
  const weight = (transB ? b.data : transpose(b)).map((v) => alpha * v);
  const c = n.constInput(2);
  const params = { weight: weightTensor([outFeatures, inFeatures], weight), ...(c !== null && { bias: weightTensor([outFeatures], gemmBias(n, c, outFeatures)) }) };
  return [n.ctx.add(n, 'fc', { outFeatures, bias: c !== null }, [a], params)];
};

/** beta C as one value per output: C broadcasts over the batch, so it is a scalar, (M) or (1, M). */
function gemmBias(n: NodeView, c: ConstTensor, outFeatures: number): Float64Array {
  const beta = n.float('beta', 1);
  const rows = c.dims.length === 2 ? (c.dims[0] as number) : 1;
  if (rows !== 1 || (c.data.length !== outFeatures && c.data.length !== 1)) n.fail(`C of shape [${c.dims.join(', ')}] is not one bias per output`);
  return Float64Array.from({ length: outFeatures }, (_, j) => beta * (c.data[c.data.length === 1 ? 0 : j] as number));
}

/**
 * MatMul(A, B) with A the activations (N, K) and B a known (K, M): an FC without bias. On a volume
 * (N, C, H, W), only as adaptive average pooling, one axis at a time: times a known (W, OW) matrix of
 * window means, or a known (OH, H) one times it (how convstack's export writes ADAPTIVEPOOL where the
 * windows are uneven, see the keyword).
 */
export const MatMul: OpImporter = (n) => {
  const left = n.input(0);
  if (left?.kind === 'const' || (left?.kind === 'net' && left.shape.length === 3)) return [adaptivePoolAxis(n)];
  const a = vectorInput(n, 0);
  const b = n.constInput(1) ?? n.fail('no B');
  if (b.dims.length !== 2 || b.dims[0] !== a.shape[0]) n.fail(`B of shape [${b.dims.join(', ')}] for activations of ${a.shape[0]} values`);
  const outFeatures = b.dims[1] as number;
  return [n.ctx.add(n, 'fc', { outFeatures, bias: false }, [a], { weight: weightTensor([outFeatures, a.shape[0] as number], transpose(b)) })];
};

/** A MatMul of a volume by a matrix of adaptive window means: ADAPTIVEPOOL over the width, or over the height. */
function adaptivePoolAxis(n: NodeView): NetValue {
  const overRows = n.input(0)?.kind === 'const';
  const x = n.netInput(overRows ? 1 : 0);
  const m = n.constInput(overRows ? 0 : 1) ?? n.fail('no matrix');
  if (x.shape.length !== 3) n.fail(`a matrix times activations of per-image shape [${x.shape.join(', ')}]; only adaptive pooling of a (C, H, W) volume is supported`);
  const [c, h, w] = x.shape as [number, number, number];
  const size = overRows ? h : w;
  const [rows, cols] = m.dims as [number, number];
  const out = overRows ? rows : cols;
  if (m.dims.length !== 2 || (overRows ? cols : rows) !== size) n.fail(`a matrix of shape [${m.dims.join(', ')}] for a volume of ${c}x${h}x${w}`);
  const means = adaptiveMeans(size, out);
  const isMeans = means.every((v, k) => Math.fround(v) === Math.fround(m.data[overRows ? (k % out) * size + Math.floor(k / out) : k] as number));
  if (!isMeans) n.fail(`a volume times a matrix is supported only as adaptive average pooling, and this [${m.dims.join(', ')}] matrix is not the ${size} -> ${out} window means`);
  return n.ctx.add(n, 'adaptiveavgpool', { output: overRows ? [out, w] : [h, out] }, [x]);
}

/** Flatten(input; axis = 1): (N, C, H, W) -> (N, C*H*W). */
export const Flatten: OpImporter = (n) => {
  const value = n.input(0) ?? n.fail('no input');
  if (value.kind === 'const') {
    const axis = normalisedAxis(n, n.int('axis', 1), value.tensor.dims.length + 1);
    const dims = value.tensor.dims;
    return [{ kind: 'const', tensor: { ...value.tensor, dims: [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis))] } }];
  }
  const x = n.netInput(0);
  const axis = normalisedAxis(n, n.int('axis', 1), x.shape.length + 2);
  if (axis !== 1) n.fail(`axis ${axis} mixes the batch with the rest; only axis 1 is supported`);
  return [x.shape.length === 1 ? x : n.ctx.add(n, 'flatten', {}, [x])];
};

/** An axis in [0, rank) from ONNX's [-rank, rank). */
function normalisedAxis(n: NodeView, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) n.fail(`axis ${axis} is outside a ${rank}-D tensor`);
  return a;
}

/** Reshape(data, shape; allowzero = 0): on the net's values, only a flatten or no change per image. */
export const Reshape: OpImporter = (n) => {
  const target = n.ctx.opset < 5 ? n.ints('shape', []) : Array.from(n.constInput(1)?.data ?? n.fail('no shape'));
  const allowZero = n.int('allowzero', 0) === 1;
  const value = n.input(0) ?? n.fail('no data');
  if (value.kind === 'const') return [{ kind: 'const', tensor: constTensor(resolveShape(n, value.tensor.dims, target, allowZero), value.tensor.data, value.tensor.integer) }];
  const x = n.netInput(0);
  const dims = resolveShape(n, [n.ctx.batch, ...x.shape], target, allowZero);
  if (dims[0] !== n.ctx.batch) n.fail(`a target shape [${target.join(', ')}] that changes the batch size`);
  const perImage = dims.slice(1);
  if (perImage.length === x.shape.length && perImage.every((d, i) => d === x.shape[i])) return [x];
  if (perImage.length === 1) return [n.ctx.add(n, 'flatten', {}, [x])];
  return n.fail(`reshaping [${x.shape.join(', ')}] per image to [${perImage.join(', ')}] is not supported (only flattening)`);
};

/** ONNX's target shape with 0 (copy the input's) and -1 (what is left) resolved. */
function resolveShape(n: NodeView, input: readonly number[], target: readonly number[], allowZero: boolean): number[] {
  const dims = target.map((d, i) => (d === 0 && !allowZero ? (input[i] ?? n.fail(`target dimension ${i} copies an input dimension that does not exist`)) : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = dims.filter((d) => d === -1).length;
  const total = sizeOf(input);
  if (free > 1 || dims.some((d) => d < -1) || (free === 1 ? known === 0 || total % known !== 0 : known !== total)) {
    n.fail(`cannot reshape [${input.join(', ')}] to [${target.join(', ')}]`);
  }
  return dims.map((d) => (d === -1 ? total / known : d));
}
