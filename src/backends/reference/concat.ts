import { ShapeError } from '../../ops/errors.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/** y (N, sum Ci, H, W) = the (N, Ci, H, W) inputs stacked along channels, in order. */
export function concatChannels(allocator: Allocator, xs: readonly Tensor[]): Tensor {
  const first = xs[0];
  if (first === undefined) throw new ShapeError('concat', 'needs at least one input');
  const [n, , h, w] = first.shape as [number, number, number, number];
  if (xs.some((x) => x.shape.length !== 4 || x.shape[0] !== n || x.shape[2] !== h || x.shape[3] !== w)) {
    throw new ShapeError('concat', 'expects (N, C, H, W) tensors that share N, H and W', xs.map((x) => x.shape));
  }
  const total = xs.reduce((sum, x) => sum + (x.shape[1] as number), 0);
  const y = Tensor.zeros([n, total, h, w], first.dtype, allocator);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    // Each input's channels of image i are one contiguous block, and land as one block in y.
    let offset = i * total * plane;
    for (const x of xs) {
      const block = (x.shape[1] as number) * plane;
      y.data.set(x.data.subarray(i * block, (i + 1) * block), offset);
      offset += block;
    }
  }
  return y;
}

/** Splits dy (N, sum Ci, H, W) back into (N, Ci, H, W) parts. */
export function splitChannels(allocator: Allocator, dy: Tensor, channels: readonly number[]): Tensor[] {
  const [n, total, h, w] = dy.shape as [number, number, number, number];
  if (dy.shape.length !== 4 || channels.reduce((a, b) => a + b, 0) !== total) {
    throw new ShapeError('concat', `dy does not split into ${channels.join(' + ')} channels`, [dy.shape]);
  }
  const plane = h * w;
  const parts = channels.map((c) => Tensor.zeros([n, c, h, w], dy.dtype, allocator));
  for (let i = 0; i < n; i++) {
    let offset = i * total * plane;
    parts.forEach((part, j) => {
      const block = (channels[j] as number) * plane;
      part.data.set(dy.data.subarray(offset, offset + block), i * block);
      offset += block;
    });
  }
  return parts;
}
