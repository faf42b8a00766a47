// The register tile: the 4x8 micro-kernels every product ends in (gemm, the convolutions).
import { ACC, BIAS_COL, BIAS_ROW, MR, NR, RELU, SCALE_ROW } from '../src/backends/wasm/abi';
import { madd } from './simd';

/**
 * The end of a 4x8 tile, shared by the micro-kernels: add what C holds (ACC), multiply by the
 * scale per row (SCALE_ROW), add the bias per row or per column, clamp at 0 (RELU), and store the 8
 * accumulators as 4 rows of C, `ldc` floats apart. Inlined, so the accumulators stay in registers.
 * NOTE: the scale is a multiply then an add, never fused, so that a BN folded into the conv gives
 * the bits of the conv's output scaled and shifted in float32 (the native kernels' write-out too).
 */
@inline
export function storeTile(c: usize, ldc: usize, mode: i32, scale: usize, bias: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (mode & ACC) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  if (mode & SCALE_ROW) {
    let s = v128.load32_splat(scale);
    c00 = f32x4.mul(c00, s); c01 = f32x4.mul(c01, s);
    s = v128.load32_splat(scale, 4);
    c10 = f32x4.mul(c10, s); c11 = f32x4.mul(c11, s);
    s = v128.load32_splat(scale, 8);
    c20 = f32x4.mul(c20, s); c21 = f32x4.mul(c21, s);
    s = v128.load32_splat(scale, 12);
    c30 = f32x4.mul(c30, s); c31 = f32x4.mul(c31, s);
  }
  if (mode & BIAS_ROW) {
    let r = v128.load32_splat(bias);
    c00 = f32x4.add(c00, r); c01 = f32x4.add(c01, r);
    r = v128.load32_splat(bias, 4);
    c10 = f32x4.add(c10, r); c11 = f32x4.add(c11, r);
    r = v128.load32_splat(bias, 8);
    c20 = f32x4.add(c20, r); c21 = f32x4.add(c21, r);
    r = v128.load32_splat(bias, 12);
    c30 = f32x4.add(c30, r); c31 = f32x4.add(c31, r);
  }
  if (mode & BIAS_COL) {
    const b0 = v128.load(bias), b1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1);
    c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
    c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1);
    c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
  }
  if (mode & RELU) {
    // Zero the lanes below 0, keeping NaN and -0 as the relu kernel does: f32x4.max(-0, 0) is 0,
    // and a scaled conv can give -0.
    const z = f32x4.splat(0);
    c00 = v128.andnot(c00, f32x4.lt(c00, z)); c01 = v128.andnot(c01, f32x4.lt(c01, z));
    c10 = v128.andnot(c10, f32x4.lt(c10, z)); c11 = v128.andnot(c11, f32x4.lt(c11, z));
    c20 = v128.andnot(c20, f32x4.lt(c20, z)); c21 = v128.andnot(c21, f32x4.lt(c21, z));
    c30 = v128.andnot(c30, f32x4.lt(c30, z)); c31 = v128.andnot(c31, f32x4.lt(c31, z));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c1, c10); v128.store(c1, c11, 16);
  v128.store(c2, c20); v128.store(c2, c21, 16);
  v128.store(c3, c30); v128.store(c3, c31, 16);
}

/**
 * C[0..4)[0..8) (row stride ldc bytes) = A (4 x kc) . Bp (kc x 8, packed), then the mode's epilogue.
 * Row r of A starts at a<r> and steps `ks` bytes per k: a packed panel (a<r> = a + 4r, ks = 16)
 * or a matrix read in place (a<r> = a + r*rowStride, ks = 4 or a column stride), so weights
 * need no packing. Kept small and called often so that V8 tiers it up early.
 */
