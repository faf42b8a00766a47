import { buffer, calls, inputGrad, outputFrom, param, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { formatShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Backend } from '../backends/backend.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * BN: per-channel normalisation. Training uses the batch's statistics and updates the running
 * averages (running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance,
 * as PyTorch does); inference uses the running averages. Shape: (N, C, H, W) or (N, C), unchanged.
 */
export interface BatchNormAttrs {
  /** Added to the variance before the square root (PyTorch: 1e-5). */
  eps: number;
  /** Weight of the batch statistics in the running averages (PyTorch: 0.1). */
  momentum: number;
}

type Saved = { x: Tensor; mean: Tensor; invStd: Tensor } | null;

/** The BN op: batch statistics in training, running statistics in inference. */
export const batchNorm: Op<BatchNormAttrs, Saved> = {
  type: 'bn',
  backwardReads: { inputs: true, output: false },
  frozenBackwardReads: { inputs: false, output: false },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || (x.length !== 3 && x.length !== 1)) {
      throw new ShapeError('bn', 'expects one [C, H, W] volume or [F] vector', inputs);
    }
    return x;
  },

  params(inputs) {
    const c = inputs[0]?.[0] ?? 0;
    return [
      param('weight', [c], { kind: 'ones' }),
      param('bias', [c], { kind: 'zeros' }),
      param('running_mean', [c], { kind: 'zeros' }, false),
      param('running_var', [c], { kind: 'ones' }, false),
    ];
  },

  macs: () => 0,

  forward(ctx, [x], params, attrs) {
    const input = x as Tensor;
    const gamma = params['weight'] as Tensor;
    const beta = params['bias'] as Tensor;
    const runningMean = params['running_mean'] as Tensor;
    const runningVar = params['running_var'] as Tensor;
    // A frozen BN (fine-tuning) normalises as in inference, so its statistics stay those it was trained with.
    if (!ctx.training || ctx.frozen === true) {
      return { output: ctx.backend.batchNormInfer(input, gamma, beta, runningMean, runningVar, attrs.eps), saved: null };
    }
    // NOTE: with one value per channel the batch variance is 0: the output would be beta whatever
    // the input, and the running variance would decay to 0. PyTorch refuses this too.
    if (input.size === input.shape[1]) {
      throw new ShapeError('bn', `training needs more than one value per channel, got a batch of 1 with ${formatShape(input.shape.slice(1))} per image; use a batch of 2 or more`);
    }
    const { y, mean, invStd } = ctx.backend.batchNormTrain(input, gamma, beta, attrs.eps);
    updateRunningStats(input, mean, invStd, runningMean, runningVar, attrs);
    return { output: y, saved: { x: input, mean, invStd } };
  },

  backward(ctx, saved, dy, params, attrs) {
    if (saved === null && ctx.frozen === true) return { inputs: [frozenInputGrad(ctx.backend, dy, params, attrs.eps)], params: {} };
    if (saved === null) throw new Error('bn: backward after an inference-mode forward');
    const { dx, dgamma, dbeta } = ctx.backend.batchNormGrad(dy, saved.x, params['weight'] as Tensor, saved.mean, saved.invStd);
    return { inputs: [dx], params: { weight: dgamma, bias: dbeta } };
  },

  release(saved) {
    saved?.mean.dispose();
    saved?.invStd.dispose();
  },

  // Training saves the batch mean and 1/std, one value per channel each; frozen, it runs as in inference.
  forwardMemory(shapes, _attrs, training, frozen = false) {
    if (!training || frozen) return outputFrom('batchNormInfer', shapes);
    const channels = shapes.output[1] as number;
    return [calls('batchNormTrain', buffer('output', sizeOf(shapes.output)), buffer('saved', channels), buffer('saved', channels))];
  },

  backwardMemory({ inputs }, _attrs, _wanted, frozen = false) {
    const x = inputs[0] as Shape;
    const channels = x[1] as number;
    // Frozen: a zero mean and shift (one tensor), then dx from `batchNormInfer` (frozenInputGrad).
    if (frozen) return [calls(null, buffer('temporary', channels)), calls('batchNormInfer', inputGrad(0, sizeOf(x)))];
    return [calls('batchNormGrad', inputGrad(0, sizeOf(x)), buffer('paramGrad', channels), buffer('paramGrad', channels))];
  },
};

/**
 * dLoss/dx through a BN that normalised with its running statistics: dy * gamma / sqrt(var + eps)
 * per channel, which is `batchNormInfer` of dy with a zero mean and a zero shift.
 */
function frozenInputGrad(backend: Backend, dy: Tensor, params: Readonly<Record<string, Tensor>>, eps: number): Tensor {
  const gamma = params['weight'] as Tensor;
  const zeros = Tensor.zeros(gamma.shape, gamma.dtype, backend.allocator);
  const dx = backend.batchNormInfer(dy, gamma, zeros, zeros, params['running_var'] as Tensor, eps);
  zeros.dispose();
  return dx;
}

function updateRunningStats(x: Tensor, mean: Tensor, invStd: Tensor, runningMean: Tensor, runningVar: Tensor, attrs: BatchNormAttrs): void {
  const count = x.size / (x.shape[1] as number);
  const unbias = count > 1 ? count / (count - 1) : 1;
  const m = attrs.momentum;
  for (let c = 0; c < mean.size; c++) {
    const inv = invStd.data[c] as number;
    const biasedVar = 1 / (inv * inv) - attrs.eps;
    runningMean.data[c] = (1 - m) * (runningMean.data[c] as number) + m * (mean.data[c] as number);
    runningVar.data[c] = (1 - m) * (runningVar.data[c] as number) + m * biasedVar * unbias;
  }
}
