import { ShapeError } from '../../ops/errors.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/**
 * Batch normalisation per channel of x (N, C, H, W) or (N, C). Statistics run over N and the
 * spatial positions; the biased variance normalises in training, as in PyTorch.
 */
export interface BatchNormLayout {
  /** Images in the batch. */
  n: number;
  /** Channels, each normalised on its own. */
  c: number;
  /** Values per (image, channel): H*W, or 1 for (N, C). */
  spatial: number;
}

/** The (N, C, spatial) view of x, checking that every per-channel tensor has C values; wasm uses it too. */
export function batchNormLayout(x: Tensor, perChannel: readonly Tensor[]): BatchNormLayout {
  if (x.shape.length !== 4 && x.shape.length !== 2) throw new ShapeError('bn', 'expects (N, C, H, W) or (N, C)', [x.shape]);
  const n = x.shape[0] as number;
  const c = x.shape[1] as number;
  const mismatch = perChannel.find((t) => t.size !== c);
  if (mismatch !== undefined) throw new ShapeError('bn', `per-channel tensors must have ${c} values`, [x.shape, mismatch.shape]);
  return { n, c, spatial: n * c === 0 ? 0 : x.size / (n * c) };
}

/** y = gamma * (x - mean) * invStd + beta with the batch's mean and invStd = 1/sqrt(var + eps), each (C). */
export function batchNormTrain(allocator: Allocator, x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, beta]);
  const count = n * spatial;
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  const mean = Tensor.zeros([c], x.dtype, allocator);
  const invStd = Tensor.zeros([c], x.dtype, allocator);
  for (let ch = 0; ch < c; ch++) {
    // Two passes (mean, then squared deviations): one pass of sum and sum of squares cancels badly.
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) sum += x.data[start + j] as number;
    }
    const mu = sum / count;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) squares += ((x.data[start + j] as number) - mu) ** 2;
    }
    const inv = 1 / Math.sqrt(squares / count + eps);
    const scale = (gamma.data[ch] as number) * inv;
    const shift = beta.data[ch] as number;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) y.data[start + j] = ((x.data[start + j] as number) - mu) * scale + shift;
    }
    mean.data[ch] = mu;
    invStd.data[ch] = inv;
  }
  return { y, mean, invStd };
}

/**
 * Gradients of the training forward. With xhat = (x - mean) * invStd and M values per channel:
 * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd / M * (M dy - dbeta - xhat dgamma).
 */
export function batchNormGrad(allocator: Allocator, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, mean, invStd]);
  if (dy.size !== x.size) throw new ShapeError('bn', 'dy and x differ in shape', [dy.shape, x.shape]);
  const count = n * spatial;
  const dx = Tensor.zeros(x.shape, dy.dtype, allocator);
  const dgamma = Tensor.zeros([c], dy.dtype, allocator);
  const dbeta = Tensor.zeros([c], dy.dtype, allocator);
  for (let ch = 0; ch < c; ch++) {
    const mu = mean.data[ch] as number;
    const inv = invStd.data[ch] as number;
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) {
        const d = dy.data[start + j] as number;
        sumDy += d;
        sumDyXhat += d * ((x.data[start + j] as number) - mu) * inv;
      }
    }
    const k = ((gamma.data[ch] as number) * inv) / count;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) {
        const xhat = ((x.data[start + j] as number) - mu) * inv;
        dx.data[start + j] = k * (count * (dy.data[start + j] as number) - sumDy - xhat * sumDyXhat);
      }
    }
    dgamma.data[ch] = sumDyXhat;
    dbeta.data[ch] = sumDy;
  }
  return { dx, dgamma, dbeta };
}

/** y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta: inference with the running statistics. */
export function batchNormInfer(allocator: Allocator, x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const { n, c, spatial } = batchNormLayout(x, [gamma, beta, mean, variance]);
  const y = Tensor.zeros(x.shape, x.dtype, allocator);
  for (let ch = 0; ch < c; ch++) {
    const mu = mean.data[ch] as number;
    const scale = (gamma.data[ch] as number) / Math.sqrt((variance.data[ch] as number) + eps);
    const shift = beta.data[ch] as number;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * spatial;
      for (let j = 0; j < spatial; j++) y.data[start + j] = ((x.data[start + j] as number) - mu) * scale + shift;
    }
  }
  return y;
}
