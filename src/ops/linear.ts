import { buffer, calls, inputGrad, outputFrom, param, type KernelUse, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * FC: every output connected to every input value. A [C, H, W] input is flattened in C, H, W
 * order first, as `torch.flatten(x, 1)` does, so weights map one to one with PyTorch's.
 * Shape: (N, K) or (N, C, H, W) with K = C*H*W -> (N, outFeatures).
 */
export interface LinearAttrs {
  /** Outputs (M), and so the rows of the weight (M, K). */
  outFeatures: number;
  /** Whether there is a bias (M). */
  bias: boolean;
}

interface Saved {
  x: Tensor;
  xShape: Shape;
}

function inputFeatures(inputs: readonly Shape[]): number {
  const x = inputs[0];
  if (inputs.length !== 1 || x === undefined) throw new ShapeError('fc', 'expects one input', inputs);
  return sizeOf(x);
}

/** The FC op: `linear` forward; `linearGradWeight`, `biasGrad` and `linearGradInput` backward. */
export const linear: Op<LinearAttrs, Saved> = {
  type: 'fc',
  backwardReads: { inputs: true, output: false },
  frozenBackwardReads: { inputs: false, output: false },
  outputShape(inputs, attrs) {
    inputFeatures(inputs);
    return [attrs.outFeatures];
  },

  params(inputs, attrs) {
    const k = inputFeatures(inputs);
    const specs = [param('weight', [attrs.outFeatures, k], { kind: 'weight', layer: 'fc', fanIn: k, fanOut: attrs.outFeatures })];
    if (attrs.bias) specs.push(param('bias', [attrs.outFeatures], { kind: 'bias', fanIn: k }));
    return specs;
  },

  macs: (inputs, _output, attrs) => inputFeatures(inputs) * attrs.outFeatures,

  forward(ctx, [x], params) {
    const input = x as Tensor;
    const weight = params['weight'] as Tensor;
    const flat = input.reshape([input.shape[0] as number, sizeOf(input.shape.slice(1))]);
    if ((flat.shape[1] as number) !== (weight.shape[1] as number)) {
      throw new ShapeError('fc', `input has ${flat.shape[1]} features, weights expect ${weight.shape[1]}`, [input.shape, weight.shape]);
    }
    return { output: ctx.backend.linear(flat, weight, params['bias'] ?? null), saved: { x: flat, xShape: input.shape } };
  },

  backward(ctx, { x, xShape }, dy, params, attrs, inputGradWanted) {
    const grads: Record<string, Tensor> = {};
    if (ctx.frozen !== true) {
      grads['weight'] = ctx.backend.linearGradWeight(dy, x);
      if (attrs.bias) grads['bias'] = ctx.backend.biasGrad(dy);
    }
    // A head trained on a frozen backbone needs no gradient of its features.
    if (inputGradWanted?.[0] === false) return { inputs: [null], params: grads };
    const dx = ctx.backend.linearGradInput(dy, params['weight'] as Tensor);
    return { inputs: [dx.reshape(xShape)], params: grads };
  },

  release() {},

  forwardMemory: (shapes) => outputFrom('linear', shapes),

  // dweight, dbias (none when frozen), then dx unless unwanted: the order of `backward`; the reshapes are views.
  backwardMemory({ inputs }, attrs, inputGradWanted, frozen = false) {
    const x = inputs[0] as Shape;
    const k = sizeOf(x.slice(1));
    const uses: KernelUse[] = [];
    if (!frozen) uses.push(calls('linearGradWeight', buffer('paramGrad', attrs.outFeatures * k)));
    if (!frozen && attrs.bias) uses.push(calls('biasGrad', buffer('paramGrad', attrs.outFeatures)));
    if (inputGradWanted[0] !== false) uses.push(calls('linearGradInput', inputGrad(0, sizeOf(x))));
    return uses;
  },
};
