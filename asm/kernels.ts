/**
 * convstack's WebAssembly kernels (AssemblyScript, 128-bit SIMD). Built twice by asm/build.mjs: a
 * plain-SIMD binary (mul + add) and a relaxed-SIMD binary whose multiply-adds are fused
 * (`f32x4.relaxed_madd`); src/backends/wasm/ picks one with WebAssembly.validate.
 *
 * Every exported kernel is called on every thread at once as `kernel(tid, nt, ...)`: the products
 * take jobs from a shared counter, the memory-bound kernels split their range by `tid`; no job
 * depends on another, so there is no barrier inside a kernel. Results never depend on the thread
 * count: each output value is computed whole by one job, and reductions are blocked by sizes fixed
 * here (KC), never by the number of threads.
 * Pointers are byte offsets into the shared memory; the TS side (src/backends/wasm/) owns all
 * allocation, so this module has no runtime, no heap and no static data.
 *
 * Kernels and the reference each must match (src/backends/reference/):
 * - gemm:             linear, linearGradInput, linearGradWeight (strided operands cover the transposes)
 * - convForward:      conv2d, with fused bias and optional ReLU; also conv2dGradInput for stride 1
 *                     (the transposed convolution is a convolution with flipped filters)
 * - convForwardDirect: the same for stride 1 and small K, B read in place from padded input rows
 * - convGradWeight:   conv2dGradWeight
 * - convGradWeightDirect: the same for stride 1, the padded input read in place (no im2col)
 * - convGradInput:    conv2dGradInput by col2im, for strides > 1 and convolutions that shrink the image
 * - biasGrad, relu, reluGrad, add, maxPool, maxPoolGrad, avgPool, avgPoolGrad: the kernels of those names
 * - scaleShift:       batchNormInfer (one scale and shift per channel)
 * - sgdUpdate:        the Backend's optional sgdUpdate (torch.optim.SGD, in place)
 */

// Micro-kernel modes, combined as bit flags.
const ACC: i32 = 1; // add the product to what C holds
const BIAS_ROW: i32 = 2; // add bias[row]
const BIAS_COL: i32 = 4; // add bias[col]
const RELU: i32 = 8; // max(0, .) last

// Register tile: MR rows of A (broadcast) times NR = 8 columns of B (two vectors). With 8
// accumulators plus 2 B vectors and 1 broadcast it fits V8's 15 usable xmm registers; taller or
// wider tiles spill (see shared/notes/wasm-kernels.md).
const MR: i32 = 4;
const NR: i32 = 8;
/** Depth of one packed block: a B panel (KC x 8 floats, 8 KB) stays in L1 while A panels stream. */
const KC: i32 = 256;

/**
 * The shared job counter (an i32 the TS side zeroes before each call): threads take jobs one at a
 * time, so a thread that the OS preempts (other processes share these cores) delays one job, not
 * a fixed share. Which thread runs a job never changes its arithmetic.
 */
const JOBS: usize = 32;

@inline
function nextJob(): i32 {
  return atomic.add<i32>(JOBS, 1);
}

/**
 * NOTE: wasm has no flush-to-zero mode, and x86 multiplies subnormal floats (below 1.2e-38) through
 * microcode assists, 10-100x slower: late in training, gradients underflow and a conv's backward
 * ran 3-4x slower. The packers flush subnormal operands to zero, which is below float32 resolution
 * of any sum they join; NaN and infinities pass unchanged.
 */
const FLT_MIN: f32 = 1.17549435e-38;

@inline
function flush(v: v128): v128 {
  return v128.andnot(v, f32x4.lt(f32x4.abs(v), f32x4.splat(FLT_MIN)));
}

@inline
function flush1(v: f32): f32 {
  return abs(v) < FLT_MIN ? 0 : v;
}

@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * The end of a 4x8 tile, shared by the micro-kernels: add what C holds (ACC), the bias per row or
 * per column, clamp at 0 (RELU), and store the 8 accumulators as 4 rows of C, `ldc` floats apart.
 * Inlined, so the accumulators stay in registers.
 */
