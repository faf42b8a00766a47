import type { Conv2dAttrs } from '../../ops/conv2d.js';
import { ShapeError } from '../../ops/errors.js';
import { convGeometry, type ConvGeometry as SharedGeometry } from '../conv_geometry.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor, type Allocator, type FloatArray } from '../../tensor/tensor.js';
import { axpy, dot } from './vector.js';

/**
 * Convolution as im2row + matrix products: each output position's receptive field (one group's
 * channels) is copied into a row of a `patches` matrix (P, K), P = OH*OW, K = C/groups*KH*KW, so
 * that every kernel below is a loop over contiguous memory. Patches and accumulators are float64
 * workspaces, allocated through the backend's allocator so that its tracker counts them; sums run
 * in doubles whatever the tensors' dtype, and are rounded once when stored.
 */
interface ConvGeometry extends SharedGeometry {
  /** Input and output channels per group. */
  cg: number;
  og: number;
  /** Length of one patch row, cg*kh*kw: the weights of one filter. */
  k: number;
  /** Output positions per channel, oh*ow. */
  p: number;
}

function geometry(xShape: Shape, weightShape: Shape, attrs: Conv2dAttrs): ConvGeometry {
  const g = convGeometry(xShape, weightShape, attrs);
  const cg = g.c / g.groups;
  return { ...g, cg, og: g.o / g.groups, k: cg * g.kh * g.kw, p: g.oh * g.ow };
}

/**
 * Copies between the patches (P, K) of one group of one (C, H, W) volume starting at `base` and
 * that volume: `gather` (im2row) sets each patch row to the receptive field of one output position,
 * in (c, ky, kx) order to match a filter's weights, padding read as 0; otherwise (row2im, its
 * adjoint) each patch entry is added back onto the pixel it was read from, padding dropped.
 */
function patchCopy(volume: FloatArray, base: number, g: ConvGeometry, patches: Float64Array, gather: boolean): void {
  let i = 0;
  for (let oy = 0; oy < g.oh; oy++) {
    for (let ox = 0; ox < g.ow; ox++) {
      for (let c = 0; c < g.cg; c++) {
        const plane = base + c * g.h * g.w;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh - g.ph + ky;
          const rowInside = iy >= 0 && iy < g.h;
          for (let kx = 0; kx < g.kw; kx++, i++) {
            const ix = ox * g.sw - g.pw + kx;
            const inside = rowInside && ix >= 0 && ix < g.w;
            const at = plane + iy * g.w + ix;
            if (gather) patches[i] = inside ? (volume[at] as number) : 0;
            else if (inside) volume[at] = (volume[at] as number) + (patches[i] as number);
          }
        }
      }
    }
  }
}

/** patches (P, K) = the receptive fields of image `n` of x (N, C, H, W), channels of group `group`. */
function im2row(x: FloatArray, g: ConvGeometry, n: number, group: number, patches: Float64Array): void {
  patchCopy(x, (n * g.c + group * g.cg) * g.h * g.w, g, patches, true);
}

/** The adjoint of `im2row`: adds each patch row of group `group` back onto one (C, H, W) `image`. */
function row2im(patches: Float64Array, g: ConvGeometry, group: number, image: Float64Array): void {
  patchCopy(image, group * g.cg * g.h * g.w, g, patches, false);
}

/** y (N, O, OH, OW) = x (N, C, H, W) conv weight (O, C/groups, KH, KW) + bias (O). */
export function conv2d(allocator: Allocator, x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs): Tensor {
  const g = geometry(x.shape, weight.shape, attrs);
  const y = Tensor.zeros([g.n, g.o, g.oh, g.ow], x.dtype, allocator);
  const patches = Tensor.zeros([g.p, g.k], 'float64', allocator);
  const pd = patches.data as Float64Array;
  const wd = weight.data;
  const yd = y.data;
  for (let n = 0; n < g.n; n++) {
    for (let group = 0; group < g.groups; group++) {
      im2row(x.data, g, n, group, pd);
      for (let oc = group * g.og; oc < (group + 1) * g.og; oc++) {
        // y[n, oc, :] = patches (P, K) . weight[oc] (K)
        const yRow = (n * g.o + oc) * g.p;
        const b = bias === null ? 0 : (bias.data[oc] as number);
        for (let p = 0; p < g.p; p++) yd[yRow + p] = dot(wd, oc * g.k, pd, p * g.k, g.k) + b;
      }
    }
  }
  patches.dispose();
  return y;
}

