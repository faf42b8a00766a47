import { wrap } from './attrs.js';
import { keyword } from './types.js';

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

/** `AFFINE`: y = scale * x + shift per channel, fixed (buffers `scale` and `shift`, not trained). */
export const AFFINE = keyword({
  op: 'affine',
  syntax: { filterSize: false, count: null },
  accepts: { named: [], rounding: false, positional: null },
  weighted: true,
  resolve: () => ({}),
  write: () => 'AFFINE',
  // The buffers are [C, 1, 1] on a volume, so they broadcast over H and W as ONNX does.
  onnx: () => [
    { op: 'Mul', params: ['scale'], attrs: [] },
    { op: 'Add', params: ['shift'], attrs: [] },
  ],
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
