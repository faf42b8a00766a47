import { buffer, calls, type BufferUse, type KernelUse } from './op.js';
import type { Conv2dAttrs } from './attrs.js';
import { Tensor, type Allocator } from '../tensor/tensor.js';

/**
 * Dilated convolution as a dense one: a filter of F taps D apart is a filter of (F - 1) * D + 1 taps
 * with zeros between the real ones. The dense conv gives the same output and input gradient, and its
 * weight gradient at the real taps is the dilated one's; so a dilated CONV runs on every backend's
 * ordinary conv kernels, at the cost of multiplying by the zeros.
 */

/** Whether `attrs` has a dilation other than 1. */
export function isDilated(attrs: Conv2dAttrs): boolean {
  return attrs.dilation !== undefined && (attrs.dilation[0] !== 1 || attrs.dilation[1] !== 1);
}

/** The pixels a filter of `kernel` taps `dilation` apart spans, per axis. */
export function dilatedExtent(attrs: Pick<Conv2dAttrs, 'kernel' | 'dilation'>): [number, number] {
  const [dh, dw] = attrs.dilation ?? [1, 1];
  return [(attrs.kernel[0] - 1) * dh + 1, (attrs.kernel[1] - 1) * dw + 1];
}

/** The attrs of the dense conv computing a dilated one. */
export function denseAttrs(attrs: Conv2dAttrs): Conv2dAttrs {
  const { dilation: _dilation, ...rest } = attrs;
  return { ...rest, kernel: dilatedExtent(attrs) };
}

/**
 * `run(weight, attrs)` on the conv's own weight and attrs, or, where it is dilated, on the dense
 * filters and attrs that compute it (freed after): the forward of the fused conv ops.
 */
export function onDenseWeight(weight: Tensor, attrs: Conv2dAttrs, allocator: Allocator, run: (weight: Tensor, attrs: Conv2dAttrs) => Tensor): Tensor {
  if (!isDilated(attrs)) return run(weight, attrs);
  const dense = spreadWeight(weight, attrs, allocator);
  try {
    return run(dense, denseAttrs(attrs));
  } finally {
    dense.dispose();
  }
}

/** The dense filters (O, C/groups, KH', KW'): the dilated weight's taps spread out, zeros between. */
export function spreadWeight(weight: Tensor, attrs: Conv2dAttrs, allocator: Allocator): Tensor {
  const [o, cg, kh, kw] = weight.shape as [number, number, number, number];
  const [eh, ew] = dilatedExtent(attrs);
  const [dh, dw] = attrs.dilation ?? [1, 1];
  const dense = Tensor.zeros([o, cg, eh, ew], weight.dtype, allocator);
  for (let f = 0; f < o * cg; f++) {
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) dense.data[(f * eh + y * dh) * ew + x * dw] = weight.data[(f * kh + y) * kw + x] as number;
  }
  return dense;
}

/** The dilated weight's gradient: the dense one's values at the real taps. */
export function gatherWeight(dense: Tensor, attrs: Conv2dAttrs, allocator: Allocator): Tensor {
  const [o, cg, eh, ew] = dense.shape as [number, number, number, number];
  const [kh, kw] = attrs.kernel;
  const [dh, dw] = attrs.dilation ?? [1, 1];
  const taps = Tensor.empty([o, cg, kh, kw], dense.dtype, allocator);
  for (let f = 0; f < o * cg; f++) {
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) taps.data[(f * kh + y) * kw + x] = dense.data[(f * eh + y * dh) * ew + x * dw] as number;
  }
  return taps;
}

/** The dense weight's values, for the memory estimate. */
export function denseWeightValues(inChannels: number, attrs: Conv2dAttrs): number {
  const [eh, ew] = dilatedExtent(attrs);
  return attrs.outChannels * (inChannels / attrs.groups) * eh * ew;
}

/** A dilated conv's kernel calls as the memory estimate replays them: the dense weight first, a temporary. */
export function withDenseWeight(inChannels: number, attrs: Conv2dAttrs, uses: readonly KernelUse[]): KernelUse[] {
  const dense = denseAttrs(attrs);
  const temporary: BufferUse = buffer('temporary', denseWeightValues(inChannels, attrs));
  return [calls(null, temporary), ...uses.map((use) => (use.kernel === null ? use : { ...use, attrs: dense }))];
}