@inline
function storeTile(c: usize, ldc: usize, mode: i32, bias: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  if (mode & ACC) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
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
    const z = f32x4.splat(0);
    c00 = f32x4.max(c00, z); c01 = f32x4.max(c01, z);
    c10 = f32x4.max(c10, z); c11 = f32x4.max(c11, z);
    c20 = f32x4.max(c20, z); c21 = f32x4.max(c21, z);
    c30 = f32x4.max(c30, z); c31 = f32x4.max(c31, z);
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
function kernel4x8(a0: usize, a1: usize, a2: usize, a3: usize, ks: usize, b: usize, kc: i32, c: usize, ldc: usize, mode: i32, bias: usize): void {
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
  storeTile(c, ldc, mode, bias, c00, c01, c10, c11, c20, c21, c30, c31);
}

/**
 * One tile of C with `rows` <= 4 and `cols` <= 8 valid; A row r at a + r*as, stepping ks per k; C
 * columns `ccs` floats apart. A partial or strided tile runs the full kernel on the thread's
 * scratch tile (32 floats + 8 bias floats at `scratch`), so edges take the same arithmetic path as
 * the interior and results do not depend on where a tile boundary falls. Missing A rows read row 0
 * (never past the end of A); their results are dropped.
 */
function tile(a: usize, as: usize, ks: usize, b: usize, kc: i32, c: usize, ldc: usize, ccs: usize, rows: i32, cols: i32, mode: i32, bias: usize, scratch: usize): void {
  const a1 = rows > 1 ? a + as : a, a2 = rows > 2 ? a + 2 * as : a, a3 = rows > 3 ? a + 3 * as : a;
  if (rows == MR && cols == NR && ccs == 1) {
    kernel4x8(a, a1, a2, a3, ks, b, kc, c, ldc, mode, bias);
    return;
  }
  const sb = scratch + 128;
  const cs = ccs << 2;
  if (mode & ACC) {
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) store<f32>(scratch + <usize>(r * 32 + q * 4), load<f32>(c + <usize>r * ldc + <usize>q * cs));
    }
  }
  if (mode & BIAS_ROW) memory.copy(sb, bias, <usize>(rows * 4));
  if (mode & BIAS_COL) memory.copy(sb, bias, <usize>(cols * 4));
  kernel4x8(a, a1, a2, a3, ks, b, kc, scratch, 32, mode, sb);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) store<f32>(c + <usize>r * ldc + <usize>q * cs, load<f32>(scratch + <usize>(r * 32 + q * 4)));
  }
}

/**
 * Packs rows x kc of A (element (i, k) at src + 4*(i*rs + k*cs)) into ceil(rows/4) panels of
 * kc x 4 floats, zero-filling missing rows.
 */
function packA(dst: usize, src: usize, rows: i32, kc: i32, rs: i32, cs: i32): void {
  for (let i0 = 0; i0 < rows; i0 += MR) {
    if (rs == 1 && i0 + MR <= rows) {
      // A's columns are contiguous (A = dy^T in linearGradWeight): 4 rows at a time.
      for (let k = 0; k < kc; k++) {
        v128.store(dst, flush(v128.load(src + (<usize>(i0 + k * cs) << 2))));
        dst += 16;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      for (let q = 0; q < MR; q++) {
        const i = i0 + q;
        store<f32>(dst, i < rows ? flush1(load<f32>(src + (<usize>(i * rs + k * cs) << 2))) : 0);
        dst += 4;
      }
    }
  }
}

/**
 * Packs kc x cols of B (element (k, j) at src + 4*(k*rs + j*cs)) into panels of kc x 8 floats.
 * B's columns contiguous (rs = 1: W^T in linear, x^T below SMALL_BATCH) take 8 columns x 4 k at a
 * time through two 4x4 transposes instead of scalar gathers.
 */
function packB(dst: usize, src: usize, kc: i32, cols: i32, rs: i32, cs: i32): void {
  for (let j0 = 0; j0 < cols; j0 += NR) {
    const full = j0 + NR <= cols;
    let k = 0;
    if (full && rs == 1 && cs != 1) {
      const c0 = src + (<usize>(j0 * cs) << 2), step = <usize>cs << 2;
      for (; k + 4 <= kc; k += 4) {
        const at = c0 + (<usize>k << 2), out = dst + <usize>(k * 32);
        transpose4(flush(v128.load(at)), flush(v128.load(at + step)), flush(v128.load(at + 2 * step)), flush(v128.load(at + 3 * step)), out, 32);
        transpose4(flush(v128.load(at + 4 * step)), flush(v128.load(at + 5 * step)), flush(v128.load(at + 6 * step)), flush(v128.load(at + 7 * step)), out + 16, 32);
      }
      dst += <usize>(k * 32);
    }
    for (; k < kc; k++) {
      const row = src + (<usize>(k * rs + j0 * cs) << 2);
      if (full && cs == 1) {
        v128.store(dst, flush(v128.load(row)));
        v128.store(dst, flush(v128.load(row, 16)), 16);
      } else {
        for (let q = 0; q < NR; q++) store<f32>(dst + (<usize>q << 2), j0 + q < cols ? flush1(load<f32>(row + (<usize>(q * cs) << 2))) : 0);
      }
      dst += 32;
    }
  }
}

/**
 * C block (rows x cols, row stride ldc floats, column stride ccs) = A block (rows x kc; row r at
 * ap + (r/4)*panelStride + (r%4)*as, stepping ks per k: packed panels or A in place) . packed
 * B block (kc x cols). B panels outer: each stays in L1 while the A panels stream past it.
 */
function computeBlock(ap: usize, as: usize, ks: usize, panelStride: usize, bp: usize, rows: i32, cols: i32, kc: i32, c: usize, ldc: i32, ccs: i32, mode: i32, bias: usize, scratch: usize): void {
  const ldcb = <usize>ldc << 2;
  for (let j = 0; j < cols; j += NR) {
    const b = bp + <usize>(j * kc * 4);
    const nc = min(NR, cols - j);
    for (let i = 0; i < rows; i += MR) {
      let bi = bias;
      if (mode & BIAS_ROW) bi += <usize>(i * 4);
      if (mode & BIAS_COL) bi += <usize>(j * 4);
      tile(ap + <usize>(i / MR) * panelStride, as, ks, b, kc, c + <usize>i * ldcb + <usize>(j * ccs * 4), ldcb, <usize>ccs, min(MR, rows - i), nc, mode, bi, scratch);
    }
  }
}

// Descriptor of a general product, written by the TS side as i32 fields.
// C (M x N, row stride ldc, column stride ccs) = A (M x K) . B (K x N) [+ C] [+ bias] [relu]
const G_M = 0, G_N = 4, G_K = 8, G_A = 12, G_ARS = 16, G_ACS = 20, G_B = 24, G_BRS = 28, G_BCS = 32;
const G_C = 36, G_LDC = 40, G_BIAS = 44, G_MODE = 48, G_MB = 52, G_NB = 56, G_CCS = 60;

/**
 * Strided GEMM: threads take MB x NB blocks of C as jobs; K is walked in KC
 * blocks, each accumulated into C. Per-thread workspace at ws + tid*wsStride:
 * MB*KC + KC*NB + 40 floats.
 */
export function gemm(tid: i32, nt: i32, d: usize, ws: usize, wsStride: i32): void {
  const m = load<i32>(d, G_M), n = load<i32>(d, G_N), k = load<i32>(d, G_K);
  const a = <usize>load<i32>(d, G_A), ars = load<i32>(d, G_ARS), acs = load<i32>(d, G_ACS);
  const b = <usize>load<i32>(d, G_B), brs = load<i32>(d, G_BRS), bcs = load<i32>(d, G_BCS);
  const c = <usize>load<i32>(d, G_C), ldc = load<i32>(d, G_LDC), bias = <usize>load<i32>(d, G_BIAS);
  const mode = load<i32>(d, G_MODE), mb = load<i32>(d, G_MB), nb = load<i32>(d, G_NB), ccs = load<i32>(d, G_CCS);
  const wsA = ws + <usize>tid * <usize>wsStride;
  const wsB = wsA + <usize>(mb * KC * 4);
  const scratch = wsB + <usize>(KC * nb * 4);
  const rowBlocks = (m + mb - 1) / mb, colBlocks = (n + nb - 1) / nb;
  const jobs = rowBlocks * colBlocks;
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const i0 = (job / colBlocks) * mb, j0 = (job % colBlocks) * nb;
    const rows = min(mb, m - i0), cols = min(nb, n - j0);
    const cBlock = c + (<usize>(i0 * ldc + j0 * ccs) << 2);
    if (k == 0) continue;
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      const aBlock = a + (<usize>(i0 * ars + k0 * acs) << 2);
      packB(wsB, b + (<usize>(k0 * brs + j0 * bcs) << 2), kc, cols, brs, bcs);
      let blockMode = k0 > 0 ? ACC : mode & ACC;
      if (k0 + kc >= k) blockMode |= mode & ~ACC;
      let bi = bias;
      if (mode & BIAS_ROW) bi += <usize>(i0 * 4);
      if (mode & BIAS_COL) bi += <usize>(j0 * 4);
      if (acs == 1) {
        // Rows of A are contiguous: read in place (weights are never packed).
        computeBlock(aBlock, <usize>(ars * 4), 4, <usize>(ars * 16), wsB, rows, cols, kc, cBlock, ldc, ccs, blockMode, bi, scratch);
      } else {
        packA(wsA, aBlock, rows, kc, ars, acs);
        computeBlock(wsA, 4, 16, <usize>(kc * 16), wsB, rows, cols, kc, cBlock, ldc, ccs, blockMode, bi, scratch);
      }
    }
  }
}

