// The strided packed GEMM (matching reference linear, linearGradInput, linearGradWeight) and the
// packing and blocking the convolutions share with it.
import { ACC, BIAS_COL, BIAS_ROW, G_A, G_ACS, G_ARS, G_B, G_BCS, G_BIAS, G_BRS, G_C, G_CCS, G_K, G_LDC, G_M, G_MB, G_MODE, G_N, G_NB, KC, MR, NR } from '../src/backends/wasm/abi';
import { nextJob } from './jobs';
import { flush, flush1, transpose4 } from './simd';
import { tile } from './tile';

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
export function packB(dst: usize, src: usize, kc: i32, cols: i32, rs: i32, cs: i32): void {
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
 * B block (kc x cols), then `mode`'s epilogue (row r's scale at scale + 4r). B panels outer: each
 * stays in L1 while the A panels stream past it.
 */
export function computeBlock(ap: usize, as: usize, ks: usize, panelStride: usize, bp: usize, rows: i32, cols: i32, kc: i32, c: usize, ldc: i32, ccs: i32, mode: i32, scale: usize, bias: usize, scratch: usize): void {
  const ldcb = <usize>ldc << 2;
  for (let j = 0; j < cols; j += NR) {
    const b = bp + <usize>(j * kc * 4);
    const nc = min(NR, cols - j);
    for (let i = 0; i < rows; i += MR) {
      let bi = bias;
      if (mode & BIAS_ROW) bi += <usize>(i * 4);
      if (mode & BIAS_COL) bi += <usize>(j * 4);
      tile(ap + <usize>(i / MR) * panelStride, as, ks, b, kc, c + <usize>i * ldcb + <usize>(j * ccs * 4), ldcb, <usize>ccs, min(MR, rows - i), nc, mode, scale + <usize>(i * 4), bi, scratch);
    }
  }
}

/**
 * Strided GEMM: threads take MB x NB blocks of C as jobs; K is walked in KC
 * blocks, each accumulated into C. Per-thread workspace at ws + tid*wsStride:
 * MB*KC + KC*NB + TILE_SCRATCH floats.
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
        computeBlock(aBlock, <usize>(ars * 4), 4, <usize>(ars * 16), wsB, rows, cols, kc, cBlock, ldc, ccs, blockMode, 0, bi, scratch);
      } else {
        packA(wsA, aBlock, rows, kc, ars, acs);
        computeBlock(wsA, 4, 16, <usize>(kc * 16), wsB, rows, cols, kc, cBlock, ldc, ccs, blockMode, 0, bi, scratch);
      }
    }
  }
}
