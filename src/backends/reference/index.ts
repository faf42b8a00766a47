import type { Backend } from '../backend.js';
import { heapAllocator } from '../../tensor/tensor.js';
import { biasGrad, conv2d, conv2dGradInput, conv2dGradWeight } from './conv2d.js';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from './pool.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import { relu, reluGrad } from './relu.js';
import { batchNormGrad, batchNormInfer, batchNormTrain } from './batchnorm.js';
import { lrn, lrnGrad } from './lrn.js';
import { add, mulMask } from './elementwise.js';
import { concatChannels, splitChannels } from './concat.js';
import { softmax } from './softmax.js';

/**
 * Plain TypeScript loops over typed arrays, float32 or float64 alike: the definition of correct that
 * every faster backend is tested against. Semantics follow PyTorch 1.13.
 */
export const referenceBackend: Backend = {
  name: 'reference',
  allocator: heapAllocator,
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  biasGrad,
  maxPool2d,
  maxPool2dGrad,
  avgPool2d,
  avgPool2dGrad,
  linear,
  linearGradInput,
  linearGradWeight,
  relu,
  reluGrad,
  batchNormTrain,
  batchNormGrad,
  batchNormInfer,
  lrn,
  lrnGrad,
  add,
  mulMask,
  concatChannels,
  splitChannels,
  softmax,
  // Plain loops on the JS heap: nothing to release.
  dispose: async () => {},
};