// Convolution geometry, written by the TS side as i32 fields.
const C_N = 0, C_C = 4, C_H = 8, C_W = 12, C_O = 16, C_OH = 20, C_OW = 24, C_KH = 28, C_KW = 32;
const C_SH = 36, C_SW = 40, C_PH = 44, C_PW = 48, C_G = 52, C_NB = 56;

/**
 * Writes one im2col row, the input values tap (fy, fx) of `plane` sees at positions p0..p0+cols
 * (p = oh*OW + ow; 0 in the padding), contiguously at `at`. An output row's positions read zeros
 * (outside the input), or zeros, a run of inputs and zeros; at stride 1 the run is adjacent inputs,
 * copied 4 at a time at any alignment. NOTE: the zero stores may run up to 3 floats past their
 * range: whatever they cover is written again afterwards (the inputs, the next output row) or lies
 * in the caller's slack of 4 floats past `cols`.
 */
function im2colRow(at: usize, plane: usize, d: usize, fy: i32, fx: i32, p0: i32, cols: i32): void {
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
function packIm2col(dst: usize, x: usize, d: usize, k0: i32, kc: i32, p0: i32, cols: i32, row: usize): void {
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
 * y (N, O, OH, OW) = conv(x, w) + bias [relu], the filters w (O, C/G, KH, KW) read in place. Jobs are (image, group, block of NB output positions).
 * Per-thread workspace: KC*NB + 40 + NB + 8 floats (B block, tile scratch, im2col row).
 */
export function convForward(tid: i32, nt: i32, d: usize, x: usize, wp: usize, bias: usize, y: usize, mode: i32, ws: usize, wsStride: i32): void {
  const n = load<i32>(d, C_N), c = load<i32>(d, C_C), h = load<i32>(d, C_H), w = load<i32>(d, C_W);
  const o = load<i32>(d, C_O), oh = load<i32>(d, C_OH), ow = load<i32>(d, C_OW);
  const groups = load<i32>(d, C_G), nb = load<i32>(d, C_NB);
  const kk = load<i32>(d, C_KH) * load<i32>(d, C_KW);
  const cg = c / groups, og = o / groups, kg = cg * kk, p = oh * ow;
  const bp = ws + <usize>tid * <usize>wsStride;
  const scratch = bp + <usize>(KC * nb * 4);
  const row = scratch + <usize>(TILE_SCRATCH * 4);
  const blocks = (p + nb - 1) / nb;
  const jobs = n * groups * blocks;
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const img = job / (groups * blocks), g = (job / blocks) % groups, p0 = (job % blocks) * nb;
    const cols = min(nb, p - p0);
    const xg = x + <usize>((img * c + g * cg) * h * w * 4);
    const yBlock = y + <usize>(((img * o + g * og) * p + p0) * 4);
    const ag = wp + <usize>(g * og * kg * 4);
    for (let k0 = 0; k0 < kg; k0 += KC) {
      const kc = min(KC, kg - k0);
      packIm2col(bp, xg, d, k0, kc, p0, cols, row);
      let blockMode = k0 > 0 ? ACC : 0;
      if (k0 + kc >= kg) blockMode |= mode;
      // The filters are A read in place: row = filter, k = (c, kh, kw).
      computeBlock(ag + <usize>(k0 * 4), <usize>(kg * 4), 4, <usize>(kg * 16), bp, og, cols, kc, yBlock, p, 1, blockMode, bias + <usize>(g * og * 4), scratch);
    }
  }
}

/** Floats of a thread's scratch tile (4 x 8) and its bias (8). */
const TILE_SCRATCH: i32 = 40;

/**
 * kernel4x8 with B read in place: step k's 8 values start at `base` + table[k] (bytes), so the
 * rows of a zero-padded input serve as B with no packing. A (4 rows at a0..a3, stepping `ks`) and
 * the epilogue as kernel4x8.
 */
function kernel4x8Direct(a0: usize, a1: usize, a2: usize, a3: usize, ks: usize, base: usize, table: usize, kc: i32, c: usize, ldc: usize, mode: i32, bias: usize): void {
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
  storeTile(c, ldc, mode, bias, c00, c01, c10, c11, c20, c21, c30, c31);
}

/**
 * y (N, O, OH, OW) = conv(x, w) + bias [relu] for stride 1 with no im2col: each job (image,
 * group, band of NB output rows) copies the input rows its band reads into a zero-padded buffer
 * (rows W + 2PW wide, rounded so that every block of 8 output columns reads inside it), then runs
 * kernel4x8Direct with the filters read in place as A and the buffer's rows as B, through a table
 * of each tap's (c, fy, fx) offset. Tiles with fewer than 4 filters or 8 valid columns go through
 * the thread's scratch tile, as in `tile`; columns past OW read the buffer's slack, and are dropped.
 * NOTE: the whole K (C/G * KH * KW) is summed in one pass: TS sends only K <= 1024 here, so a
 * block's B values (K x 8 floats) stay in L1 while the filters stream past.
 * Per-thread workspace: Cg*(NB + KH - 1)*WP + K + 40 floats, WP = OWr + KW - 1, OWr = OW rounded up to 8.
 */
export function convForwardDirect(tid: i32, nt: i32, d: usize, x: usize, wp: usize, bias: usize, y: usize, mode: i32, ws: usize, wsStride: i32): void {
  const n = load<i32>(d, C_N), c = load<i32>(d, C_C), h = load<i32>(d, C_H), w = load<i32>(d, C_W);
  const o = load<i32>(d, C_O), oh = load<i32>(d, C_OH), ow = load<i32>(d, C_OW);
  const kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW), ph = load<i32>(d, C_PH), pw = load<i32>(d, C_PW);
  const groups = load<i32>(d, C_G), band = load<i32>(d, C_NB);
  const kk = kh * kw;
  const cg = c / groups, og = o / groups, kg = cg * kk, p = oh * ow;
  const owr = ((ow + NR - 1) / NR) * NR;
  const wpad = owr + kw - 1, rowsPad = band + kh - 1;
  const planeBytes = <usize>(rowsPad * wpad * 4);
  const pad = ws + <usize>tid * <usize>wsStride;
  const table = pad + <usize>cg * planeBytes;
  const scratch = table + (<usize>kg << 2);
  for (let k = 0; k < kg; k++) {
    const ch = k / kk, rem = k % kk;
    store<i32>(table + (<usize>k << 2), <i32>(<usize>ch * planeBytes + (<usize>((rem / kw) * wpad + rem % kw) << 2)));
  }
  const bands = (oh + band - 1) / band;
  const jobs = n * groups * bands;
  const ldc = <usize>(p * 4);
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const img = job / (groups * bands), g = (job / bands) % groups, oy0 = (job % bands) * band;
    const rows = min(band, oh - oy0);
    const xg = x + <usize>((img * c + g * cg) * h * w * 4);
    // The padded input rows oy0 - PH .. oy0 + rows + KH - 1 - PH of every channel of the group.
    for (let ch = 0; ch < cg; ch++) {
      for (let r = 0; r < rows + kh - 1; r++) {
        const dst = pad + <usize>ch * planeBytes + <usize>(r * wpad * 4);
        const iy = oy0 - ph + r;
        if (iy < 0 || iy >= h) {
          memory.fill(dst, 0, <usize>(wpad * 4));
          continue;
        }
        memory.fill(dst, 0, <usize>(pw * 4));
        const src = xg + <usize>((ch * h + iy) * w * 4);
        const at = dst + <usize>(pw * 4);
        let t = 0;
        for (; t + 4 <= w; t += 4) v128.store(at + (<usize>t << 2), flush(v128.load(src + (<usize>t << 2))));
        for (; t < w; t++) store<f32>(at + (<usize>t << 2), flush1(load<f32>(src + (<usize>t << 2))));
        memory.fill(at + (<usize>w << 2), 0, <usize>((wpad - pw - w) * 4));
      }
    }
    const ag = wp + <usize>(g * og * kg * 4);
    const yg = y + <usize>((img * o + g * og) * p * 4);
    const bg = bias + <usize>(g * og * 4);
    for (let r = 0; r < rows; r++) {
      const oy = oy0 + r;
      for (let ox = 0; ox < ow; ox += NR) {
        const base = pad + <usize>((r * wpad + ox) * 4);
        const cols = min(NR, ow - ox);
        for (let i = 0; i < og; i += MR) {
          const a0 = ag + <usize>(i * kg * 4), as = <usize>(kg * 4);
          const left = og - i;
          const a1 = left > 1 ? a0 + as : a0, a2 = left > 2 ? a0 + 2 * as : a0, a3 = left > 3 ? a0 + 3 * as : a0;
          const bi = bg + <usize>(i * 4);
          const cTile = yg + <usize>(i * p * 4) + <usize>((oy * ow + ox) * 4);
          if (left >= MR && cols == NR) {
            kernel4x8Direct(a0, a1, a2, a3, 4, base, table, kg, cTile, ldc, mode, bi);
            continue;
          }
          const sb = scratch + 128;
          if (mode & BIAS_ROW) memory.copy(sb, bi, <usize>(min(MR, left) * 4));
          kernel4x8Direct(a0, a1, a2, a3, 4, base, table, kg, scratch, 32, mode, sb);
          for (let q = 0; q < min(MR, left); q++) {
            for (let u = 0; u < cols; u++) store<f32>(cTile + <usize>q * ldc + (<usize>u << 2), load<f32>(scratch + <usize>(q * 32 + u * 4)));
          }
        }
      }
    }
  }
}

