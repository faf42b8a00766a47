import type { AvgPoolAttrs, PoolAttrs } from '../../ops/attrs.js';
import { ShapeError } from '../../ops/errors.js';
import { windowOutput } from '../../ops/window.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor, type Allocator } from '../../tensor/tensor.js';

/**
 * Max and average pooling with PyTorch 1.13's window rules (aten/src/ATen/native/cpu pooling):
 * a window starts at o*S - P and is clipped to the input; in ceil mode the last window may run past
 * the input end and is clipped the same way. Gradients are scattered into a float64 plane so that
 * overlapping windows add in doubles.
 */
interface PoolGeometry {
  /** Number of (H, W) planes, N*C. */
  planes: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
}

function poolGeometry(op: string, xShape: Shape, attrs: PoolAttrs): PoolGeometry {
  if (xShape.length !== 4) throw new ShapeError(op, 'expects x (N, C, H, W)', [xShape]);
  const [n, c, h, w] = xShape as [number, number, number, number];
  return {
    planes: n * c,
    h,
    w,
    oh: windowOutput(op, 'height', h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.rounding),
    ow: windowOutput(op, 'width', w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.rounding),
  };
}

function checkDy(op: string, dy: Tensor, g: PoolGeometry, xShape: Shape): void {
  if (dy.size !== g.planes * g.oh * g.ow) throw new ShapeError(op, 'dy does not have the pooled shape of x', [dy.shape, xShape]);
}

/** y (N, C, OH, OW) = the maximum of each window of x (N, C, H, W); argmax is its flat index in the (H, W) plane. */
export function maxPool2d(allocator: Allocator, x: Tensor, attrs: PoolAttrs): { y: Tensor; argmax: Int32Array } {
  const g = poolGeometry('maxpool', x.shape, attrs);
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const y = Tensor.zeros([x.shape[0] ?? 0, x.shape[1] ?? 0, g.oh, g.ow], x.dtype, allocator);
  const argmax = new Int32Array(y.size);
  let out = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    const base = plane * g.h * g.w;
    for (let oy = 0; oy < g.oh; oy++) {
      // Padding never wins: the window is clipped to the input rather than padded with -Infinity.
      const y0 = Math.max(oy * sh - ph, 0);
      const y1 = Math.min(oy * sh - ph + kh, g.h);
      for (let ox = 0; ox < g.ow; ox++) {
        const x0 = Math.max(ox * sw - pw, 0);
        const x1 = Math.min(ox * sw - pw + kw, g.w);
        let best = -Infinity;
        let bestIndex = y0 * g.w + x0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = x.data[base + iy * g.w + ix] as number;
            // NOTE: the first maximum wins ties, and NaN wins over everything, as in PyTorch.
            if (v > best || Number.isNaN(v)) {
              best = v;
              bestIndex = iy * g.w + ix;
            }
          }
        }
        y.data[out] = best;
        argmax[out] = bestIndex;
        out++;
      }
    }
  }
  return { y, argmax };
}

/** dx (N, C, H, W): each dy value goes to the input value that was its window's maximum. */
export function maxPool2dGrad(allocator: Allocator, dy: Tensor, argmax: Int32Array, xShape: Shape): Tensor {
  // dy is (N, C, OH, OW); argmax has one entry per dy value
  if (xShape.length !== 4 || dy.shape[0] !== xShape[0] || dy.shape[1] !== xShape[1] || argmax.length !== dy.size) {
    throw new ShapeError('maxpool', 'dy and argmax do not match x', [dy.shape, xShape]);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const planes = n * c;
  const outPerPlane = planes === 0 ? 0 : dy.size / planes;
  const dx = Tensor.zeros(xShape, dy.dtype, allocator);
  const sums = Tensor.zeros([h, w], 'float64', allocator);
  const sd = sums.data;
  for (let plane = 0; plane < planes; plane++) {
    sd.fill(0);
    for (let i = plane * outPerPlane; i < (plane + 1) * outPerPlane; i++) {
      const at = argmax[i] as number;
      sd[at] = (sd[at] as number) + (dy.data[i] as number);
    }
    dx.data.set(sd, plane * h * w);
  }
  sums.dispose();
  return dx;
}

/**
 * The window of output position o along one axis: the input range [start, end) it averages, and
 * its divisor when padding counts. NOTE: PyTorch clips the padded window to size + padding before
 * taking the count, so a ceil-mode window that runs past the padding counts only up to it.
 */
function avgWindow(o: number, stride: number, padding: number, kernel: number, size: number): [number, number, number] {
  const start = o * stride - padding;
  const paddedEnd = Math.min(start + kernel, size + padding);
  return [Math.max(start, 0), Math.min(paddedEnd, size), paddedEnd - start];
}

/** y (N, C, OH, OW) = the mean of each window of x (N, C, H, W), by `countIncludePad`'s divisor. */
export function avgPool2d(allocator: Allocator, x: Tensor, attrs: AvgPoolAttrs): Tensor {
  const g = poolGeometry('avgpool', x.shape, attrs);
  const y = Tensor.zeros([x.shape[0] ?? 0, x.shape[1] ?? 0, g.oh, g.ow], x.dtype, allocator);
  let out = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    const base = plane * g.h * g.w;
    for (let oy = 0; oy < g.oh; oy++) {
      const [y0, y1, paddedH] = avgWindow(oy, attrs.stride[0], attrs.padding[0], attrs.kernel[0], g.h);
      for (let ox = 0; ox < g.ow; ox++) {
        const [x0, x1, paddedW] = avgWindow(ox, attrs.stride[1], attrs.padding[1], attrs.kernel[1], g.w);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) sum += x.data[base + iy * g.w + ix] as number;
        }
        const divisor = attrs.countIncludePad ? paddedH * paddedW : (y1 - y0) * (x1 - x0);
        y.data[out++] = sum / divisor;
      }
    }
  }
  return y;
}

/** dx (N, C, H, W): each dy value spread evenly, by the forward divisor, over its window's inputs. */
export function avgPool2dGrad(allocator: Allocator, dy: Tensor, xShape: Shape, attrs: AvgPoolAttrs): Tensor {
  const g = poolGeometry('avgpool', xShape, attrs);
  checkDy('avgpool', dy, g, xShape);
  const dx = Tensor.zeros(xShape, dy.dtype, allocator);
  const sums = Tensor.zeros([g.h, g.w], 'float64', allocator);
  const sd = sums.data;
  let out = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    sd.fill(0);
    for (let oy = 0; oy < g.oh; oy++) {
      const [y0, y1, paddedH] = avgWindow(oy, attrs.stride[0], attrs.padding[0], attrs.kernel[0], g.h);
      for (let ox = 0; ox < g.ow; ox++) {
        const [x0, x1, paddedW] = avgWindow(ox, attrs.stride[1], attrs.padding[1], attrs.kernel[1], g.w);
        const divisor = attrs.countIncludePad ? paddedH * paddedW : (y1 - y0) * (x1 - x0);
        const share = (dy.data[out++] as number) / divisor;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) sd[iy * g.w + ix] = (sd[iy * g.w + ix] as number) + share;
        }
      }
    }
    dx.data.set(sd, plane * g.h * g.w);
  }
  sums.dispose();
  return dx;
}
