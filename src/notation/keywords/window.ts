import { adaptiveMeans, windowOutput, type WindowAttrs } from '../../ops/window.js';
import type { Conv2dAttrs } from '../../ops/attrs.js';
import { dilatedExtent } from '../../ops/dilation.js';
import type { Shape } from '../../tensor/shape.js';
import type { LayerNode } from '../ast.js';
import { DEFAULTS } from './defaults.js';
import { pairOf, positiveInt, wrap, writePair } from './attrs.js';
import { keyword, type OnnxAttr, type ResolveContext, type WrittenAttrs } from './types.js';

/** Sliding-window layers: CONV, POOL, AVGPOOL (written `CONV3-64(s=2, p=1, floor)`), and GAP. */

const WINDOW_ATTRS = ['s', 'p', 'k'] as const;

/** Filter size, stride, padding and rounding with the keyword's defaults: CONV keeps the size, a pool tiles. */
function resolveWindow(layer: LayerNode, attrs: WrittenAttrs, ctx: ResolveContext, isConv: boolean, dilation: readonly [number, number] = [1, 1]): WindowAttrs {
  if (layer.size !== null && attrs.has('k')) {
    ctx.fail(`the filter size is given twice (${layer.type}${layer.size.map((n) => ctx.number(n)).join('x')} and k=)`, layer.loc);
  }
  const sizeNums = layer.size?.map((n) => ctx.integer(n, 'a filter size', 1)) ?? null;
  attrs.check('k', 'the filter size must be a whole number of at least 1', positiveInt);
  attrs.check('s', 'the stride must be a whole number of at least 1', positiveInt);
  attrs.check('p', 'the padding must be a whole number of at least 0', (v) => Number.isInteger(v) && v >= 0);
  const kernel = pairOf(sizeNums ?? attrs.get('k') ?? [isConv ? DEFAULTS.convFilter : DEFAULTS.poolFilter]);
  const stride = pairOf(attrs.get('s') ?? (isConv ? [1] : kernel));
  // NOTE: (F-1)/2 keeps the size for odd F, the notes' rule; for even F it is rounded down.
  const padding = pairOf(attrs.get('p') ?? (isConv ? kernel.map((f, axis) => Math.floor(((f - 1) * (dilation[axis] as number)) / 2)) : [0]));
  return { kernel, stride, padding, rounding: attrs.rounding };
}

/** `3-64(s=2)` after the keyword: the size, the count, and what differs from the defaults. */
function writeWindow(keywordText: string, a: WindowAttrs & { dilation?: readonly [number, number] }, isConv: boolean, count: string, more: readonly string[]): string {
  const extras: string[] = [];
  const defaultStride = isConv ? [1, 1] : a.kernel;
  const dilation = a.dilation ?? [1, 1];
  const defaultPad = isConv ? a.kernel.map((f, axis) => Math.floor(((f - 1) * (dilation[axis] as number)) / 2)) : [0, 0];
  if (a.stride[0] !== defaultStride[0] || a.stride[1] !== defaultStride[1]) extras.push(`s=${writePair(a.stride)}`);
  if (a.padding[0] !== defaultPad[0] || a.padding[1] !== defaultPad[1]) extras.push(`p=${writePair(a.padding)}`);
  extras.push(...more);
  if (a.rounding !== 'exact') extras.push(a.rounding);
  return `${keywordText}${writePair(a.kernel)}${count}${wrap(extras)}`;
}

/** ONNX's window attributes; `pads` is [top, left, bottom, right], `extra` more at the bottom and right. */
function onnxWindow(a: WindowAttrs, extra: readonly [number, number] = [0, 0]): OnnxAttr[] {
  return [
    { name: 'kernel_shape', ints: a.kernel },
    { name: 'strides', ints: a.stride },
    { name: 'pads', ints: [a.padding[0], a.padding[1], a.padding[0] + extra[0], a.padding[1] + extra[1]] },
  ];
}

/**
 * `CONV3-64`: F x F filters, stride 1, padding (F-1)/2; bare `CONV` is `CONV3-32`. `d=2` spaces the
 * taps 2 apart (a dilated conv, spanning (F-1)*D + 1 pixels); its default padding keeps that span's size.
 */
