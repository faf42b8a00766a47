import { DEFAULTS } from './defaults.js';
import { positiveInt, wrap } from './attrs.js';
import { keyword } from './types.js';

/** Layers that keep their input's shape: BN, LRN, DROPOUT, RELU, SOFTMAX. */

/** `BN(eps=0.001)`: batch normalisation with running statistics. */
export const BN = keyword({
  op: 'bn',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['eps', 'momentum'], rounding: false, positional: null },
  weighted: true,
  resolve(_layer, attrs) {
    attrs.check('eps', 'eps must be positive', (v) => v > 0);
    attrs.check('momentum', 'momentum must be in [0, 1]', (v) => v >= 0 && v <= 1);
    return { eps: attrs.get('eps')?.[0] ?? DEFAULTS.bnEps, momentum: attrs.get('momentum')?.[0] ?? DEFAULTS.bnMomentum };
  },
  write: (a) => `BN${wrap([...(a.eps !== DEFAULTS.bnEps ? [`eps=${a.eps}`] : []), ...(a.momentum !== DEFAULTS.bnMomentum ? [`momentum=${a.momentum}`] : [])])}`,
  // ONNX's momentum keeps that much of the running statistics, convstack's (PyTorch's) that much of the batch's.
  onnx: (a) => [
    { op: 'BatchNormalization', params: ['weight', 'bias', 'running_mean', 'running_var'], attrs: [{ name: 'epsilon', float: a.eps }, { name: 'momentum', float: 1 - a.momentum }] },
  ],
});

/** `LRN(size=5, alpha=0.0001, beta=0.75, k=2)`: local response normalisation across channels. */
export const LRN = keyword({
  op: 'lrn',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['size', 'alpha', 'beta', 'k'], rounding: false, positional: null },
  resolve(_layer, attrs) {
    attrs.check('size', 'the LRN size must be a whole number of at least 1', positiveInt);
    const l = DEFAULTS.lrn;
    const get = (name: keyof typeof l): number => attrs.get(name)?.[0] ?? l[name];
    return { size: get('size'), alpha: get('alpha'), beta: get('beta'), k: get('k') };
  },
  write: (a) => `LRN${wrap((['size', 'alpha', 'beta', 'k'] as const).filter((key) => a[key] !== DEFAULTS.lrn[key]).map((key) => `${key}=${a[key]}`))}`,
  onnx: (a) => [
    {
      op: 'LRN',
      params: [],
      attrs: [
        { name: 'size', int: a.size },
        { name: 'alpha', float: a.alpha },
        { name: 'beta', float: a.beta },
        { name: 'bias', float: a.k },
      ],
    },
  ],
});

/** `DROPOUT(0.5)`: inverted dropout; the identity at inference. */
export const DROPOUT = keyword({
  op: 'dropout',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['p'], rounding: false, positional: 'p' },
  inPlace: true,
  resolve(_layer, attrs) {
    attrs.check('p', 'the drop probability must be in [0, 1)', (v) => v >= 0 && v < 1);
    return { p: attrs.get('p')?.[0] ?? DEFAULTS.dropout };
  },
  write: (a) => `DROPOUT(${a.p})`,
  onnx: () => [{ op: 'Identity', params: [], attrs: [] }],
});

/** `RELU`: max(0, x). */
export const RELU = keyword({
  op: 'relu',
  syntax: { filterSize: false, count: null },
  accepts: { named: [], rounding: false, positional: null },
  inPlace: true,
  resolve: () => ({}),
  write: () => 'RELU',
  onnx: () => [{ op: 'Relu', params: [], attrs: [] }],
});

/** The words of `SOFTMAX(over=...)`, by the per-image axis of [C, H, W] each names. */
const SOFTMAX_AXES = ['c', 'h', 'w'] as const;

/**
 * `SOFTMAX`: class scores as probabilities. `SOFTMAX(over=c)` takes them over the channels of each
 * pixel of a volume (a segmentation net's), `over=h` or `over=w` along its rows or columns.
 */
export const SOFTMAX = keyword({
  op: 'softmax',
  syntax: { filterSize: false, count: null },
  accepts: { named: ['over'], rounding: false, positional: null, words: { over: SOFTMAX_AXES } },
  resolve(_layer, attrs) {
    const over = attrs.word('over');
    return over === null ? {} : { axis: SOFTMAX_AXES.indexOf(over as (typeof SOFTMAX_AXES)[number]) };
  },
  write: (a) => (a.axis === undefined ? 'SOFTMAX' : `SOFTMAX(over=${SOFTMAX_AXES[a.axis] ?? a.axis})`),
  // NOTE: an axis counted from the end (-1 the last); before opset 13 ONNX's Softmax flattens from its
  // axis on, which is the same only for the last axis (the export refuses the others there).
  onnx: (a, input) => [{ op: 'Softmax', params: [], attrs: [{ name: 'axis', int: a.axis === undefined ? 1 : a.axis - input.length }] }],
});
