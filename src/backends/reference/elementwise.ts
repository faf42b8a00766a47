import { ShapeError } from '../../ops/errors.js';
import { sameShape } from '../../tensor/shape.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/** y = a + b, same shapes. */
export function add(allocator: Allocator, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('add', 'expects two tensors of the same shape', [a.shape, b.shape]);
  const y = Tensor.zeros(a.shape, a.dtype, allocator);
  for (let i = 0; i < a.size; i++) y.data[i] = (a.data[i] as number) + (b.data[i] as number);
  return y;
}

/** y = a * b, element-wise, same shapes: the join of MUL[a | b], and its backward (dy * b, dy * a). */
export function mul(allocator: Allocator, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('mul', 'expects two tensors of the same shape', [a.shape, b.shape]);
  const y = Tensor.empty(a.shape, a.dtype, allocator);
  for (let i = 0; i < a.size; i++) y.data[i] = (a.data[i] as number) * (b.data[i] as number);
  return y;
}

/** y = a / b, element-wise, same shapes (IEEE: x / 0 is +-infinity, 0 / 0 NaN, as PyTorch): the join of DIV[a | b]. */
export function div(allocator: Allocator, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('div', 'expects two tensors of the same shape', [a.shape, b.shape]);
  const y = Tensor.empty(a.shape, a.dtype, allocator);
  for (let i = 0; i < a.size; i++) y.data[i] = (a.data[i] as number) / (b.data[i] as number);
  return y;
}

/**
 * db = -dy * a / b^2, the gradient of a / b with respect to its divisor, computed as -(dy / b) * (a / b)
 * so that b^2 neither overflows nor underflows where a / b itself is an ordinary number.
 */
export function divGradDivisor(allocator: Allocator, dy: Tensor, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(dy.shape, a.shape) || !sameShape(a.shape, b.shape)) throw new ShapeError('div', 'dy, a and b differ in shape', [dy.shape, a.shape, b.shape]);
  const db = Tensor.empty(a.shape, a.dtype, allocator);
  for (let i = 0; i < a.size; i++) {
    const divisor = b.data[i] as number;
    db.data[i] = -((dy.data[i] as number) / divisor) * ((a.data[i] as number) / divisor);
  }
  return db;
}

/** y = x * mask * scale, element-wise: inverted dropout, forward and backward. */
export function mulMask(allocator: Allocator, x: Tensor, mask: Tensor, scale: number): Tensor {
  if (!sameShape(x.shape, mask.shape)) throw new ShapeError('dropout', 'mask and input differ in shape', [x.shape, mask.shape]);
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let i = 0; i < x.size; i++) y.data[i] = (x.data[i] as number) * (mask.data[i] as number) * scale;
  return y;
}