@inline
function transpose4(a: v128, b: v128, c: v128, d: v128, out: usize, stride: usize): void {
  const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), cd0 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), cd1 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(ab0, cd0, 0, 1, 4, 5));
  v128.store(out + stride, v128.shuffle<f32>(ab0, cd0, 2, 3, 6, 7));
  v128.store(out + 2 * stride, v128.shuffle<f32>(ab1, cd1, 0, 1, 4, 5));
  v128.store(out + 3 * stride, v128.shuffle<f32>(ab1, cd1, 2, 3, 6, 7));
}

/**
 * Packs im2col(x)^T for positions p0..p0+kc and filter taps j0..j0+cols into B panels of 8 taps:
 * element (t, j) = the input value tap j0 + j sees at position p0 + t (0 in the padding). The 8
 * taps of a panel are built as im2col rows (im2colRow: vector copies, zeros included), then
 * turned into the panel 4 positions at a time by two 4x4 transposes, with no bounds checks.
 * `rows` is 8 rows of KC + 8 floats of scratch.
 */
function packTapsByPosition(dst: usize, x: usize, d: usize, j0: i32, cols: i32, p0: i32, kc: i32, rows: usize): void {
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

/**
 * dw (O, C/G, KH, KW) = sum over images of dy (Og x P, read in place) . im2col(x)^T (P x Kg), per group. Jobs are
 * (group, block of NB columns of Kg); K = P is walked in KC blocks image by image, a fixed order.
 * A job sums into its own workspace and writes its columns of dw once at the end: threads never
 * write near each other's columns while they work (Kg may be small, e.g. 25 for LeNet's C1).
 * Per-thread workspace: KC*NB + Ogp*NB + 40 + 8*(KC + 8) floats, Ogp = Og rounded up to 4.
 */
export function convGradWeight(tid: i32, nt: i32, d: usize, x: usize, dy: usize, dw: usize, ws: usize, wsStride: i32): void {
  const n = load<i32>(d, C_N), c = load<i32>(d, C_C), h = load<i32>(d, C_H), w = load<i32>(d, C_W);
  const o = load<i32>(d, C_O), oh = load<i32>(d, C_OH), ow = load<i32>(d, C_OW);
  const kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW), sh = load<i32>(d, C_SH), sw = load<i32>(d, C_SW);
  const ph = load<i32>(d, C_PH), pw = load<i32>(d, C_PW);
  const groups = load<i32>(d, C_G), nb = load<i32>(d, C_NB);
  const kk = kh * kw;
  const cg = c / groups, og = o / groups, kg = cg * kk, p = oh * ow;
  const ogPad = ((og + MR - 1) / MR) * MR;
  const bp = ws + <usize>tid * <usize>wsStride;
  const acc = bp + <usize>(KC * nb * 4);
  const scratch = acc + <usize>(ogPad * nb * 4);
  const rows = scratch + <usize>(TILE_SCRATCH * 4);
  const blocks = (kg + nb - 1) / nb;
  const jobs = groups * blocks;
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const g = job / blocks, j0 = (job % blocks) * nb;
    const cols = min(nb, kg - j0);
    memory.fill(acc, 0, <usize>(ogPad * nb * 4));
    for (let img = 0; img < n; img++) {
      const xg = x + <usize>((img * c + g * cg) * h * w * 4);
      const dyg = dy + <usize>((img * o + g * og) * p * 4);
      for (let p0 = 0; p0 < p; p0 += KC) {
        const kc = min(KC, p - p0);
        packTapsByPosition(bp, xg, d, j0, cols, p0, kc, rows);
        // A = dy read in place: row = filter (P floats apart), k = position.
        computeBlock(dyg + <usize>(p0 * 4), <usize>(p * 4), 4, <usize>(p * 16), bp, og, cols, kc, acc, nb, 1, ACC, 0, scratch);
      }
    }
    const dwBlock = dw + <usize>((g * og * kg + j0) * 4);
    for (let row = 0; row < og; row++) {
      memory.copy(dwBlock + <usize>(row * kg * 4), acc + <usize>(row * nb * 4), <usize>(cols * 4));
    }
  }
}

