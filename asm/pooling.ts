// Max and average pooling and their gradients (matching reference pool.ts), split over threads by plane.
import { P_H, P_INCLUDE_PAD, P_KH, P_KW, P_OH, P_OW, P_PH, P_PLANES, P_PW, P_SH, P_SW, P_W } from '../src/backends/wasm/abi';

/**
 * Max pooling over N*C planes, split by plane. The window is clipped to the input (padding never
 * wins); the first maximum wins ties and NaN wins over everything, as in the reference. `argmax`
 * receives each maximum's flat index in its plane; 0 for none (maxPool2dValues, in inference).
 */
export function maxPool(tid: i32, nt: i32, d: usize, x: usize, y: usize, argmax: usize): void {
  const planes = load<i32>(d, P_PLANES), h = load<i32>(d, P_H), w = load<i32>(d, P_W);
  const oh = load<i32>(d, P_OH), ow = load<i32>(d, P_OW), kh = load<i32>(d, P_KH), kw = load<i32>(d, P_KW);
  const sh = load<i32>(d, P_SH), sw = load<i32>(d, P_SW), ph = load<i32>(d, P_PH), pw = load<i32>(d, P_PW);
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * oh <= h && 2 * ow <= w) {
    maxPool2x2(x, y, argmax, first, last, h, w, oh, ow);
    return;
  }
  for (let plane = first; plane < last; plane++) {
    const src = x + <usize>(plane * h * w * 4);
    let out = plane * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - ph, 0), y1 = min(oy * sh - ph + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pw, 0), x1 = min(ox * sw - pw + kw, w);
        let best = -Infinity as f32;
        let bestIndex = y0 * w + x0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = load<f32>(src + (<usize>(iy * w + ix) << 2));
            if (v > best || v != v) {
              best = v;
              bestIndex = iy * w + ix;
            }
          }
        }
        store<f32>(y + (<usize>out << 2), best);
        if (argmax != 0) store<i32>(argmax + (<usize>out << 2), bestIndex);
        out++;
      }
    }
  }
}

/**
 * maxPool's common case, 2x2 windows at stride 2 inside the input: the same comparisons, four
 * outputs at a time with lane masks. NOTE: V8 compiles scalar f32 max and select to branches, which
 * random data mispredicts: the scalar loop ran at ~17 ns per output, 10x this one.
 */
function maxPool2x2(x: usize, y: usize, argmax: usize, first: i32, last: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  const lanes = i32x4(0, 2, 4, 6);
  const one = i32x4.splat(1), down = i32x4.splat(w);
  for (let plane = first; plane < last; plane++) {
    const src = x + <usize>(plane * h * w * 4);
    let out = <usize>(plane * oh * ow) << 2;
    for (let oy = 0; oy < oh; oy++) {
      const i0 = 2 * oy * w;
      const r0 = src + (<usize>i0 << 2), r1 = r0 + (<usize>w << 2);
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const at = <usize>(8 * ox);
        const top0 = v128.load(r0 + at), top1 = v128.load(r0 + at, 16);
        const bot0 = v128.load(r1 + at), bot1 = v128.load(r1 + at, 16);
        // Window order as the reference scans it: top-left, top-right, bottom-left, bottom-right.
        let best = v128.shuffle<f32>(top0, top1, 0, 2, 4, 6);
        let index = i32x4.add(i32x4.splat(i0 + 2 * ox), lanes);
        let v = v128.shuffle<f32>(top0, top1, 1, 3, 5, 7);
        let wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, wins);
        const right = i32x4.add(index, one);
        let pick = v128.bitselect(right, index, wins);
        v = v128.shuffle<f32>(bot0, bot1, 0, 2, 4, 6);
        wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, wins);
        pick = v128.bitselect(i32x4.add(index, down), pick, wins);
        v = v128.shuffle<f32>(bot0, bot1, 1, 3, 5, 7);
        wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, wins);
        pick = v128.bitselect(i32x4.add(right, down), pick, wins);
        v128.store(y + out, best);
        if (argmax != 0) v128.store(argmax + out, pick);
        out += 16;
      }
      for (; ox < ow; ox++) {
        const i = i0 + 2 * ox;
        const p0 = src + (<usize>i << 2), p1 = p0 + (<usize>w << 2);
        let best = load<f32>(p0);
        let index = i;
        let v = load<f32>(p0, 4);
        if (v > best || v != v) { best = v; index = i + 1; }
        v = load<f32>(p1);
        if (v > best || v != v) { best = v; index = i + w; }
        v = load<f32>(p1, 4);
        if (v > best || v != v) { best = v; index = i + w + 1; }
        store<f32>(y + out, best);
        if (argmax != 0) store<i32>(argmax + out, index);
        out += 4;
      }
    }
  }
}

/** dx = dy scattered (summed) to each window's argmax, plane by plane; dx is zeroed here. */
export function maxPoolGrad(tid: i32, nt: i32, dy: usize, argmax: usize, dx: usize, planes: i32, inPlane: i32, outPlane: i32): void {
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  for (let plane = first; plane < last; plane++) {
    const dst = dx + <usize>(plane * inPlane * 4);
    memory.fill(dst, 0, <usize>(inPlane * 4));
    for (let i = plane * outPlane, end = i + outPlane; i < end; i++) {
      const at = dst + (<usize>load<i32>(argmax + (<usize>i << 2)) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(dy + (<usize>i << 2)));
    }
  }
}

