import { Tensor, type Allocator } from '../../tensor/tensor.js';

/** y = max(0, x) element-wise, any shape. */
export function relu(allocator: Allocator, x: Tensor): Tensor {
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i] as number;
    // Written so that NaN passes through, as torch.relu lets it: a diverging run should show NaN.
    y.data[i] = v < 0 ? 0 : v;
  }
  return y;
}

/** dx = dy where the forward output y was positive, else 0. */
export function reluGrad(allocator: Allocator, dy: Tensor, y: Tensor): Tensor {
  const dx = Tensor.zeros(dy.shape, dy.dtype, allocator);
  for (let i = 0; i < dy.size; i++) dx.data[i] = (y.data[i] as number) > 0 ? (dy.data[i] as number) : 0;
  return dx;
}