/**
 * dw (O, C/G, KH, KW) for stride 1 with no im2col: dw^T (Kg x Og) = X (Kg x P') . dy^T (P' x Og)
 * per image and band of output rows, where P' counts positions along the zero-padded input rows
 * (WP = OW + KW - 1 wide), so that tap (c, fy, fx)'s row of X is a contiguous run of the padded
 * input, read in place as A. dy^T is packed into panels of 8 filters (zeros at the padding
 * columns ox >= OW and past Og) by 4x4 transposes: Og values per position instead of Kg.
 * Jobs are (group, panel of 8 filters, block of NB taps); each sums its tile in the workspace over
 * images and bands in a fixed order and writes its part of dw once, so results do not depend on
 * how many jobs or threads there are. `band` output rows per step keep the B panel near KC deep.
 * Per-thread workspace: Cg*(band + KH - 1)*WP + 8*band*WP + 8*(NB + 4) + 8 floats.
 */
export function convGradWeightDirect(tid: i32, nt: i32, d: usize, x: usize, dy: usize, dw: usize, ws: usize, wsStride: i32, band: i32): void {
  const n = load<i32>(d, C_N), c = load<i32>(d, C_C), h = load<i32>(d, C_H), w = load<i32>(d, C_W);
  const o = load<i32>(d, C_O), oh = load<i32>(d, C_OH), ow = load<i32>(d, C_OW);
  const kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW), ph = load<i32>(d, C_PH), pw = load<i32>(d, C_PW);
  const groups = load<i32>(d, C_G), nb = load<i32>(d, C_NB);
  const kk = kh * kw;
  const cg = c / groups, og = o / groups, kg = cg * kk, p = oh * ow;
  const wpad = ow + kw - 1, rowsPad = band + kh - 1;
  const planeBytes = <usize>(rowsPad * wpad * 4);
  const pad = ws + <usize>tid * <usize>wsStride;
  const panel = pad + <usize>cg * planeBytes;
  const acc = panel + <usize>(band * wpad * 32);
  const zero = acc + <usize>((nb + 4) * 32);
  v128.store(zero, f32x4.splat(0));
  v128.store(zero, f32x4.splat(0), 16);
  const oPanels = (og + NR - 1) / NR, tapBlocks = (kg + nb - 1) / nb;
  const bands = (oh + band - 1) / band;
  const jobs = groups * oPanels * tapBlocks;
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const g = job / (oPanels * tapBlocks), o0 = ((job / tapBlocks) % oPanels) * NR, t0 = (job % tapBlocks) * nb;
    const taps = min(nb, kg - t0), outs = min(NR, og - o0);
    memory.fill(acc, 0, <usize>((nb + 4) * 32));
    for (let img = 0; img < n; img++) {
      const xg = x + <usize>((img * c + g * cg) * h * w * 4);
      const dyo = dy + <usize>((img * o + g * og + o0) * p * 4);
      for (let b = 0; b < bands; b++) {
        const oy0 = b * band, rows = min(band, oh - oy0);
        // The padded input rows of the band, every channel of the group.
        for (let ch = 0; ch < cg; ch++) {
          for (let r = 0; r < rows + kh - 1; r++) {
            const dst = pad + <usize>ch * planeBytes + <usize>(r * wpad * 4);
            const iy = oy0 - ph + r;
            if (iy < 0 || iy >= h) {
              memory.fill(dst, 0, <usize>(wpad * 4));
              continue;
            }
            memory.fill(dst, 0, <usize>(pw * 4));
            const src = xg + <usize>((ch * h + iy) * w * 4);
            const at = dst + <usize>(pw * 4);
            let t = 0;
            for (; t + 4 <= w; t += 4) v128.store(at + (<usize>t << 2), flush(v128.load(src + (<usize>t << 2))));
            for (; t < w; t++) store<f32>(at + (<usize>t << 2), flush1(load<f32>(src + (<usize>t << 2))));
            memory.fill(at + (<usize>w << 2), 0, <usize>((wpad - pw - w) * 4));
          }
        }
        // dy^T of the band: row k = r*WP + ox (ox < OW), 8 filters; the padding columns are 0.
        const kc = (rows - 1) * wpad + ow;
        for (let r = 0; r < rows; r++) {
          const src = dyo + <usize>((oy0 + r) * ow * 4);
          const out = panel + <usize>(r * wpad * 32);
          let ox = 0;
          for (; ox + 4 <= ow; ox += 4) {
            const at = src + (<usize>ox << 2), step = <usize>(p * 4);
            const q = out + <usize>(ox * 32);
            transpose4(flush(v128.load(outs > 0 ? at : zero)), flush(v128.load(outs > 1 ? at + step : zero)), flush(v128.load(outs > 2 ? at + 2 * step : zero)), flush(v128.load(outs > 3 ? at + 3 * step : zero)), q, 32);
            transpose4(flush(v128.load(outs > 4 ? at + 4 * step : zero)), flush(v128.load(outs > 5 ? at + 5 * step : zero)), flush(v128.load(outs > 6 ? at + 6 * step : zero)), flush(v128.load(outs > 7 ? at + 7 * step : zero)), q + 16, 32);
          }
          for (; ox < ow; ox++) {
            for (let j = 0; j < NR; j++) store<f32>(out + <usize>(ox * 32 + j * 4), j < outs ? flush1(load<f32>(src + <usize>((j * p + ox) * 4))) : 0);
          }
          if (r + 1 < rows) memory.fill(out + <usize>(ow * 32), 0, <usize>((wpad - ow) * 32));
        }
        // 4 taps at a time: A rows are the padded input from each tap's (fy, fx) on.
        for (let i = 0; i < taps; i += MR) {
          let a0: usize = 0, a1: usize = 0, a2: usize = 0, a3: usize = 0;
          for (let q = 0; q < MR; q++) {
            const k = t0 + min(i + q, taps - 1);
            const ch = k / kk, rem = k % kk;
            const a = pad + <usize>ch * planeBytes + (<usize>((rem / kw) * wpad + rem % kw) << 2);
            if (q == 0) a0 = a;
            else if (q == 1) a1 = a;
            else if (q == 2) a2 = a;
            else a3 = a;
          }
          kernel4x8(a0, a1, a2, a3, 4, panel, kc, acc + <usize>(i * 32), 32, ACC, 0);
        }
      }
    }
    // dw[g*Og + o0 + j][t0 + i] = acc[i][j]
    for (let j = 0; j < outs; j++) {
      const row = dw + <usize>(((g * og + o0 + j) * kg + t0) * 4);
      for (let i = 0; i < taps; i++) store<f32>(row + (<usize>i << 2), load<f32>(acc + <usize>(i * 32 + j * 4)));
    }
  }
}

