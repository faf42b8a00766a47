import type { Conv2dAttrs } from '../ops/conv2d.js';
import { ShapeError } from '../ops/errors.js';
import { windowOutput } from '../ops/window.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** A sliding window over (H, W) planes, giving (OH, OW) outputs: what convolution and pooling share. */
export interface WindowGeometry {
  /** Input height and width. */
  h: number;
  /** Input width. */
  w: number;
  /** Output height and width. */
  oh: number;
  /** Output width. */
  ow: number;
  /** Window (filter) height and width. */
  kh: number;
  /** Window (filter) width. */
  kw: number;
  /** Strides and zero padding (each side), vertical then horizontal. */
  sh: number;
  /** Horizontal stride. */
  sw: number;
  /** Zero padding above and below. */
  ph: number;
  /** Zero padding left and right. */
  pw: number;
}

/**
 * A convolution's geometry, shared by every backend's conv kernels (and written field by field into
 * the wasm kernels' descriptor): x (N, C, H, W), weight (O, C/groups, KH, KW), y (N, O, OH, OW).
 */
export interface ConvGeometry extends WindowGeometry {
  /** Images in the batch. */
  n: number;
  /** Input channels. */
  c: number;
  /** Output channels (filters). */
  o: number;
  /** Channel groups: each filter sees C/groups input channels. */
  groups: number;
}

/** The geometry of x (N, C, H, W) convolved by weight (O, C/groups, KH, KW); throws a ShapeError when they do not fit `attrs`. */
export function convGeometry(xShape: Shape, weightShape: Shape, attrs: Conv2dAttrs): ConvGeometry {
  if (xShape.length !== 4 || weightShape.length !== 4) {
    throw new ShapeError('conv', 'expects x (N, C, H, W) and weight (O, C/groups, KH, KW)', [xShape, weightShape]);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [o, cg, kh, kw] = weightShape as [number, number, number, number];
  const groups = attrs.groups;
  if (cg * groups !== c || o % groups !== 0 || kh !== attrs.kernel[0] || kw !== attrs.kernel[1]) {
    throw new ShapeError('conv', `input and weight do not match ${groups} group${groups === 1 ? '' : 's'} of ${attrs.kernel.join('x')} filters`, [xShape, weightShape]);
  }
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const oh = windowOutput('conv', 'height', h, kh, sh, ph, attrs.rounding);
  const ow = windowOutput('conv', 'width', w, kw, sw, pw, attrs.rounding);
  return { n, c, h, w, o, oh, ow, kh, kw, sh, sw, ph, pw, groups };
}

/** conv2dAffine's geometry: convGeometry's, with one scale and shift per filter and (where given) a residual of the output's size, else a RangeError. */
export function affineGeometry(x: Tensor, weight: Tensor, scale: Tensor, shift: Tensor, attrs: Conv2dAttrs, residual: Tensor | null): ConvGeometry {
  const g = convGeometry(x.shape, weight.shape, attrs);
  if (scale.size !== g.o || shift.size !== g.o) throw new RangeError(`conv: ${scale.size} scales and ${shift.size} shifts for ${g.o} filters`);
  const outputs = g.n * g.o * g.oh * g.ow;
  if (residual !== null && residual.size !== outputs) throw new RangeError(`conv: the residual has ${residual.size} values, the output ${outputs}`);
  return g;
}
