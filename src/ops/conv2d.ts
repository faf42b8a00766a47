import { buffer, calls, inputGrad, outputFrom, param, type BackwardResult, type ForwardContext, type KernelUse, type Op } from './op.js';
import { denseAttrs, denseWeightValues, dilatedExtent, gatherWeight, isDilated, spreadWeight, withDenseWeight } from './dilation.js';
import { ShapeError } from './errors.js';
import { windowOutput } from './window.js';
import type { Conv2dAttrs } from './attrs.js';
import { sizeOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type { Conv2dAttrs };

interface Saved {
  x: Tensor;
}

function checkedInput(inputs: readonly Shape[], attrs: Conv2dAttrs): [number, number, number] {
  const x = inputs[0];
  if (inputs.length !== 1 || x === undefined || x.length !== 3) {
    throw new ShapeError('conv', 'expects one [C, H, W] volume', inputs);
  }
  const [c, h, w] = x as [number, number, number];
  if (c % attrs.groups !== 0 || attrs.outChannels % attrs.groups !== 0) {
    throw new ShapeError('conv', `${c} input and ${attrs.outChannels} output channels do not split into ${attrs.groups} groups`, inputs);
  }
  return [c, h, w];
}

/** The CONV op: `conv2d` forward; `conv2dGradWeight`, `biasGrad` and `conv2dGradInput` backward. */
export const conv2d: Op<Conv2dAttrs, Saved> = {
  type: 'conv',
  backwardReads: { inputs: true, output: false },
  frozenBackwardReads: { inputs: false, output: false },

  outputShape(inputs, attrs) {
    const [, h, w] = checkedInput(inputs, attrs);
    const [fh, fw] = dilatedExtent(attrs);
    const [sh, sw] = attrs.stride;
    const [ph, pw] = attrs.padding;
    return [
      attrs.outChannels,
      windowOutput('conv', 'height', h, fh, sh, ph, attrs.rounding),
      windowOutput('conv', 'width', w, fw, sw, pw, attrs.rounding),
    ];
  },

  params(inputs, attrs) {
    const [c] = checkedInput(inputs, attrs);
    const fanIn = (c / attrs.groups) * attrs.kernel[0] * attrs.kernel[1];
    // As torch's fan_out: every filter's taps, not divided by the groups.
    const fanOut = attrs.outChannels * attrs.kernel[0] * attrs.kernel[1];
    const specs = [param('weight', [attrs.outChannels, c / attrs.groups, attrs.kernel[0], attrs.kernel[1]], { kind: 'weight', layer: 'conv', fanIn, fanOut })];
    if (attrs.bias) specs.push(param('bias', [attrs.outChannels], { kind: 'bias', fanIn }));
    return specs;
  },

  macs(inputs, output, attrs) {
    const [c] = checkedInput(inputs, attrs);
    const [o, oh, ow] = output as [number, number, number];
    return o * oh * ow * (c / attrs.groups) * attrs.kernel[0] * attrs.kernel[1];
  },

  forward(ctx, [x], params, attrs) {
    const input = x as Tensor;
    const weight = params['weight'] as Tensor;
    if (!isDilated(attrs)) return { output: ctx.backend.conv2d(input, weight, params['bias'] ?? null, attrs), saved: { x: input } };
    const dense = spreadWeight(weight, attrs, ctx.backend.allocator);
    const y = ctx.backend.conv2d(input, dense, params['bias'] ?? null, denseAttrs(attrs));
    dense.dispose();
    return { output: y, saved: { x: input } };
  },

  // NOTE: frozen, only x's shape is read: the schedule may have freed x already (frozenBackwardReads).
  backward(ctx, { x }, dy, params, attrs, inputGradWanted) {
    if (isDilated(attrs)) return dilatedBackward(ctx, x, dy, params, attrs, inputGradWanted);
    const weight = params['weight'] as Tensor;
    const grads: Record<string, Tensor> = {};
    if (ctx.frozen !== true) {
      grads['weight'] = ctx.backend.conv2dGradWeight(dy, x, attrs);
      if (attrs.bias) grads['bias'] = ctx.backend.biasGrad(dy);
    }
    const dx = inputGradWanted?.[0] === false ? null : ctx.backend.conv2dGradInput(dy, weight, x.shape, attrs);
    return { inputs: [dx], params: grads };
  },

  release() {},

  forwardMemory: (shapes, attrs) => {
    const uses = outputFrom('conv2d', shapes);
    return isDilated(attrs) ? withDenseWeight((shapes.inputs[0] as Shape)[1] as number, attrs, uses) : uses;
  },

  // dweight, dbias (none when frozen), then dx unless unwanted: the order of `backward`.
  backwardMemory({ inputs }, attrs, inputGradWanted, frozen = false) {
    const c = (inputs[0] as Shape)[1] as number;
    const weightValues = attrs.outChannels * (c / attrs.groups) * attrs.kernel[0] * attrs.kernel[1];
    const uses: KernelUse[] = [];
    const dilated = isDilated(attrs);
    if (!frozen) {
      // A dilated conv's weight gradient is the dense one's at the real taps.
      if (dilated) uses.push({ kernel: 'conv2dGradWeight', attrs: denseAttrs(attrs), buffers: [buffer('temporary', denseWeightValues(c, attrs))] });
      uses.push(calls(dilated ? null : 'conv2dGradWeight', buffer('paramGrad', weightValues)));
      if (attrs.bias) uses.push(calls('biasGrad', buffer('paramGrad', attrs.outChannels)));
    }
    if (inputGradWanted[0] !== false) {
      if (dilated) uses.push(calls(null, buffer('temporary', denseWeightValues(c, attrs))));
      uses.push({ kernel: 'conv2dGradInput', ...(dilated && { attrs: denseAttrs(attrs) }), buffers: [inputGrad(0, sizeOf(inputs[0] as Shape))] });
    }
    return uses;
  },
};

/** A CONV's shape rule, parameters and cost, which the fused ops built on one (conv2d_relu.ts, conv2d_bn.ts) take as they are. */
export const convLayerRules: Pick<Op<Conv2dAttrs, unknown>, 'outputShape' | 'params' | 'macs'> = {
  outputShape: (inputs, attrs) => conv2d.outputShape(inputs, attrs),
  params: (inputs, attrs) => conv2d.params(inputs, attrs),
  macs: (inputs, output, attrs) => conv2d.macs(inputs, output, attrs),
};

/** A dilated conv's backward through the dense one (see dilation.ts); the dense tensors are freed before it returns. */
function dilatedBackward(
  ctx: ForwardContext,
  x: Tensor,
  dy: Tensor,
  params: Readonly<Record<string, Tensor>>,
  attrs: Conv2dAttrs,
  inputGradWanted: readonly boolean[] | undefined,
): BackwardResult {
  const dense = denseAttrs(attrs);
  const temporaries: Tensor[] = [];
  const grads: Record<string, Tensor> = {};
  if (ctx.frozen !== true) {
    const denseGrad = ctx.backend.conv2dGradWeight(dy, x, dense);
    temporaries.push(denseGrad);
    grads['weight'] = gatherWeight(denseGrad, attrs, ctx.backend.allocator);
    if (attrs.bias) grads['bias'] = ctx.backend.biasGrad(dy);
  }
  let dx: Tensor | null = null;
  if (inputGradWanted?.[0] !== false) {
    const denseWeight = spreadWeight(params['weight'] as Tensor, attrs, ctx.backend.allocator);
    temporaries.push(denseWeight);
    dx = ctx.backend.conv2dGradInput(dy, denseWeight, x.shape, dense);
  }
  temporaries.forEach((t) => t.dispose());
  return { inputs: [dx], params: grads };
}