/**
 * dx (N, C, H, W) += col2im(W^T (Kg x Og) . dy (Og x P)) per image and group, for any stride: the
 * product for a block of NB positions goes to the workspace (dcol, Kg x NB), then is added onto
 * the input pixels it came from. `wt` is the weight (O, C/G, KH, KW), read in place as W^T. Jobs
 * are (image, group), so each job owns its dx planes.
 * Per-thread workspace: KC*NB + Kgp*NB + 40 floats, Kgp = Kg rounded up to 4.
 */
export function convGradInput(tid: i32, nt: i32, d: usize, dy: usize, wt: usize, dx: usize, ws: usize, wsStride: i32): void {
  const n = load<i32>(d, C_N), c = load<i32>(d, C_C), h = load<i32>(d, C_H), w = load<i32>(d, C_W);
  const o = load<i32>(d, C_O), oh = load<i32>(d, C_OH), ow = load<i32>(d, C_OW);
  const kh = load<i32>(d, C_KH), kw = load<i32>(d, C_KW), sh = load<i32>(d, C_SH), sw = load<i32>(d, C_SW);
  const ph = load<i32>(d, C_PH), pw = load<i32>(d, C_PW);
  const groups = load<i32>(d, C_G), nb = load<i32>(d, C_NB);
  const kk = kh * kw;
  const cg = c / groups, og = o / groups, kg = cg * kk, p = oh * ow;
  const kgPad = ((kg + MR - 1) / MR) * MR;
  const bp = ws + <usize>tid * <usize>wsStride;
  const dcol = bp + <usize>(KC * nb * 4);
  const scratch = dcol + <usize>(kgPad * nb * 4);
  const ldc = <usize>(nb * 4);
  const jobs = n * groups;
  for (let job = nextJob(); job < jobs; job = nextJob()) {
    const img = job / groups, g = job % groups;
    const dyg = dy + <usize>((img * o + g * og) * p * 4);
    const dxg = dx + <usize>((img * c + g * cg) * h * w * 4);
    const ag = wt + <usize>(g * og * kg * 4);
    for (let p0 = 0; p0 < p; p0 += nb) {
      const cols = min(nb, p - p0);
      for (let k0 = 0; k0 < og; k0 += KC) {
        const kc = min(KC, og - k0);
        packB(bp, dyg + <usize>((k0 * p + p0) * 4), kc, cols, p, 1);
        const mode = k0 > 0 ? ACC : 0;
        // A = W^T read in place: row = tap r (adjacent floats), k = filter (Kg floats apart).
        computeBlock(ag + <usize>(k0 * kg * 4), 4, <usize>(kg * 4), 16, bp, kg, cols, kc, dcol, nb, 1, mode, 0, scratch);
      }
      // col2im: dcol row r = (c, fy, fx), column t = position p0 + t.
      for (let r = 0; r < kg; r++) {
        const ch = r / kk, rem = r % kk, fy = rem / kw, fx = rem % kw;
        const plane = dxg + <usize>(ch * h * w * 4);
        let src = dcol + <usize>r * ldc;
        let oy = p0 / ow, ox = p0 % ow;
        let left = cols;
        while (left > 0) {
          const run = min(ow - ox, left);
          const iy = oy * sh - ph + fy;
          if (iy >= 0 && iy < h && sw == 1) {
            // Stride 1: the run's valid positions t in [lo, hi) land on adjacent pixels; four at
            // a time, each pixel summed in the same order as the scalar loop below.
            const first = ox - pw + fx;
            const dst = plane + (<usize>(iy * w + first) << 2);
            const hi = min(run, w - first);
            let t = max(0, -first);
            for (; t + 4 <= hi; t += 4) {
              const at = dst + (<usize>t << 2);
              v128.store(at, f32x4.add(v128.load(at), v128.load(src + (<usize>t << 2))));
            }
            for (; t < hi; t++) {
              const at = dst + (<usize>t << 2);
              store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>t << 2)));
            }
          } else if (iy >= 0 && iy < h) {
            const dst = plane + (<usize>(iy * w) << 2);
            let ix = ox * sw - pw + fx;
            for (let t = 0; t < run; t++) {
              if (ix >= 0 && ix < w) {
                const at = dst + (<usize>ix << 2);
                store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>t << 2)));
              }
              ix += sw;
            }
          }
          src += <usize>(run * 4);
          left -= run;
          ox = 0;
          oy++;
        }
      }
    }
  }
}