/** dx (N, C, H, W) = the transpose of the convolution applied to dy (N, O, OH, OW). */
export function conv2dGradInput(allocator: Allocator, dy: Tensor, weight: Tensor, xShape: Shape, attrs: Conv2dAttrs): Tensor {
  const g = geometry(xShape, weight.shape, attrs);
  checkGradShape(dy, g, [xShape, weight.shape]);
  const dx = Tensor.zeros(xShape, dy.dtype, allocator);
  const dpatches = Tensor.zeros([g.p, g.k], 'float64', allocator);
  const image = Tensor.zeros([g.c, g.h, g.w], 'float64', allocator);
  const dpd = dpatches.data as Float64Array;
  const imd = image.data as Float64Array;
  const wd = weight.data;
  const dyd = dy.data;
  for (let n = 0; n < g.n; n++) {
    imd.fill(0);
    for (let group = 0; group < g.groups; group++) {
      // dpatches (P, K) = dy[n, group's channels]^T (P, OG) . weight[group's filters] (OG, K)
      dpd.fill(0);
      for (let oc = group * g.og; oc < (group + 1) * g.og; oc++) {
        const dyRow = (n * g.o + oc) * g.p;
        for (let p = 0; p < g.p; p++) axpy(dyd[dyRow + p] as number, wd, oc * g.k, dpd, p * g.k, g.k);
      }
      row2im(dpd, g, group, imd);
    }
    dx.data.set(imd, n * g.c * g.h * g.w);
  }
  dpatches.dispose();
  image.dispose();
  return dx;
}

/** dweight (O, C/groups, KH, KW) = sum over images of dy[n] (O, P) . patches of x[n] (P, K). */
export function conv2dGradWeight(allocator: Allocator, dy: Tensor, x: Tensor, attrs: Conv2dAttrs): Tensor {
  const weightShape = [dy.shape[1] ?? 0, (x.shape[1] ?? 0) / attrs.groups, attrs.kernel[0], attrs.kernel[1]];
  const g = geometry(x.shape, weightShape, attrs);
  checkGradShape(dy, g, [x.shape, dy.shape]);
  const patches = Tensor.zeros([g.p, g.k], 'float64', allocator);
  const sums = Tensor.zeros(weightShape, 'float64', allocator);
  const pd = patches.data as Float64Array;
  const sd = sums.data as Float64Array;
  const dyd = dy.data;
  for (let n = 0; n < g.n; n++) {
    for (let group = 0; group < g.groups; group++) {
      im2row(x.data, g, n, group, pd);
      for (let oc = group * g.og; oc < (group + 1) * g.og; oc++) {
        const dyRow = (n * g.o + oc) * g.p;
        for (let p = 0; p < g.p; p++) axpy(dyd[dyRow + p] as number, pd, p * g.k, sd, oc * g.k, g.k);
      }
    }
  }
  const dweight = Tensor.from(weightShape, sd, dy.dtype, allocator);
  patches.dispose();
  sums.dispose();
  return dweight;
}

/** dbias (C): dy (N, C, ...) summed over every axis but axis 1; serves CONV and FC. */
export function biasGrad(allocator: Allocator, dy: Tensor): Tensor {
  // dy is (N, C, rest...) with rest = H*W for a volume, 1 for FC scores
  const n = dy.shape[0] ?? 0;
  const c = dy.shape[1] ?? 0;
  const rest = n * c === 0 ? 0 : dy.size / (n * c);
  const db = Tensor.zeros([c], dy.dtype, allocator);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * c + ch) * rest;
      for (let j = 0; j < rest; j++) sum += dy.data[start + j] as number;
    }
    db.data[ch] = sum;
  }
  return db;
}

function checkGradShape(dy: Tensor, g: ConvGeometry, shapes: Shape[]): void {
  const [n, o, oh, ow] = dy.shape;
  if (dy.shape.length !== 4 || n !== g.n || o !== g.o || oh !== g.oh || ow !== g.ow) {
    throw new ShapeError('conv', `dy ${dy.shape.join('x')} is not the output shape ${[g.n, g.o, g.oh, g.ow].join('x')}`, shapes);
  }
}
