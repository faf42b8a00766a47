import { inputGradFrom, outputFrom, param, type Op } from './op.js';
import { ShapeError } from './errors.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * AFFINE: a fixed per-channel y = scale[c] * x + shift[c], (N, C, H, W) or (N, C), unchanged. What an
 * input normalisation (GoogLeNet's `transform_input`) or an ONNX Mul/Add by a per-channel constant is.
 * The values are written in the notation (`AFFINE(scale=0.458x0.448x0.45, shift=-0.03x-0.088x-0.188)`,
 * and the layer has no parameters), or held in `scale` and `shift` buffers, not trained (bare `AFFINE`,
 * as an ONNX import makes it).
 */
export interface AffineAttrs {
  /** One scale per channel, as written; absent when the `scale` and `shift` buffers hold them. */
  scale?: readonly number[];
  /** One shift per channel, as written; present exactly when `scale` is. */
  shift?: readonly number[];
}

interface Saved {
  scale: ArrayLike<number>;
}

/** The AFFINE op: backward needs only the scale. */
export const affine: Op<AffineAttrs, Saved> = {
  type: 'affine',
  backwardReads: { inputs: false, output: false },
  outputShape(inputs, attrs) {
    const x = inputs[0];
    if (inputs.length !== 1 || x === undefined || (x.length !== 3 && x.length !== 1)) {
      throw new ShapeError('affine', 'expects one [C, H, W] volume or [F] vector', inputs);
    }
    const channels = x[0] as number;
    for (const [name, values] of [['scale', attrs.scale], ['shift', attrs.shift]] as const) {
      if (values !== undefined && values.length !== channels) throw new ShapeError('affine', `${values.length} values of ${name} for ${channels} channels`, inputs);
    }
    if ((attrs.scale === undefined) !== (attrs.shift === undefined)) throw new ShapeError('affine', 'takes scale and shift together, or neither', inputs);
    return x;
  },
  // Buffers [C, 1, 1] on a volume, [F] on a vector (ONNX's broadcasting of a per-channel constant), unless written.
  params: (inputs, attrs) => {
    if (attrs.scale !== undefined) return [];
    const x = inputs[0] ?? [0];
    const shape = x.map((d, axis) => (axis === 0 ? d : 1));
    return [param('scale', shape, { kind: 'ones' }, false), param('shift', shape, { kind: 'zeros' }, false)];
  },
  macs: () => 0,

  forward(ctx, [x], params, attrs) {
    const scale = attrs.scale ?? (params['scale'] as Tensor).data;
    const shift = attrs.shift ?? (params['shift'] as Tensor).data;
    return { output: affineChannels(x as Tensor, scale, shift, ctx.backend.allocator), saved: { scale } };
  },

  backward(ctx, { scale }, dy) {
    return { inputs: [affineChannels(dy, scale, null, ctx.backend.allocator)], params: {} };
  },

  release() {},
  forwardMemory: (shapes) => outputFrom(null, shapes),
  backwardMemory: (shapes) => inputGradFrom(null, shapes),
};

/** y = scale[c] * x + shift[c]; x is (N, C, ...) with the channel on axis 1. */
function affineChannels(x: Tensor, scale: ArrayLike<number>, shift: ArrayLike<number> | null, allocator: Tensor['allocator']): Tensor {
  const y = Tensor.empty(x.shape, x.dtype, allocator);
  const channels = x.shape[1] as number;
  const plane = x.size / ((x.shape[0] as number) * channels);
  for (let i = 0; i < x.size; i++) {
    const c = Math.floor(i / plane) % channels;
    y.data[i] = (x.data[i] as number) * (scale[c] as number) + (shift === null ? 0 : (shift[c] as number));
  }
  return y;
}