/** Splits `count` items into `nt` contiguous runs of whole vectors; returns [start, end) of run `tid`. */
@inline
function runStart(count: i32, tid: i32, nt: i32): i32 {
  return ((((count + 3) >> 2) * tid) / nt) << 2;
}

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

// sgdUpdate modes, combined as bit flags.
const SGD_MOMENTUM: i32 = 1; // a momentum buffer is read and written
const SGD_FIRST: i32 = 2; // first step: buf = d
const SGD_NESTEROV: i32 = 4; // w -= lr (d + momentum buf), else w -= lr buf

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

// Pooling geometry: i32 fields.
const P_PLANES = 0, P_H = 4, P_W = 8, P_OH = 12, P_OW = 16, P_KH = 20, P_KW = 24, P_SH = 28, P_SW = 32, P_PH = 36, P_PW = 40;

/**
 * Max pooling over N*C planes, split by plane. The window is clipped to the input (padding never
 * wins); the first maximum wins ties and NaN wins over everything, as in the reference. `argmax`
 * receives each maximum's flat index in its plane.
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
        store<i32>(argmax + (<usize>out << 2), bestIndex);
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
        v128.store(argmax + out, pick);
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
        store<i32>(argmax + out, index);
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

/** y = x * scale[c] + shift[c] over (N, C, R), split by (image, channel) plane. */
export function scaleShift(tid: i32, nt: i32, x: usize, scale: usize, shift: usize, y: usize, n: i32, c: i32, rest: i32): void {
  const planes = n * c;
  const first = (planes * tid) / nt, last = (planes * (tid + 1)) / nt;
  for (let plane = first; plane < last; plane++) {
    const ch = plane % c;
    const s = load<f32>(scale + (<usize>ch << 2)), t = load<f32>(shift + (<usize>ch << 2));
    const sv = f32x4.splat(s), tv = f32x4.splat(t);
    const off = <usize>(plane * rest) << 2;
    let j = 0;
    for (; j + 4 <= rest; j += 4) {
      const at = off + (<usize>j << 2);
      v128.store(y + at, f32x4.add(f32x4.mul(v128.load(x + at), sv), tv));
    }
    for (; j < rest; j++) {
      const at = off + (<usize>j << 2);
      store<f32>(y + at, load<f32>(x + at) * s + t);
    }
  }
}

// Batch normalisation in training: statistics per channel of x (N, C, R), R = H*W or 1. Each
// channel is one job, computed whole by the thread that takes it, in a fixed order: per-lane f64
// sums (lanes 0-3 of every vector, then the scalar tail), so results do not depend on the thread
// count. Sums and the per-value arithmetic run in f64, as the reference's do; values are rounded
// to f32 once, when stored.

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

/** Where the window of output `o` starts along one axis, in input coordinates (may be negative: padding). */
@inline
function windowStart(o: i32, stride: i32, padding: i32): i32 {
  return o * stride - padding;
}

/** Field of the pooling descriptor: nonzero when the divisor counts padding. */
const P_INCLUDE_PAD = 44;

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
