import type { Backend } from '../backend.js';
import { HeapAllocator, type Allocator } from '../../tensor/tensor.js';
import { biasGrad, conv2d, conv2dGradInput, conv2dGradWeight } from './conv2d.js';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from './pool.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import { relu, reluGrad } from './relu.js';
import { batchNormGrad, batchNormInfer, batchNormTrain } from './batchnorm.js';
import { lrn, lrnGrad } from './lrn.js';
import { add, div, divGradDivisor, mul, mulMask } from './elementwise.js';
import { concatChannels, splitChannels } from './concat.js';
import { softmax } from './softmax.js';
import { adaptiveAvgPool2d, adaptiveAvgPool2dGrad } from './adaptive_pool.js';
import { maxPool2dDilated } from './pool_dilated.js';

/**
 * Plain TypeScript loops over typed arrays, float32 or float64 alike: the definition of correct that
 * every faster backend is tested against. Semantics follow PyTorch 1.13. Every kernel allocates
 * through `allocator`, by default a JS-heap allocator of the backend's own, whose tracker then
 * counts what nets on this backend hold; a fast backend that falls back to these kernels passes its
 * own allocator, so that their outputs land in its memory.
 */
export function createReferenceBackend(allocator: Allocator = new HeapAllocator()): Backend {
  const a = allocator;
  return {
    name: 'reference',
    allocator,
    conv2d: (x, weight, bias, attrs) => conv2d(a, x, weight, bias, attrs),
    conv2dGradInput: (dy, weight, xShape, attrs) => conv2dGradInput(a, dy, weight, xShape, attrs),
    conv2dGradWeight: (dy, x, attrs) => conv2dGradWeight(a, dy, x, attrs),
    biasGrad: (dy) => biasGrad(a, dy),
    maxPool2d: (x, attrs) => maxPool2d(a, x, attrs),
    maxPool2dGrad: (dy, argmax, xShape) => maxPool2dGrad(a, dy, argmax, xShape),
    maxPool2dDilated: (x, attrs) => maxPool2dDilated(a, x, attrs),
    avgPool2d: (x, attrs) => avgPool2d(a, x, attrs),
    avgPool2dGrad: (dy, xShape, attrs) => avgPool2dGrad(a, dy, xShape, attrs),
    adaptiveAvgPool2d: (x, attrs) => adaptiveAvgPool2d(a, x, attrs),
    adaptiveAvgPool2dGrad: (dy, xShape, attrs) => adaptiveAvgPool2dGrad(a, dy, xShape, attrs),
    linear: (x, weight, bias) => linear(a, x, weight, bias),
    linearGradInput: (dy, weight) => linearGradInput(a, dy, weight),
    linearGradWeight: (dy, x) => linearGradWeight(a, dy, x),
    relu: (x) => relu(a, x),
    reluGrad: (dy, y) => reluGrad(a, dy, y),
    batchNormTrain: (x, gamma, beta, eps) => batchNormTrain(a, x, gamma, beta, eps),
    batchNormGrad: (dy, x, gamma, mean, invStd) => batchNormGrad(a, dy, x, gamma, mean, invStd),
    batchNormInfer: (x, gamma, beta, mean, variance, eps) => batchNormInfer(a, x, gamma, beta, mean, variance, eps),
    lrn: (x, attrs) => lrn(a, x, attrs),
    lrnGrad: (dy, x, y, scale, attrs) => lrnGrad(a, dy, x, y, scale, attrs),
    add: (x, y) => add(a, x, y),
    mulMask: (x, mask, scale) => mulMask(a, x, mask, scale),
    mul: (x, y) => mul(a, x, y),
    div: (x, y) => div(a, x, y),
    divGradDivisor: (dy, x, y) => divGradDivisor(a, dy, x, y),
    concatChannels: (xs) => concatChannels(a, xs),
    splitChannels: (dy, channels) => splitChannels(a, dy, channels),
    softmax: (x) => softmax(a, x),
    // Plain loops on the JS heap: nothing to release.
    dispose: async () => {},
  };
}

/** The reference backend most callers want: the default of `Net`, on a heap allocator of its own. */
export const referenceBackend: Backend = createReferenceBackend();
