import { ShapeError } from '../../ops/errors.js';
import { Tensor, type Allocator, type DType } from '../../tensor/tensor.js';
import { axpy, dot } from './vector.js';

/**
 * The three products of a fully-connected layer. Weights are (M, K) as in PyTorch, so the forward
 * pass is a dot product of two contiguous rows; the gradients accumulate rows into float64 sums.
 */
function dims2(op: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(op, 'expects a matrix', [t.shape]);
  return t.shape as [number, number];
}

/** y (N, M) = x (N, K) weight (M, K)^T + bias (M). */
export function linear(allocator: Allocator, x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [n, k] = dims2('fc', x);
  const [m, wk] = dims2('fc', weight);
  if (wk !== k || (bias !== null && bias.size !== m)) {
    throw new ShapeError('fc', 'input, weight and bias do not match', [x.shape, weight.shape, ...(bias ? [bias.shape] : [])]);
  }
  const y = Tensor.zeros([n, m], x.dtype, allocator);
  const xd = x.data;
  const wd = weight.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) y.data[i * m + j] = dot(xd, i * k, wd, j * k, k) + (bias === null ? 0 : (bias.data[j] as number));
  }
  return y;
}

/**
 * A (rows, K) tensor of `dtype` whose row r is the float64 sum that `accumulate(r, sums)` adds into
 * K zeroed sums, rounded once when stored. One row at a time, so that the float64 scratch is one row
 * of K sums, not the whole matrix (784 MiB for VGG-16's first FC layer's weight gradient).
 */
function rowSums(allocator: Allocator, rows: number, k: number, dtype: DType, accumulate: (row: number, sums: Float64Array) => void): Tensor {
  const out = Tensor.zeros([rows, k], dtype, allocator);
  const sums = Tensor.zeros([k], 'float64', allocator);
  const sd = sums.data as Float64Array;
  for (let r = 0; r < rows; r++) {
    sd.fill(0);
    accumulate(r, sd);
    out.data.set(sd, r * k);
  }
  sums.dispose();
  return out;
}

/** dx (N, K) = dy (N, M) weight (M, K). */
export function linearGradInput(allocator: Allocator, dy: Tensor, weight: Tensor): Tensor {
  const [n, m] = dims2('fc', dy);
  const [wm, k] = dims2('fc', weight);
  if (wm !== m) throw new ShapeError('fc', 'dy and weight do not match', [dy.shape, weight.shape]);
  const wd = weight.data;
  return rowSums(allocator, n, k, dy.dtype, (i, sums) => {
    for (let j = 0; j < m; j++) axpy(dy.data[i * m + j] as number, wd, j * k, sums, 0, k);
  });
}

/** dweight (M, K) = dy^T (M, N) x (N, K). */
export function linearGradWeight(allocator: Allocator, dy: Tensor, x: Tensor): Tensor {
  const [n, m] = dims2('fc', dy);
  const [xn, k] = dims2('fc', x);
  if (xn !== n) throw new ShapeError('fc', 'dy and x do not match', [dy.shape, x.shape]);
  const xd = x.data;
  return rowSums(allocator, m, k, dy.dtype, (j, sums) => {
    for (let i = 0; i < n; i++) axpy(dy.data[i * m + j] as number, xd, i * k, sums, 0, k);
  });
}
