import { ShapeError } from '../../ops/errors.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/** y (N, K) = softmax over axis 1 of x (N, K); the row maximum is subtracted so exp cannot overflow. */
export function softmax(allocator: Allocator, x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new ShapeError('softmax', 'expects (N, K) scores', [x.shape]);
  const [n, k] = x.shape as [number, number];
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, x.data[row + j] as number);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp((x.data[row + j] as number) - max);
    for (let j = 0; j < k; j++) y.data[row + j] = Math.exp((x.data[row + j] as number) - max) / sum;
  }
  return y;
}
