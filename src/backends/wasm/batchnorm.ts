import { ShapeError } from '../../ops/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import type { WasmRuntime } from './runtime.js';
import { batchNormLayout } from '../reference/batchnorm.js';

/**
 * Batch normalisation in training (asm/batchnorm.ts batchNormTrain, batchNormGrad), matching
 * reference/batchnorm.ts: statistics per channel of x (N, C, H, W) or (N, C), biased variance. Each
 * channel is one job, summed whole by one thread in a fixed order (f64 sums), so results are the
 * same bits on every run and every thread count.
 */

/** y = gamma (x - mean) invStd + beta with the batch's mean and invStd = 1/sqrt(var + eps), each (C). */
export function batchNormTrain(rt: WasmRuntime, x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, beta]);
  const y = Tensor.empty(x.shape, 'float32', rt.allocator);
  const mean = Tensor.empty([c], 'float32', rt.allocator);
  const invStd = Tensor.empty([c], 'float32', rt.allocator);
  // eps as an f64, as the reference adds it.
  const epsAt = rt.scratch(8);
  new Float64Array(rt.allocator.buffer(), epsAt, 1)[0] = eps;
  rt.runSized(x.size, 'batchNormTrain', rt.input(x), rt.input(gamma), rt.input(beta), rt.output(y), rt.output(mean), rt.output(invStd), epsAt, n, c, spatial);
  return { y, mean, invStd };
}

/** dbeta = sum dy, dgamma = sum dy xhat, dx = gamma invStd / M (M dy - dbeta - xhat dgamma), per channel. */
export function batchNormGrad(rt: WasmRuntime, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const { n, c, spatial } = batchNormLayout(x, [gamma, mean, invStd]);
  if (dy.size !== x.size) throw new ShapeError('bn', 'dy and x differ in shape', [dy.shape, x.shape]);
  const dx = Tensor.empty(x.shape, 'float32', rt.allocator);
  const dgamma = Tensor.empty([c], 'float32', rt.allocator);
  const dbeta = Tensor.empty([c], 'float32', rt.allocator);
  rt.runSized(x.size, 'batchNormGrad', rt.input(dy), rt.input(x), rt.input(gamma), rt.input(mean), rt.input(invStd), rt.output(dx), rt.output(dgamma), rt.output(dbeta), n, c, spatial);
  return { dx, dgamma, dbeta };
}
