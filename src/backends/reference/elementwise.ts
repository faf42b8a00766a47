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

/** y = x * mask * scale, element-wise: inverted dropout, forward and backward. */
export function mulMask(allocator: Allocator, x: Tensor, mask: Tensor, scale: number): Tensor {
  if (!sameShape(x.shape, mask.shape)) throw new ShapeError('dropout', 'mask and input differ in shape', [x.shape, mask.shape]);
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let i = 0; i < x.size; i++) y.data[i] = (x.data[i] as number) * (mask.data[i] as number) * scale;
  return y;
}
