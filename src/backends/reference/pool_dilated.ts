import type { PoolAttrs } from '../../ops/attrs.js';
import { ShapeError } from '../../ops/errors.js';
import { windowOutput } from '../../ops/window.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/**
 * Max pooling with the window's taps `attrs.dilation` apart, as PyTorch 1.13's max_pool2d with
 * dilation: window (oy, ox) starts at o*S - P, its k taps at start + i*D, those outside the input
 * skipped (padding never wins); the output size is that of a window spanning (K-1)*D + 1. argmax is
 * the flat index in the (H, W) plane, as `maxPool2d`'s, so `maxPool2dGrad` takes it.
 */
export function maxPool2dDilated(allocator: Allocator, x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array } {
  if (x.shape.length !== 4) throw new ShapeError('maxpool', 'expects x (N, C, H, W)', [x.shape]);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const [dh, dw] = attrs.dilation ?? [1, 1];
  const oh = windowOutput('maxpool', 'height', h, (kh - 1) * dh + 1, sh, ph, attrs.rounding);
  const ow = windowOutput('maxpool', 'width', w, (kw - 1) * dw + 1, sw, pw, attrs.rounding);
  const y = Tensor.zeros([n, c, oh, ow], x.dtype, allocator);
  const argmax = new Int32Array(y.size);
  let out = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - pw + j * dw;
            if (ix < 0 || ix >= w) continue;
            const v = x.data[base + iy * w + ix] as number;
            // NOTE: the first maximum wins ties, and NaN wins over everything, as in PyTorch.
            if (bestIndex === -1 || v > best || Number.isNaN(v)) {
              best = v;
              bestIndex = iy * w + ix;
            }
          }
        }
        y.data[out] = best;
        argmax[out] = Math.max(bestIndex, 0);
        out++;
      }
    }
  }
  return { y, argmax };
}
