import { buffer, calls, outputFrom, type Op } from './op.js';
import { convLayerRules, type Conv2dAttrs } from './conv2d.js';
import { isDilated, onDenseWeight, withDenseWeight } from './dilation.js';
import { Tensor, type Allocator } from '../tensor/tensor.js';

/** A fused CONV+BN(+ADD)(+RELU) step's attrs: the CONV's, the BN's eps, whether an ADD and a RELU follow. */
export interface Conv2dBnAttrs extends Conv2dAttrs {
  /** The BN's eps. */
  eps: number;
  /** A RES join's ADD reads the BN's output and the step's second input (the shortcut) and is computed too. */
  residual: boolean;
  /** A RELU reads the BN's (or the ADD's) output and is computed too. */
  relu: boolean;
}

/** The BN's parameters among a fused step's, after the CONV's `weight` and `bias`. */
export const FOLDED_BN_PREFIX = 'bn.';

/**
 * CONV, then the BN that is its only reader (then the ADD of a RES join that is the BN's, adding the
 * join's other input, the shortcut; then the RELU that is the last one's only reader), as one op in
 * inference, for a backend with the fused `conv2dAffine` kernel: ResNet's CONV-BN-ADD-RELU. In inference a BN is a fixed
 * per-channel affine map, gamma (x - mean) / sqrt(var + eps) + beta, and so is adding the conv's
 * bias: both fold into a scale and shift per filter, computed from the parameters at every call
 * (C values, so no folded copy of the weights can go stale when they change). The conv's output
 * and the BN's are never stored. Not a layer of the notation, and inference only: training
 * normalises with the batch's statistics, so the schedule runs the CONV and the BN apart there.
 * Parameters: the CONV's `weight` and `bias`, then the BN's with `bn.` before their names.
 */
export const conv2dBn: Op<Conv2dBnAttrs, null> = {
  type: 'conv+bn',
  backwardReads: { inputs: false, output: false },
  ...convLayerRules,

  forward(ctx, [x, shortcut], params, attrs) {
    const affine = ctx.backend.conv2dAffine;
    if (affine === undefined) throw new Error(`conv+bn: the ${ctx.backend.name} backend has no conv2dAffine kernel`);
    if (ctx.training) throw new Error('conv+bn: inference only; training runs the CONV and the BN apart');
    const { scale, shift } = foldedAffine(params, attrs.eps, ctx.backend.allocator);
    // A dilated conv runs as a dense one (dilation.ts).
    const residual = attrs.residual ? (shortcut as Tensor) : null;
    const y = onDenseWeight(params['weight'] as Tensor, attrs, ctx.backend.allocator, (weight, dense) =>
      affine.call(ctx.backend, x as Tensor, weight, scale, shift, dense, attrs.relu, residual),
    );
    scale.dispose();
    shift.dispose();
    return { output: y, saved: null };
  },

  backward() {
    throw new Error('conv+bn: inference only; training runs the CONV and the BN apart');
  },

  release() {},

  // The scale and shift (one value per filter each), then the output.
  forwardMemory: (shapes, attrs) => {
    const filters = attrs.outChannels;
    const uses = [calls(null, buffer('temporary', filters), buffer('temporary', filters)), ...outputFrom('conv2dAffine', shapes)];
    return isDilated(attrs) ? withDenseWeight((shapes.inputs[0] as number[])[1] as number, attrs, uses) : uses;
  },

  backwardMemory: () => [],
};

/**
 * Per filter o: scale = gamma / sqrt(var + eps), shift = beta + (bias - mean) * scale, so that
 * BN(conv(x) + bias) = conv(x) * scale + shift. Computed in float64, stored in the weights' dtype.
 */
function foldedAffine(params: Readonly<Record<string, Tensor>>, eps: number, allocator: Allocator): { scale: Tensor; shift: Tensor } {
  const bn = (name: string): Tensor => params[FOLDED_BN_PREFIX + name] as Tensor;
  const [gamma, beta, mean, variance] = [bn('weight'), bn('bias'), bn('running_mean'), bn('running_var')];
  const bias = params['bias'];
  const scale = Tensor.empty(gamma.shape, gamma.dtype, allocator);
  const shift = Tensor.empty(gamma.shape, gamma.dtype, allocator);
  for (let o = 0; o < gamma.size; o++) {
    const s = (gamma.data[o] as number) / Math.sqrt((variance.data[o] as number) + eps);
    scale.data[o] = s;
    shift.data[o] = (beta.data[o] as number) + ((bias?.data[o] as number | undefined ?? 0) - (mean.data[o] as number)) * s;
  }
  return { scale, shift };
}
