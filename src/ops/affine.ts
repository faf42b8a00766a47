import { inputGradFrom, outputFrom, param, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { Tensor } from '../tensor/tensor.js';


/**
 * AFFINE: a fixed per-channel y = scale[c] * x + shift[c], (N, C, H, W) or (N, C), unchanged. What an
 * input normalisation (GoogLeNet's `transform_input`) or an ONNX Mul/Add by a per-channel constant is.
 * `scale` and `shift` are buffers, not trained.
 */
export type AffineAttrs = Record<string, never>;

interface Saved {
  scale: Tensor;
  channels: number;
}

/** The AFFINE op: backward needs only the scale. */
export const affine: Op<AffineAttrs, Saved> = {
  type: 'affine',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || (x.length !== 3 && x.length !== 1)) {
      throw new ShapeError('affine', 'expects one [C, H, W] volume or [F] vector', inputs);
    }
    return x;
  },
  // [C, 1, 1] on a volume, [F] on a vector: ONNX's broadcasting of a per-channel constant.
  params: (inputs) => {
    const x = inputs[0] ?? [0];
    const shape = x.map((d, axis) => (axis === 0 ? d : 1));
    return [param('scale', shape, { kind: 'ones' }, false), param('shift', shape, { kind: 'zeros' }, false)];
  },
  macs: () => 0,

  forward(ctx, [x], params) {
    const input = x as Tensor;
    const scale = params['scale'] as Tensor;
    const shift = params['shift'] as Tensor;
    const channels = input.shape[1] as number;
    return { output: affineChannels(input, scale, shift, ctx.backend.allocator), saved: { scale, channels } };
  },

  backward(ctx, { scale }, dy) {
    return { inputs: [affineChannels(dy, scale, null, ctx.backend.allocator)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom(null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};

/** y = scale[c] * x + shift[c]; x is (N, C, ...) with the channel on axis 1. */
function affineChannels(x: Tensor, scale: Tensor, shift: Tensor | null, allocator: Tensor['allocator']): Tensor {
  const y = Tensor.empty(x.shape, x.dtype, allocator);
  const channels = x.shape[1] as number;
  const plane = x.size / ((x.shape[0] as number) * channels);
  for (let i = 0; i < x.size; i++) {
    const c = Math.floor(i / plane) % channels;
    y.data[i] = (x.data[i] as number) * (scale.data[c] as number) + (shift === null ? 0 : (shift.data[c] as number));
  }
  return y;
}

