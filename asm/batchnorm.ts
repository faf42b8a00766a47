// Batch normalisation in training: statistics per channel of x (N, C, R), R = H*W or 1. Each
// channel is one job, computed whole by the thread that takes it, in a fixed order: per-lane f64
// sums (lanes 0-3 of every vector, then the scalar tail), so results do not depend on the thread
// count. Sums and the per-value arithmetic run in f64, as the reference's do; values are rounded
// to f32 once, when stored.
import { nextJob } from './jobs';

/** The sum of the four f64 lanes of a (lanes 0, 1) and b (lanes 2, 3), in a fixed order. */
@inline
function lanes(a: v128, b: v128): f64 {
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

/** Lanes 2 and 3 of an f32x4 as f64x2. */
@inline
function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Two f64x2 (lanes 0, 1 and 2, 3) rounded to one f32x4. */
@inline
function demote(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * y = gamma (x - mean) invStd + beta, with the batch's mean and invStd = 1/sqrt(var + eps) per
 * channel (biased variance; two passes: the mean, then the squared deviations). eps is an f64 at
 * `epsAt`; mean and invStd (C) are written too.
 */
export function batchNormTrain(tid: i32, nt: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, invStd: usize, epsAt: usize, n: i32, c: i32, rest: i32): void {
  const count = <f64>n * <f64>rest;
  const eps = load<f64>(epsAt);
  const zero = f64x2.splat(0);
  for (let ch = nextJob(); ch < c; ch = nextJob()) {
    let a0 = zero, a1 = zero;
    let tail: f64 = 0;
    for (let img = 0; img < n; img++) {
      const src = x + (<usize>((img * c + ch) * rest) << 2);
      let j = 0;
      for (; j + 4 <= rest; j += 4) {
        const v = v128.load(src + (<usize>j << 2));
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
        a1 = f64x2.add(a1, promoteHigh(v));
      }
      for (; j < rest; j++) tail += <f64>load<f32>(src + (<usize>j << 2));
    }
    const mu = (lanes(a0, a1) + tail) / count;
    const muv = f64x2.splat(mu);
    a0 = zero;
    a1 = zero;
    tail = 0;
    for (let img = 0; img < n; img++) {
      const src = x + (<usize>((img * c + ch) * rest) << 2);
      let j = 0;
      for (; j + 4 <= rest; j += 4) {
        const v = v128.load(src + (<usize>j << 2));
        const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), muv), d1 = f64x2.sub(promoteHigh(v), muv);
        a0 = f64x2.add(a0, f64x2.mul(d0, d0));
        a1 = f64x2.add(a1, f64x2.mul(d1, d1));
      }
      for (; j < rest; j++) {
        const d = <f64>load<f32>(src + (<usize>j << 2)) - mu;
        tail += d * d;
      }
    }
    const inv = 1 / Math.sqrt((lanes(a0, a1) + tail) / count + eps);
    const scale = <f64>load<f32>(gamma + (<usize>ch << 2)) * inv, shift = <f64>load<f32>(beta + (<usize>ch << 2));
    const sv = f64x2.splat(scale), tv = f64x2.splat(shift);
    for (let img = 0; img < n; img++) {
      const off = <usize>((img * c + ch) * rest) << 2;
      let j = 0;
      for (; j + 4 <= rest; j += 4) {
        const at = off + (<usize>j << 2);
        const v = v128.load(x + at);
        const lo = f64x2.add(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), muv), sv), tv);
        const hi = f64x2.add(f64x2.mul(f64x2.sub(promoteHigh(v), muv), sv), tv);
        v128.store(y + at, demote(lo, hi));
      }
      for (; j < rest; j++) {
        const at = off + (<usize>j << 2);
        store<f32>(y + at, <f32>((<f64>load<f32>(x + at) - mu) * scale + shift));
      }
    }
    store<f32>(mean + (<usize>ch << 2), <f32>mu);
    store<f32>(invStd + (<usize>ch << 2), <f32>inv);
  }
}

/**
 * Gradients of batchNormTrain. With xhat = (x - mean) invStd and M = N R values per channel:
 * dbeta = sum dy, dgamma = sum dy xhat, dx = gamma invStd / M (M dy - dbeta - xhat dgamma).
 */
export function batchNormGrad(tid: i32, nt: i32, dy: usize, x: usize, gamma: usize, mean: usize, invStd: usize, dx: usize, dgamma: usize, dbeta: usize, n: i32, c: i32, rest: i32): void {
  const count = <f64>n * <f64>rest;
  const zero = f64x2.splat(0);
  for (let ch = nextJob(); ch < c; ch = nextJob()) {
    const mu = <f64>load<f32>(mean + (<usize>ch << 2)), inv = <f64>load<f32>(invStd + (<usize>ch << 2));
    const muv = f64x2.splat(mu);
    let s0 = zero, s1 = zero, p0 = zero, p1 = zero;
    let sTail: f64 = 0, pTail: f64 = 0;
    for (let img = 0; img < n; img++) {
      const off = <usize>((img * c + ch) * rest) << 2;
      let j = 0;
      for (; j + 4 <= rest; j += 4) {
        const at = off + (<usize>j << 2);
        const d = v128.load(dy + at), v = v128.load(x + at);
        const d0 = f64x2.promote_low_f32x4(d), d1 = promoteHigh(d);
        s0 = f64x2.add(s0, d0);
        s1 = f64x2.add(s1, d1);
        p0 = f64x2.add(p0, f64x2.mul(d0, f64x2.sub(f64x2.promote_low_f32x4(v), muv)));
        p1 = f64x2.add(p1, f64x2.mul(d1, f64x2.sub(promoteHigh(v), muv)));
      }
      for (; j < rest; j++) {
        const at = off + (<usize>j << 2);
        const d = <f64>load<f32>(dy + at);
        sTail += d;
        pTail += d * (<f64>load<f32>(x + at) - mu);
      }
    }
    const sumDy = lanes(s0, s1) + sTail;
    const sumDyXhat = (lanes(p0, p1) + pTail) * inv;
    // dx = a dy + b (x - mean) + k0
    const k = (<f64>load<f32>(gamma + (<usize>ch << 2)) * inv) / count;
    const a = k * count, b = -k * inv * sumDyXhat, k0 = -k * sumDy;
    const av = f64x2.splat(a), bv = f64x2.splat(b), kv = f64x2.splat(k0);
    for (let img = 0; img < n; img++) {
      const off = <usize>((img * c + ch) * rest) << 2;
      let j = 0;
      for (; j + 4 <= rest; j += 4) {
        const at = off + (<usize>j << 2);
        const d = v128.load(dy + at), v = v128.load(x + at);
        const lo = f64x2.add(f64x2.add(f64x2.mul(av, f64x2.promote_low_f32x4(d)), f64x2.mul(bv, f64x2.sub(f64x2.promote_low_f32x4(v), muv))), kv);
        const hi = f64x2.add(f64x2.add(f64x2.mul(av, promoteHigh(d)), f64x2.mul(bv, f64x2.sub(promoteHigh(v), muv))), kv);
        v128.store(dx + at, demote(lo, hi));
      }
      for (; j < rest; j++) {
        const at = off + (<usize>j << 2);
        store<f32>(dx + at, <f32>(a * <f64>load<f32>(dy + at) + b * (<f64>load<f32>(x + at) - mu) + k0));
      }
    }
    store<f32>(dgamma + (<usize>ch << 2), <f32>sumDyXhat);
    store<f32>(dbeta + (<usize>ch << 2), <f32>sumDy);
  }
}
