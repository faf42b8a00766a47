import type { WindowAttrs } from './window.js';

// The attributes of the ops whose kernels take attributes. NOTE: they live here, not in the op files,
// so that the Backend contract can name them without importing the ops (which import the contract);
// each op file re-exports its own.

/**
 * CONV: `outChannels` filters of size kernel[0] x kernel[1] over C/groups input channels.
 * Shape: (N, C, H, W) -> (N, outChannels, OH, OW), OH = (H - FH + 2PH)/SH + 1 (likewise OW).
 */
export interface Conv2dAttrs extends WindowAttrs {
  /** Filters, and so output channels. */
  outChannels: number;
  /** Channel groups: each filter sees C/groups input channels; 1 for an ordinary CONV. */
  groups: number;
  /** Whether each filter has a bias (O). */
  bias: boolean;
  /**
   * Spacing of the filter's taps [DH, DW] (a dilated, "atrous" conv); absent or 1 for an ordinary one.
   * A dilated filter spans (F - 1) * D + 1 pixels. NOTE: the backends' kernels never see it: the op
   * runs a dilated conv as a dense one with zeros between the taps (ops/dilation.ts).
   */
  dilation?: readonly [number, number];
}

/** POOL (max): the largest value in each kernel[0] x kernel[1] window; padding never wins. */
export interface PoolAttrs extends WindowAttrs {
  /**
   * Spacing of the window's taps [DH, DW] (PyTorch's MaxPool2d dilation); absent or 1 for an ordinary
   * pool. Only the optional `maxPool2dDilated` kernel sees a dilation other than 1.
   */
  dilation?: readonly [number, number];
}

/**
 * POOL (average). `countIncludePad` divides by the whole window, padding included (PyTorch's
 * default); otherwise by the values inside the input.
 */
export interface AvgPoolAttrs extends WindowAttrs {
  /** Divide by the whole window, padding included (PyTorch's default), rather than the values inside. */
  countIncludePad: boolean;
}

/**
 * LRN across channels, as AlexNet and GoogLeNet use it (PyTorch's LocalResponseNorm):
 * y = x / (k + alpha/size * sum of x^2 over the `size` channels around c)^beta, where the window for
 * channel c spans c - floor(size/2) .. c + floor((size-1)/2), clipped to the volume.
 */
export interface LrnAttrs {
  /** Channels in the window (AlexNet: 5). */
  size: number;
  /** Scale of the sum of squares, divided by `size` as PyTorch does (AlexNet: 1e-4). */
  alpha: number;
  /** Exponent (AlexNet: 0.75). */
  beta: number;
  /** Additive constant (AlexNet: 2; PyTorch's default 1). */
  k: number;
}

/**
 * Adaptive average pooling to a fixed `output` grid [OH, OW], as PyTorch's AdaptiveAvgPool2d: window
 * i along an axis of size H covers [floor(i*H/OH), ceil((i+1)*H/OH)), so windows may differ in size
 * and overlap (torchvision GoogLeNet's auxiliary heads pool 14x14 to 4x4 at 0, 3, 7, 10).
 */
export interface AdaptiveAvgPoolAttrs {
  /** The output grid [OH, OW]. */
  output: readonly [number, number];
}
