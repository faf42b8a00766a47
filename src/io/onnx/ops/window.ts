import type { Rounding } from '../../../ops/window.js';
import type { NetValue, NodeView, Value } from '../context.js';
import { weightTensor } from '../context.js';
import type { OpImporter } from './types.js';

/** Conv, MaxPool, AveragePool, GlobalAveragePool and Pad: the window ops, on (N, C, H, W). */

type Sides = [top: number, left: number, bottom: number, right: number];

/** A 2-D image input: convstack's windows slide over H and W. */
function imageInput(n: NodeView): NetValue {
  const x = n.netInput(0);
  if (x.shape.length !== 3) n.fail(`a ${x.shape.length + 1}-D input; convstack's windows are 2-D, over (N, C, H, W)`);
  return x;
}

/** `pads` as [top, left, bottom, right], resolving `auto_pad` as ONNX defines it. */
function resolvePads(n: NodeView, size: readonly number[], kernel: readonly number[], stride: readonly number[], dilations: readonly number[]): Sides {
  const autoPad = n.string('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const pads = n.ints('pads', [0, 0, 0, 0]);
    if (pads.length !== 4 || pads.some((p) => p < 0)) n.fail(`pads [${pads.join(', ')}]: expected 4 values of at least 0 for a 2-D window`);
    return pads as Sides;
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') return n.fail(`auto_pad '${autoPad}' is not one ONNX defines`);
  // SAME: output = ceil(input / stride); the odd pixel of padding goes at the end (UPPER) or the start (LOWER).
  const sides = [0, 1].map((axis) => {
    const input = size[axis] as number;
    const out = Math.ceil(input / (stride[axis] as number));
    const extent = ((kernel[axis] as number) - 1) * (dilations[axis] as number) + 1;
    const total = Math.max(0, (out - 1) * (stride[axis] as number) + extent - input);
    const start = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    return [start, total - start] as const;
  });
  const [[top, bottom], [left, right]] = sides as [[number, number], [number, number]];
  return [top, left, bottom, right];
}

interface Window {
  kernel: [number, number];
  stride: [number, number];
  pads: Sides;
}

/** kernel_shape, strides, dilations (only 1) and pads of a window op. */
function readWindow(n: NodeView, x: NetValue, kernelFallback: readonly number[] | null): Window {
  const kernel = n.ints('kernel_shape', kernelFallback ?? []);
  if (kernel.length !== 2) n.fail(`kernel_shape [${kernel.join(', ')}]: convstack's windows are 2-D`);
  const stride = n.ints('strides', [1, 1]);
  const dilations = n.ints('dilations', [1, 1]);
  if (dilations.some((d) => d !== 1)) n.fail(`dilations [${dilations.join(', ')}]: dilated windows are not supported`);
  return { kernel: kernel as [number, number], stride: stride as [number, number], pads: resolvePads(n, x.shape.slice(1), kernel, stride, dilations) };
}

const symmetric = (p: Sides): boolean => p[0] === p[2] && p[1] === p[3];

/**
 * The input with explicit padding when the window's is asymmetric or more than half the window (which
 * convstack's pools, as PyTorch's, refuse), and the padding left for the window.
 */
function padded(n: NodeView, x: NetValue, pads: Sides, kernel: readonly [number, number], forMax: boolean): { x: NetValue; padding: [number, number] } {
  const withinHalf = pads[0] <= kernel[0] / 2 && pads[1] <= kernel[1] / 2;
  if (symmetric(pads) && withinHalf) return { x, padding: [pads[0], pads[1]] };
  const [top, left, bottom, right] = pads;
  return { x: n.ctx.add(n, 'pad', { top, left, bottom, right, value: 0, forMax }, [x]), padding: [0, 0] };
}

/** Conv(X, W, B?; auto_pad, dilations, group, kernel_shape, pads, strides). */
export const Conv: OpImporter = (n) => {
  const x = imageInput(n);
  const w = n.constInput(1) ?? n.fail('no weight');
  if (w.dims.length !== 4) n.fail(`a weight of shape [${w.dims.join(', ')}]; a 2-D Conv's is (M, C/group, kH, kW)`);
  const [outChannels, , kh, kw] = w.dims as [number, number, number, number];
  const window = readWindow(n, x, [kh, kw]);
  const b = n.constInput(2);
  if (b !== null && b.data.length !== outChannels) n.fail(`a bias of ${b.data.length} values for ${outChannels} filters`);
  const params = { weight: weightTensor(w.dims, w.data), ...(b !== null && { bias: weightTensor([outChannels], b.data) }) };
  const { x: input, padding } = padded(n, x, window.pads, window.kernel, false);
  const attrs = { kernel: window.kernel, stride: window.stride, padding, rounding: 'floor' as Rounding, outChannels, groups: n.int('group', 1), bias: b !== null };
  return [n.ctx.add(n, 'conv', attrs, [input], params)];
};

/** MaxPool(X; auto_pad, ceil_mode, dilations, kernel_shape, pads, storage_order, strides); no Indices output. */
export const MaxPool: OpImporter = (n) => {
  if ((n.proto.output[1] ?? '') !== '') n.fail('the Indices output is not supported');
  const x = imageInput(n);
  const window = readWindow(n, x, null);
  const { x: input, padding } = padded(n, x, window.pads, window.kernel, true);
  const rounding: Rounding = n.int('ceil_mode', 0) === 1 ? 'ceil' : 'floor';
  return [n.ctx.add(n, 'maxpool', { kernel: window.kernel, stride: window.stride, padding, rounding }, [input])];
};

/** AveragePool(X; auto_pad, ceil_mode, count_include_pad = 0, kernel_shape, pads, strides). */
export const AveragePool: OpImporter = (n) => {
  const x = imageInput(n);
  const window = readWindow(n, x, null);
  const countIncludePad = n.int('count_include_pad', 0) === 1;
  const noPadding = window.pads.every((p) => p === 0);
  // NOTE: padding made explicit by a PAD counts in the average; without count_include_pad it must not.
  const withinHalf = window.pads[0] <= window.kernel[0] / 2 && window.pads[1] <= window.kernel[1] / 2;
  if ((!symmetric(window.pads) || !withinHalf) && !countIncludePad) {
    n.fail(`pads [${window.pads.join(', ')}] that are asymmetric or more than half the window, with count_include_pad=0, are not supported`);
  }
  const { x: input, padding } = padded(n, x, window.pads, window.kernel, false);
  const rounding: Rounding = n.int('ceil_mode', 0) === 1 ? 'ceil' : 'floor';
  const attrs = { kernel: window.kernel, stride: window.stride, padding, rounding, countIncludePad: countIncludePad || noPadding };
  return [n.ctx.add(n, 'avgpool', attrs, [input])];
};

/** GlobalAveragePool(X). */
export const GlobalAveragePool: OpImporter = (n) => [n.ctx.add(n, 'globalavgpool', {}, [imageInput(n)])];

/** Pad(data, pads, constant_value?; mode = 'constant'), pads as an attribute before opset 11. */
export const Pad: OpImporter = (n): Value[] => {
  const mode = n.string('mode', 'constant');
  if (mode !== 'constant') n.fail(`mode '${mode}' is not supported (only 'constant')`);
  const x = imageInput(n);
  const pads = n.ctx.opset < 11 ? n.ints('pads', []) : Array.from(n.constInput(1)?.data ?? []);
  const value = n.ctx.opset < 11 ? n.float('value', 0) : (n.constInput(2)?.data[0] ?? 0);
  if (n.inputCount > 3 && n.ctx.opset >= 18) n.fail('the axes input is not supported');
  if (pads.length !== 8) n.fail(`pads [${pads.join(', ')}]: expected 8 values for (N, C, H, W)`);
  const [n0, c0, top, left, n1, c1, bottom, right] = pads as [number, number, number, number, number, number, number, number];
  if (n0 !== 0 || c0 !== 0 || n1 !== 0 || c1 !== 0) n.fail('padding the batch or channel axis is not supported');
  if ([top, left, bottom, right].some((p) => p < 0)) n.fail(`negative pads (cropping) are not supported`);
  const forMax = value === -Infinity;
  return [n.ctx.add(n, 'pad', { top, left, bottom, right, value: forMax ? 0 : value, forMax }, [x])];
};