export const CONV = keyword({
  op: 'conv',
  syntax: { filterSize: true, count: 'filters' },
  accepts: { named: [...WINDOW_ATTRS, 'd', 'groups', 'bias'], rounding: true, positional: null },
  weighted: true,
  resolve(layer, attrs, ctx) {
    attrs.check('d', 'the dilation must be a whole number of at least 1', positiveInt);
    const dilation = pairOf(attrs.get('d') ?? [1]);
    const window = resolveWindow(layer, attrs, ctx, true, dilation);
    const outChannels = layer.count === null ? DEFAULTS.convFilters : ctx.integer(layer.count, 'the number of filters', 1);
    attrs.check('groups', 'groups must be a whole number of at least 1', positiveInt);
    const dilated = dilation[0] !== 1 || dilation[1] !== 1;
    return { ...window, outChannels, groups: attrs.get('groups')?.[0] ?? 1, bias: attrs.bias, ...(dilated && { dilation }) };
  },
  write: (a) =>
    writeWindow('CONV', a, true, `-${a.outChannels}`, [...(a.dilation !== undefined && (a.dilation[0] !== 1 || a.dilation[1] !== 1) ? [`d=${writePair(a.dilation)}`] : []), ...(a.groups !== 1 ? [`groups=${a.groups}`] : []), ...(a.bias ? [] : ['bias=no'])]),
  onnx: (a, input) => [
    {
      op: 'Conv',
      params: a.bias ? ['weight', 'bias'] : ['weight'],
      attrs: [...onnxWindow(a, ceilPadding(a, input)), ...(a.dilation === undefined ? [] : [{ name: 'dilations', ints: a.dilation }]), { name: 'group', int: a.groups }],
    },
  ],
});

/**
 * ONNX's Conv has no ceil_mode: a `ceil` CONV's last, partial window reads zeros past the input, which
 * is that much more padding at the bottom and right, [h, w].
 */
function ceilPadding(a: Conv2dAttrs, input: Shape): [number, number] {
  if (a.rounding !== 'ceil') return [0, 0];
  const span = dilatedExtent(a);
  const extra = (axis: 0 | 1): number => {
    const size = input[axis + 1] as number;
    const out = windowOutput('conv', axis === 0 ? 'height' : 'width', size, span[axis], a.stride[axis], a.padding[axis], 'ceil');
    return Math.max(0, (out - 1) * a.stride[axis] + span[axis] - size - 2 * a.padding[axis]);
  };
  return [extra(0), extra(1)];
}

/** `POOL2`: max pooling, stride = F, no padding; `d=2` spaces the window's taps 2 apart (PyTorch's dilation). */
export const POOL = keyword({
  op: 'maxpool',
  syntax: { filterSize: true, count: null },
  accepts: { named: [...WINDOW_ATTRS, 'd'], rounding: true, positional: null },
  autoName: 'pool',
  resolve: (layer, attrs, ctx) => {
    attrs.check('d', 'the dilation must be a whole number of at least 1', positiveInt);
    const dilation = pairOf(attrs.get('d') ?? [1]);
    const dilated = dilation[0] !== 1 || dilation[1] !== 1;
    return { ...resolveWindow(layer, attrs, ctx, false), ...(dilated && { dilation }) };
  },
  write: ({ dilation, ...window }) => writeWindow('POOL', window, false, '', dilation === undefined ? [] : [`d=${writePair(dilation)}`]),
  onnx: (a) => [
    {
      op: 'MaxPool',
      params: [],
      attrs: [...onnxWindow(a), ...(a.dilation === undefined ? [] : [{ name: 'dilations', ints: a.dilation }]), { name: 'ceil_mode', int: a.rounding === 'ceil' ? 1 : 0 }],
    },
  ],
});

