import { ShapeError } from '../../ops/errors.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';
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

/** dx (N, K) = dy (N, M) weight (M, K). */
export function linearGradInput(allocator: Allocator, dy: Tensor, weight: Tensor): Tensor {
  const [n, m] = dims2('fc', dy);
  const [wm, k] = dims2('fc', weight);
  if (wm !== m) throw new ShapeError('fc', 'dy and weight do not match', [dy.shape, weight.shape]);
  const dx = Tensor.zeros([n, k], dy.dtype, allocator);
  const sums = Tensor.zeros([k], 'float64', allocator);
  const sd = sums.data as Float64Array;
  const wd = weight.data;
  for (let i = 0; i < n; i++) {
    sd.fill(0);
    for (let j = 0; j < m; j++) axpy(dy.data[i * m + j] as number, wd, j * k, sd, 0, k);
    dx.data.set(sd, i * k);
  }
  sums.dispose();
  return dx;
}

/**
 * dweight (M, K) = dy^T (M, N) x (N, K), one row at a time so that the float64 scratch is one row
 * of K sums, not the whole (M, K) matrix (784 MiB for VGG-16's first FC layer).
 */
export function linearGradWeight(allocator: Allocator, dy: Tensor, x: Tensor): Tensor {
  const [n, m] = dims2('fc', dy);
  const [xn, k] = dims2('fc', x);
  if (xn !== n) throw new ShapeError('fc', 'dy and x do not match', [dy.shape, x.shape]);
  const dweight = Tensor.zeros([m, k], dy.dtype, allocator);
  const sums = Tensor.zeros([k], 'float64', allocator);
  const sd = sums.data as Float64Array;
  const xd = x.data;
  for (let j = 0; j < m; j++) {
    sd.fill(0);
    for (let i = 0; i < n; i++) axpy(dy.data[i * m + j] as number, xd, i * k, sd, 0, k);
    dweight.data.set(sd, j * k);
  }
  sums.dispose();
  return dweight;
}
