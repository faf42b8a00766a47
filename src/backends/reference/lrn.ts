import { ShapeError } from '../../ops/errors.js';
import type { LrnAttrs } from '../../ops/lrn.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/**
 * Local response normalisation across channels, exactly as torch.nn.LocalResponseNorm: torch
 * zero-pads the channel axis by size//2 before and (size-1)//2 after and average-pools, so the sum
 * for channel c runs over c - size//2 .. c + (size-1)//2 and is divided by `size` even at the edges.
 */
function dims(x: Tensor): [number, number, number] {
  if (x.shape.length !== 4) throw new ShapeError('lrn', 'expects (N, C, H, W)', [x.shape]);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return [n, c, h * w];
}

/** y = x / scale^beta with scale = k + alpha/size * (sum of x^2 over the channel window); x, y, scale (N, C, H, W). */
export function lrn(allocator: Allocator, x: Tensor, attrs: LrnAttrs): { y: Tensor; scale: Tensor } {
  const [n, c, plane] = dims(x);
  const { size, alpha, beta, k } = attrs;
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  const scale = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = Math.max(ch - before, 0);
      const hi = Math.min(ch + after, c - 1);
      const at = (i * c + ch) * plane;
      for (let p = 0; p < plane; p++) {
        let squares = 0;
        for (let j = lo; j <= hi; j++) squares += (x.data[(i * c + j) * plane + p] as number) ** 2;
        const s = k + (alpha / size) * squares;
        scale.data[at + p] = s;
        y.data[at + p] = (x.data[at + p] as number) * s ** -beta;
      }
    }
  }
  return { y, scale };
}

/**
 * dx_i = dy_i scale_i^-beta - 2 alpha beta / size * x_i * sum over the channels j whose window holds
 * i of dy_j y_j / scale_j; those j run over i - (size-1)//2 .. i + size//2.
 */
export function lrnGrad(allocator: Allocator, dy: Tensor, x: Tensor, y: Tensor, scale: Tensor, attrs: LrnAttrs): Tensor {
  const [n, c, plane] = dims(x);
  if (dy.size !== x.size || y.size !== x.size || scale.size !== x.size) {
    throw new ShapeError('lrn', 'dy, y and scale must have the shape of x', [dy.shape, x.shape]);
  }
  const { size, alpha, beta } = attrs;
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  const factor = (2 * alpha * beta) / size;
  const dx = Tensor.zeros(x.shape, dy.dtype, allocator);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = Math.max(ch - after, 0);
      const hi = Math.min(ch + before, c - 1);
      const at = (i * c + ch) * plane;
      for (let p = 0; p < plane; p++) {
        let sum = 0;
        for (let j = lo; j <= hi; j++) {
          const q = (i * c + j) * plane + p;
          sum += ((dy.data[q] as number) * (y.data[q] as number)) / (scale.data[q] as number);
        }
        const own = (dy.data[at + p] as number) * (scale.data[at + p] as number) ** -beta;
        dx.data[at + p] = own - factor * (x.data[at + p] as number) * sum;
      }
    }
  }
  return dx;
}