/** Where the window of output `o` starts along one axis, in input coordinates (may be negative: padding). */
@inline
function windowStart(o: i32, stride: i32, padding: i32): i32 {
  return o * stride - padding;
}

/**
 * Average pooling over N*C planes, split by plane; windows clipped to the input, divided by the
 * padded window (clipped to size + padding) or by the values inside, as the reference.
 */
export function avgPool(tid: i32, nt: i32, d: usize, x: usize, y: usize): void {
  const planes = load<i32>(d, P_PLANES), h = load<i32>(d, P_H), w = load<i32>(d, P_W);
  const oh = load<i32>(d, P_OH), ow = load<i32>(d, P_OW), kh = load<i32>(d, P_KH), kw = load<i32>(d, P_KW);
  const sh = load<i32>(d, P_SH), sw = load<i32>(d, P_SW), ph = load<i32>(d, P_PH), pw = load<i32>(d, P_PW);
  const includePad = load<i32>(d, P_INCLUDE_PAD) != 0;
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * oh <= h && 2 * ow <= w) {
    // The common case: 2x2 windows at stride 2 inside the input, the same sums unrolled.
    for (let plane = first; plane < last; plane++) {
      const src = x + <usize>(plane * h * w * 4);
      let out = y + <usize>(plane * oh * ow * 4);
      for (let oy = 0; oy < oh; oy++) {
        const r0 = src + (<usize>(2 * oy * w) << 2), r1 = r0 + (<usize>w << 2);
        for (let ox = 0; ox < ow; ox++) {
          const at = <usize>(8 * ox);
          store<f32>(out, (load<f32>(r0 + at) + load<f32>(r0 + at, 4) + load<f32>(r1 + at) + load<f32>(r1 + at, 4)) / 4);
          out += 4;
        }
      }
    }
    return;
  }
  for (let plane = first; plane < last; plane++) {
    const src = x + <usize>(plane * h * w * 4);
    let out = y + <usize>(plane * oh * ow * 4);
    for (let oy = 0; oy < oh; oy++) {
      const sy = windowStart(oy, sh, ph), ey = min(sy + kh, h + ph);
      const y0 = max(sy, 0), y1 = min(ey, h);
      for (let ox = 0; ox < ow; ox++) {
        const sx = windowStart(ox, sw, pw), ex = min(sx + kw, w + pw);
        const x0 = max(sx, 0), x1 = min(ex, w);
        let sum: f32 = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) sum += load<f32>(src + (<usize>(iy * w + ix) << 2));
        }
        const divisor = includePad ? (ey - sy) * (ex - sx) : (y1 - y0) * (x1 - x0);
        store<f32>(out, sum / <f32>divisor);
        out += 4;
      }
    }
  }
}

/** dx = each dy value divided by its window's divisor, summed over the windows; dx is zeroed here. */
export function avgPoolGrad(tid: i32, nt: i32, d: usize, dy: usize, dx: usize): void {
  const planes = load<i32>(d, P_PLANES), h = load<i32>(d, P_H), w = load<i32>(d, P_W);
  const oh = load<i32>(d, P_OH), ow = load<i32>(d, P_OW), kh = load<i32>(d, P_KH), kw = load<i32>(d, P_KW);
  const sh = load<i32>(d, P_SH), sw = load<i32>(d, P_SW), ph = load<i32>(d, P_PH), pw = load<i32>(d, P_PW);
  const includePad = load<i32>(d, P_INCLUDE_PAD) != 0;
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * oh <= h && 2 * ow <= w) {
    // 2x2 windows at stride 2 inside the input do not overlap: each input gets one share.
    for (let plane = first; plane < last; plane++) {
      const dst = dx + <usize>(plane * h * w * 4);
      // An odd last row or column lies in no window.
      if (2 * oh < h || 2 * ow < w) memory.fill(dst, 0, <usize>(h * w * 4));
      let src = dy + <usize>(plane * oh * ow * 4);
      for (let oy = 0; oy < oh; oy++) {
        const r0 = dst + (<usize>(2 * oy * w) << 2), r1 = r0 + (<usize>w << 2);
        for (let ox = 0; ox < ow; ox++) {
          const share = load<f32>(src) / 4;
          const at = <usize>(8 * ox);
          store<f32>(r0 + at, share);
          store<f32>(r0 + at, share, 4);
          store<f32>(r1 + at, share);
          store<f32>(r1 + at, share, 4);
          src += 4;
        }
      }
    }
    return;
  }
  for (let plane = first; plane < last; plane++) {
    const dst = dx + <usize>(plane * h * w * 4);
    memory.fill(dst, 0, <usize>(h * w * 4));
    let src = dy + <usize>(plane * oh * ow * 4);
    for (let oy = 0; oy < oh; oy++) {
      const sy = windowStart(oy, sh, ph), ey = min(sy + kh, h + ph);
      const y0 = max(sy, 0), y1 = min(ey, h);
      for (let ox = 0; ox < ow; ox++) {
        const sx = windowStart(ox, sw, pw), ex = min(sx + kw, w + pw);
        const x0 = max(sx, 0), x1 = min(ex, w);
        const divisor = includePad ? (ey - sy) * (ex - sx) : (y1 - y0) * (x1 - x0);
        const share = load<f32>(src) / <f32>divisor;
        src += 4;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const at = dst + (<usize>(iy * w + ix) << 2);
            store<f32>(at, load<f32>(at) + share);
          }
        }
      }
    }
  }
}