export function kernel4x8(a0: usize, a1: usize, a2: usize, a3: usize, ks: usize, b: usize, kc: i32, c: usize, ldc: usize, mode: i32, scale: usize, bias: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a0);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(a1);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(a2);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(a3);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    a0 += ks;
    a1 += ks;
    a2 += ks;
    a3 += ks;
    b += 32;
  }
  storeTile(c, ldc, mode, scale, bias, c00, c01, c10, c11, c20, c21, c30, c31);
}

/** Byte offsets past a thread's scratch tile of a partial tile's epilogue values (see TILE_SCRATCH). */
export const EPILOGUE_BIAS: usize = MR * NR * 4;
export const EPILOGUE_SCALE: usize = EPILOGUE_BIAS + MR * 4;

/**
 * Copies a partial tile's epilogue values beside its scratch tile, so that the kernel never reads
 * past the last row's or column's: the bias per row or per column, and the scale per row.
 */
@inline
export function copyEpilogue(scratch: usize, mode: i32, scale: usize, bias: usize, rows: i32, cols: i32): void {
  if (mode & BIAS_ROW) memory.copy(scratch + EPILOGUE_BIAS, bias, <usize>(rows * 4));
  if (mode & BIAS_COL) memory.copy(scratch + EPILOGUE_BIAS, bias, <usize>(cols * 4));
  if (mode & SCALE_ROW) memory.copy(scratch + EPILOGUE_SCALE, scale, <usize>(rows * 4));
}

/**
 * One tile of C with `rows` <= 4 and `cols` <= 8 valid; A row r at a + r*as, stepping ks per k; C
 * columns `ccs` floats apart. A partial or strided tile runs the full kernel on the thread's
 * scratch tile (32 floats + 8 epilogue floats at `scratch`), so edges take the same arithmetic path
 * as the interior and results do not depend on where a tile boundary falls. Missing A rows read row
 * 0 (never past the end of A); their results are dropped.
 */
export function tile(a: usize, as: usize, ks: usize, b: usize, kc: i32, c: usize, ldc: usize, ccs: usize, rows: i32, cols: i32, mode: i32, scale: usize, bias: usize, scratch: usize): void {
  const a1 = rows > 1 ? a + as : a, a2 = rows > 2 ? a + 2 * as : a, a3 = rows > 3 ? a + 3 * as : a;
  if (rows == MR && cols == NR && ccs == 1) {
    kernel4x8(a, a1, a2, a3, ks, b, kc, c, ldc, mode, scale, bias);
    return;
  }
  const cs = ccs << 2;
  if (mode & ACC) {
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) store<f32>(scratch + <usize>(r * 32 + q * 4), load<f32>(c + <usize>r * ldc + <usize>q * cs));
    }
  }
  copyEpilogue(scratch, mode, scale, bias, rows, cols);
  kernel4x8(a, a1, a2, a3, ks, b, kc, scratch, 32, mode, scratch + EPILOGUE_SCALE, scratch + EPILOGUE_BIAS);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) store<f32>(c + <usize>r * ldc + <usize>q * cs, load<f32>(scratch + <usize>(r * 32 + q * 4)));
  }
}

/**
 * kernel4x8 with B read in place: step k's 8 values start at `base` + table[k] (bytes), so the
 * rows of a zero-padded input serve as B with no packing. A (4 rows at a0..a3, stepping `ks`) and
 * the epilogue as kernel4x8. NOTE: the loop repeats kernel4x8's on purpose, with one table load
 * more: choosing B's addressing inside a shared loop would put a branch or an indirect call there.
 */
export function kernel4x8Direct(a0: usize, a1: usize, a2: usize, a3: usize, ks: usize, base: usize, table: usize, kc: i32, c: usize, ldc: usize, mode: i32, scale: usize, bias: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = table + (<usize>kc << 2);
  for (let t = table; t < end; t += 4) {
    const b = base + <usize>load<i32>(t);
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a0);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(a1);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(a2);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(a3);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    a0 += ks;
    a1 += ks;
    a2 += ks;
    a3 += ks;
  }
  storeTile(c, ldc, mode, scale, bias, c00, c01, c10, c11, c20, c21, c30, c31);
}
