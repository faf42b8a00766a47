import { wrap } from './attrs.js';
import { keyword, type OnnxNode } from './types.js';

/**
 * Layers the ONNX importer needs beyond the notes' set: PAD (asymmetric and `same` padding), AFFINE (a
 * fixed per-channel scale and shift) and LEAKYRELU.
 */

const SIDES = ['t', 'l', 'b', 'r'] as const;
const wholeOrZero = (v: number): boolean => Number.isInteger(v) && v >= 0;

/**
 * `PAD(t=0, l=0, b=1, r=1)`: rows and columns of zeros around each plane (`value=` another fill);
 * `max=1` fills with -infinity, for a max pool after it.
 */
export const PAD = keyword({
  op: 'pad',
  syntax: { filterSize: false, count: null },
  accepts: { named: [...SIDES, 'value', 'max'], rounding: false, positional: null },
  resolve(_layer, attrs) {
    for (const side of SIDES) attrs.check(side, 'a padding must be a whole number of at least 0', wholeOrZero);
    attrs.check('max', 'max is 0 or 1', (v) => v === 0 || v === 1);
    const side = (name: (typeof SIDES)[number]): number => attrs.get(name)?.[0] ?? 0;
    return { top: side('t'), left: side('l'), bottom: side('b'), right: side('r'), value: attrs.get('value')?.[0] ?? 0, forMax: attrs.get('max')?.[0] === 1 };
  },
  write: (a) =>
    `PAD${wrap([`t=${a.top}`, `l=${a.left}`, `b=${a.bottom}`, `r=${a.right}`, ...(a.value !== 0 && !a.forMax ? [`value=${a.value}`] : []), ...(a.forMax ? ['max=1'] : [])])}`,
  // NOTE: the attribute form of Pad is opset 2-10's; from opset 11 the pads are an input tensor.
  onnx: (a) => [
    {
      op: 'Pad',
      params: [],
      attrs: [
        { name: 'pads', ints: [0, 0, a.top, a.left, 0, 0, a.bottom, a.right] },
        { name: 'value', float: a.forMax ? -3.4028234663852886e38 : a.value },
      ],
    },
  ],
});

/**
 * `AFFINE(scale=0.458x0.448x0.45, shift=-0.03x-0.088x-0.188)`: y = scale * x + shift per channel,
 * fixed, one value per channel written with `x` between them (GoogLeNet's `transform_input`). Bare
 * `AFFINE` keeps them in buffers `scale` and `shift` (not trained), as an ONNX import makes it.
 */
export const AFFINE = keyword({
  op: 'affine',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['scale', 'shift'], rounding: false, positional: null, lists: ['scale', 'shift'] },
  weighted: true,
  resolve(layer, attrs, ctx) {
    const scale = attrs.get('scale');
    const shift = attrs.get('shift');
    if ((scale === null) !== (shift === null)) ctx.fail('AFFINE takes scale= and shift= together (one value per channel each), or neither', layer.loc);
    return scale === null || shift === null ? {} : { scale, shift };
  },
  write: (a) => (a.scale === undefined || a.shift === undefined ? 'AFFINE' : `AFFINE(scale=${a.scale.join('x')}, shift=${a.shift.join('x')})`),
  // [C, 1, 1] on a volume, so they broadcast over H and W as ONNX does: the buffers, or the written values.
  onnx: (a, input) => {
    const dims = input.map((d, axis) => (axis === 0 ? d : 1));
    const operand = (name: 'scale' | 'shift'): Pick<OnnxNode, 'params' | 'constants'> => {
      const values = a[name];
      return values === undefined ? { params: [name] } : { params: [], constants: [{ name, dims, values }] };
    };
    return [
      { op: 'Mul', attrs: [], ...operand('scale') },
      { op: 'Add', attrs: [], ...operand('shift') },
    ];
  },
});

/** `LEAKYRELU(0.01)`: x for x >= 0, alpha * x below. */
export const LEAKYRELU = keyword({
  op: 'leakyrelu',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['alpha'], rounding: false, positional: 'alpha' },
  resolve(_layer, attrs) {
    attrs.check('alpha', 'alpha must be a number of at least 0', (v) => v >= 0);
    return { alpha: attrs.get('alpha')?.[0] ?? LEAKY_ALPHA };
  },
  write: (a) => `LEAKYRELU(${a.alpha})`,
  onnx: (a) => [{ op: 'LeakyRelu', params: [], attrs: [{ name: 'alpha', float: a.alpha }] }],
});

/** ONNX's and PyTorch's default negative slope. */
const LEAKY_ALPHA = 0.01;
