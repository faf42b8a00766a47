// im2col written straight into the packed panel layouts the convolution kernels multiply (asm/conv.ts).
import { C_H, C_KH, C_KW, C_OW, C_PH, C_PW, C_SH, C_SW, C_W, KC, NR } from '../src/backends/wasm/abi';
import { flush, flush1, transpose4 } from './simd';

/**
 * Writes one im2col row, the input values tap (fy, fx) of `plane` sees at positions p0..p0+cols
 * (p = oh*OW + ow; 0 in the padding), contiguously at `at`. An output row's positions read zeros
 * (outside the input), or zeros, a run of inputs and zeros; at stride 1 the run is adjacent inputs,
 * copied 4 at a time at any alignment. NOTE: the zero stores may run up to 3 floats past their
 * range: whatever they cover is written again afterwards (the inputs, the next output row) or lies
 * in the caller's slack of 4 floats past `cols`.
 */
export function im2colRow(at: usize, plane: usize, d: usize, fy: i32, fx: i32, p0: i32, cols: i32): void {
  const h = load<i32>(d, C_H), w = load<i32>(d, C_W), ow = load<i32>(d, C_OW);
  const sh = load<i32>(d, C_SH), sw = load<i32>(d, C_SW), ph = load<i32>(d, C_PH), pw = load<i32>(d, C_PW);
  const z = f32x4.splat(0);
  let oy = p0 / ow, ox = p0 % ow;
  let left = cols;
  while (left > 0) {
    const run = min(ow - ox, left);
    const iy = oy * sh - ph + fy;
    // Valid t in [lo, hi): 0 <= (ox + t)*sw - pw + fx < w.
    let lo = run, hi = run;
    if (iy >= 0 && iy < h) {
      const first = ox * sw - pw + fx;
      lo = first >= 0 ? 0 : min(run, (-first + sw - 1) / sw);
      hi = max(lo, min(run, first >= w ? 0 : (w - 1 - first) / sw + 1));
    }
    for (let t = 0; t < lo; t += 4) v128.store(at + (<usize>t << 2), z);
    const src = plane + (<usize>(iy * w) << 2);
    let t = lo;
    if (sw == 1) {
      const from = src + (<usize>(ox - pw + fx) << 2);
      for (; t + 4 <= hi; t += 4) v128.store(at + (<usize>t << 2), flush(v128.load(from + (<usize>t << 2))));
      for (; t < hi; t++) store<f32>(at + (<usize>t << 2), flush1(load<f32>(from + (<usize>t << 2))));
    } else {
      for (; t < hi; t++) store<f32>(at + (<usize>t << 2), flush1(load<f32>(src + (<usize>((ox + t) * sw - pw + fx) << 2))));
    }
    for (t = hi; t < run; t += 4) v128.store(at + (<usize>t << 2), z);
    at += <usize>(run * 4);
    left -= run;
    ox = 0;
    oy++;
  }
}

/**
 * Writes rows k0..k0+kc of image `img`'s im2col matrix (row (c, kh, kw), column p = oh*OW + ow),
 * columns p0..p0+cols, into kc x 8 B panels, so the product needs no separate packing pass. `x`
 * points at the group's first channel of the image; `row` is cols + 8 floats of scratch. Each row
 * is built whole in `row`, then copied to the panels 8 at a time: output rows whose width is not a
 * multiple of 8 (LeNet's 28 and 10) would otherwise straddle panels and fall to scalar stores.
 */
export function packIm2col(dst: usize, x: usize, d: usize, k0: i32, kc: i32, p0: i32, cols: i32, row: usize): void {
  const h = load<i32>(d, C_H), w = load<i32>(d, C_W), kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW);
  const kk = kh * kw;
  const panelStride = <usize>(kc * 32);
  const z = f32x4.splat(0);
  for (let r = 0; r < kc; r++) {
    const k = k0 + r;
    const ch = k / kk, rem = k % kk;
    im2colRow(row, x + <usize>(ch * h * w * 4), d, rem / kw, rem % kw, p0, cols);
    // The last panel's missing columns are zeros.
    const end = row + (<usize>cols << 2);
    v128.store(end, z);
    v128.store(end, z, 16);
    let out = dst + <usize>(r * 32);
    for (let j = 0; j < cols; j += NR) {
      const from = row + (<usize>j << 2);
      v128.store(out, v128.load(from));
      v128.store(out, v128.load(from, 16), 16);
      out += panelStride;
    }
  }
}

/**
 * Packs im2col(x)^T for positions p0..p0+kc and filter taps j0..j0+cols into B panels of 8 taps:
 * element (t, j) = the input value tap j0 + j sees at position p0 + t (0 in the padding). The 8
 * taps of a panel are built as im2col rows (im2colRow: vector copies, zeros included), then
 * turned into the panel 4 positions at a time by two 4x4 transposes, with no bounds checks.
 * `rows` is 8 rows of KC + 8 floats of scratch.
 */
export function packTapsByPosition(dst: usize, x: usize, d: usize, j0: i32, cols: i32, p0: i32, kc: i32, rows: usize): void {
  const h = load<i32>(d, C_H), w = load<i32>(d, C_W), kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW);
  const kk = kh * kw;
  const rs = <usize>((KC + 8) * 4);
  let panel = dst;
  for (let j = 0; j < cols; j += NR) {
    for (let q = 0; q < NR; q++) {
      const at = rows + <usize>q * rs;
      if (j + q < cols) {
        const r = j0 + j + q;
        const ch = r / kk, rem = r % kk;
        im2colRow(at, x + <usize>(ch * h * w * 4), d, rem / kw, rem % kw, p0, kc);
      } else {
        memory.fill(at, 0, <usize>(kc * 4));
      }
    }
    let t = 0;
    for (; t + 4 <= kc; t += 4) {
      const off = <usize>t << 2;
      const out = panel + <usize>(t * 32);
      transpose4(v128.load(rows + off), v128.load(rows + rs + off), v128.load(rows + 2 * rs + off), v128.load(rows + 3 * rs + off), out, 32);
      transpose4(v128.load(rows + 4 * rs + off), v128.load(rows + 5 * rs + off), v128.load(rows + 6 * rs + off), v128.load(rows + 7 * rs + off), out + 16, 32);
    }
    for (; t < kc; t++) {
      for (let q = 0; q < NR; q++) store<f32>(panel + <usize>(t * 32 + q * 4), load<f32>(rows + <usize>q * rs + (<usize>t << 2)));
    }
    panel += <usize>(kc * 32);
  }
}
