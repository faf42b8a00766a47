// Small SIMD helpers every kernel family uses; all inlined.

/**
 * NOTE: wasm has no flush-to-zero mode, and x86 multiplies subnormal floats (below 1.2e-38) through
 * microcode assists, 10-100x slower: late in training, gradients underflow and a conv's backward
 * ran 3-4x slower. The packers flush subnormal operands to zero, which is below float32 resolution
 * of any sum they join; NaN and infinities pass unchanged.
 */
const FLT_MIN: f32 = 1.17549435e-38;

/** v with its subnormal lanes set to 0 (see FLT_MIN). */
@inline
export function flush(v: v128): v128 {
  return v128.andnot(v, f32x4.lt(f32x4.abs(v), f32x4.splat(FLT_MIN)));
}

/** v, or 0 when subnormal (see FLT_MIN). */
@inline
export function flush1(v: f32): f32 {
  return abs(v) < FLT_MIN ? 0 : v;
}

/** a * b + c: fused in the relaxed-SIMD binary, a multiply then an add in the plain one. */
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Stores the 4x4 transpose of rows a, b, c, d as 4 vectors, `stride` bytes apart from `out`. */
@inline
export function transpose4(a: v128, b: v128, c: v128, d: v128, out: usize, stride: usize): void {
  const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), cd0 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), cd1 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(ab0, cd0, 0, 1, 4, 5));
  v128.store(out + stride, v128.shuffle<f32>(ab0, cd0, 2, 3, 6, 7));
  v128.store(out + 2 * stride, v128.shuffle<f32>(ab1, cd1, 0, 1, 4, 5));
  v128.store(out + 3 * stride, v128.shuffle<f32>(ab1, cd1, 2, 3, 6, 7));
}
