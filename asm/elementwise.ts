// Memory-bound kernels, split over threads by range or by plane: relu, reluGrad, add, sgdUpdate,
// biasGrad, and scaleShift (batchNormInfer, and conv2dAffine over a whole input).
import { SGD_FIRST, SGD_MOMENTUM, SGD_NESTEROV } from '../src/backends/wasm/abi';
import { runStart } from './jobs';
import { madd } from './simd';

/** y = max(0, x); NaN passes through as in the reference (relaxed or not, f32x4.max would drop it). */
export function relu(tid: i32, nt: i32, x: usize, y: usize, count: i32): void {
  const start = min(count, runStart(count, tid, nt)), end = min(count, runStart(count, tid + 1, nt));
  const z = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    // keep v where !(v < 0): NaN stays NaN
    v128.store(y + (<usize>i << 2), v128.bitselect(z, v, f32x4.lt(v, z)));
  }
  for (; i < end; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v < 0 ? 0 : v);
  }
}

/** dx = dy where y > 0, else 0. */
export function reluGrad(tid: i32, nt: i32, dy: usize, y: usize, dx: usize, count: i32): void {
  const start = min(count, runStart(count, tid, nt)), end = min(count, runStart(count, tid + 1, nt));
  const z = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const off = <usize>i << 2;
    v128.store(dx + off, v128.and(v128.load(dy + off), f32x4.gt(v128.load(y + off), z)));
  }
  for (; i < end; i++) {
    const off = <usize>i << 2;
    store<f32>(dx + off, load<f32>(y + off) > 0 ? load<f32>(dy + off) : 0);
  }
}

/** y = a + b. */
export function add(tid: i32, nt: i32, a: usize, b: usize, y: usize, count: i32): void {
  const start = min(count, runStart(count, tid, nt)), end = min(count, runStart(count, tid + 1, nt));
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, f32x4.add(v128.load(a + off), v128.load(b + off)));
  }
  for (; i < end; i++) {
    const off = <usize>i << 2;
    store<f32>(y + off, load<f32>(a + off) + load<f32>(b + off));
  }
}

/**
 * SGD in place, as torch.optim.SGD: d = g + wd w; with momentum, buf = d on the first step, else
 * momentum buf + keep d (keep = 1 - dampening); then w -= lr (nesterov ? d + momentum buf : buf),
 * or w -= lr d without momentum. The hyperparameters arrive as float32 bit patterns. Each value is
 * computed by the one thread whose range holds it (f32 arithmetic; fused where relaxed SIMD is).
 */
export function sgdUpdate(tid: i32, nt: i32, w: usize, g: usize, buf: usize, count: i32, lrBits: i32, wdBits: i32, mBits: i32, keepBits: i32, mode: i32): void {
  const start = min(count, runStart(count, tid, nt)), end = min(count, runStart(count, tid + 1, nt));
  const lr = reinterpret<f32>(lrBits), wd = reinterpret<f32>(wdBits), m = reinterpret<f32>(mBits), keep = reinterpret<f32>(keepBits);
  const nlrv = f32x4.splat(-lr), wdv = f32x4.splat(wd), mv = f32x4.splat(m), keepv = f32x4.splat(keep);
  let i = start;
  if ((mode & SGD_MOMENTUM) == 0) {
    for (; i + 4 <= end; i += 4) {
      const off = <usize>i << 2;
      const wv = v128.load(w + off);
      v128.store(w + off, madd(nlrv, madd(wdv, wv, v128.load(g + off)), wv));
    }
    for (; i < end; i++) {
      const off = <usize>i << 2;
      const wi = load<f32>(w + off);
      store<f32>(w + off, wi - lr * (load<f32>(g + off) + wd * wi));
    }
    return;
  }
  const first = (mode & SGD_FIRST) != 0, nesterov = (mode & SGD_NESTEROV) != 0;
  for (; i + 4 <= end; i += 4) {
    const off = <usize>i << 2;
    const wv = v128.load(w + off);
    const d = madd(wdv, wv, v128.load(g + off));
    const b = first ? d : madd(mv, v128.load(buf + off), f32x4.mul(keepv, d));
    v128.store(buf + off, b);
    v128.store(w + off, madd(nlrv, nesterov ? madd(mv, b, d) : b, wv));
  }
  for (; i < end; i++) {
    const off = <usize>i << 2;
    const wi = load<f32>(w + off);
    const d = load<f32>(g + off) + wd * wi;
    const b = first ? d : m * load<f32>(buf + off) + keep * d;
    store<f32>(buf + off, b);
    store<f32>(w + off, wi - lr * (nesterov ? d + m * b : b));
  }
}

/**
 * db (C) = dy (N, C, R) summed over N and R. Each channel is summed by one thread: four lanes in a
 * fixed order, then the lanes, so the result does not depend on the thread count.
 */
export function biasGrad(tid: i32, nt: i32, dy: usize, db: usize, n: i32, c: i32, rest: i32): void {
  const first = (c * tid) / nt, last = (c * (tid + 1)) / nt;
  for (let ch = first; ch < last; ch++) {
    let acc = f32x4.splat(0);
    let tail: f32 = 0;
    for (let img = 0; img < n; img++) {
      const src = dy + (<usize>((img * c + ch) * rest) << 2);
      let j = 0;
      for (; j + 4 <= rest; j += 4) acc = f32x4.add(acc, v128.load(src + (<usize>j << 2)));
      for (; j < rest; j++) tail += load<f32>(src + (<usize>j << 2));
    }
    const sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    store<f32>(db + (<usize>ch << 2), sum + tail);
  }
}

/**
 * y = x * scale[c] + shift[c] over (N, C, R), split by (image, channel) plane; then ReLU'd when
 * `relu` is nonzero (NaN and -0 kept, as in `relu`). A multiply then an add, never fused: the bits of
 * convForward's SCALE_ROW epilogue.
 */
export function scaleShift(tid: i32, nt: i32, x: usize, scale: usize, shift: usize, y: usize, n: i32, c: i32, rest: i32, relu: i32): void {
  const planes = n * c;
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  const z = f32x4.splat(0);
  for (let plane = first; plane < last; plane++) {
    const ch = plane % c;
    const s = load<f32>(scale + (<usize>ch << 2)), t = load<f32>(shift + (<usize>ch << 2));
    const sv = f32x4.splat(s), tv = f32x4.splat(t);
    const off = <usize>(plane * rest) << 2;
    let j = 0;
    for (; j + 4 <= rest; j += 4) {
      const at = off + (<usize>j << 2);
      const v = f32x4.add(f32x4.mul(v128.load(x + at), sv), tv);
      v128.store(y + at, relu != 0 ? v128.andnot(v, f32x4.lt(v, z)) : v);
    }
    for (; j < rest; j++) {
      const at = off + (<usize>j << 2);
      const v = load<f32>(x + at) * s + t;
      store<f32>(y + at, relu != 0 && v < 0 ? 0 : v);
    }
  }
}