/** `AVGPOOL5(s=3)`: average pooling; zero padding counts in the average, as PyTorch's default, unless `countpad=0`. */
export const AVGPOOL = keyword({
  op: 'avgpool',
  syntax: { filterSize: true, count: null },
  accepts: { named: [...WINDOW_ATTRS, 'countpad'], rounding: true, positional: null },
  resolve(layer, attrs, ctx) {
    attrs.check('countpad', 'countpad is 0 (average over the values inside the input) or 1', (v) => v === 0 || v === 1);
    return { ...resolveWindow(layer, attrs, ctx, false), countIncludePad: attrs.get('countpad')?.[0] !== 0 };
  },
  write: (a) => writeWindow('AVGPOOL', a, false, '', a.countIncludePad ? [] : ['countpad=0']),
  onnx: (a) => [
    {
      op: 'AveragePool',
      params: [],
      attrs: [...onnxWindow(a), { name: 'ceil_mode', int: a.rounding === 'ceil' ? 1 : 0 }, { name: 'count_include_pad', int: a.countIncludePad ? 1 : 0 }],
    },
  ],
});

/** `GAP`: the mean of each channel, [HxWxC] -> [1x1xC]. */
export const GAP = keyword({
  op: 'globalavgpool',
  syntax: { filterSize: false, count: null },
  accepts: { named: [], rounding: false, positional: null },
  resolve: () => ({}),
  write: () => 'GAP',
  onnx: () => [{ op: 'GlobalAveragePool', params: [], attrs: [] }],
});

/**
 * `ADAPTIVEPOOL-4`: average pooling to a 4x4 grid whatever the input's size, PyTorch's
 * AdaptiveAvgPool2d(4): window i covers [floor(i*H/4), ceil((i+1)*H/4)), so on 14x14 they start at 0,
 * 3, 7, 10 and are 4 or 5 wide (torchvision GoogLeNet's auxiliary heads; the paper's is `AVGPOOL5(s=3)`).
 * `ADAPTIVEPOOL-7x4`: a 7-high, 4-wide grid (AdaptiveAvgPool2d((7, 4))).
 */
export const ADAPTIVEPOOL = keyword({
  op: 'adaptiveavgpool',
  syntax: { filterSize: false, count: 'outputs', countPair: true },
  autoName: 'adaptivepool',
  accepts: { named: [], rounding: false, positional: null },
  resolve: (layer, _attrs, ctx) => {
    const count = layer.count ?? ctx.fail('ADAPTIVEPOOL needs its output size, e.g. ADAPTIVEPOOL-4 for a 4x4 grid or ADAPTIVEPOOL-7x4', layer.loc);
    const height = ctx.integer(count, 'the output height', 1);
    return { output: [height, layer.countWidth === undefined ? height : ctx.integer(layer.countWidth, 'the output width', 1)] };
  },
  write: (a) => `ADAPTIVEPOOL-${writePair(a.output)}`,
  // ONNX has no adaptive pooling: where the windows tile the input evenly it is an AveragePool, else
  // (uneven windows) the linear map it is, one axis at a time, as each window is a rectangle: the
  // planes (N, C, H, W) times the (W, OW) matrix of the columns' window means, then the (OH, H)
  // matrix of the rows' from the left. The import knows these matrices (io/onnx/ops/dense.ts).
  onnx: (a, input) => {
    const [, h, w] = input as [number, number, number];
    const [oh, ow] = a.output;
    if (h % oh === 0 && w % ow === 0) {
      const kernel = [h / oh, w / ow];
      return [{ op: 'AveragePool', params: [], attrs: [{ name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: kernel }, { name: 'pads', ints: [0, 0, 0, 0] }] }];
    }
    const columns = adaptiveMeans(w, ow);
    const rows = adaptiveMeans(h, oh);
    return [
      { op: 'MatMul', params: [], attrs: [], constants: [{ name: 'columns', dims: [w, ow], values: columns }] },
      { op: 'MatMul', params: [], attrs: [], constants: [{ name: 'rows', dims: [oh, h], values: transposed(rows, h, oh) }], constantsFirst: true },
    ];
  },
});

/** A (rows, cols) matrix transposed, as a row-major (cols, rows) one. */
function transposed(m: readonly number[], rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, k) => m[(k % rows) * cols + Math.floor(k / rows)] as number);
}
