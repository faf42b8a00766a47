// Stride-1 convolutions with no im2col: B read in place from zero-padded input rows (matching
// reference conv2d and conv2dGradWeight).
import { ACC, C_C, C_G, C_H, C_KH, C_KW, C_N, C_NB, C_O, C_OH, C_OW, C_PH, C_PW, C_W, MR, NR } from '../src/backends/wasm/abi';
import { nextJob } from './jobs';
import { flush, flush1, transpose4 } from './simd';
import { EPILOGUE_BIAS, EPILOGUE_SCALE, copyEpilogue, kernel4x8, kernel4x8Direct } from './tile';

/**
 * Copies input rows oy0 - PH .. oy0 - PH + count - 1 of `cg` channels (planes H x W from `xg`) into
 * rows `wpad` floats wide, channel ch's from pad + ch*planeBytes: PW zeros, the W inputs (subnormals
 * flushed), zeros to the end; a row outside the input is all zeros.
 */
@inline
function padRows(pad: usize, planeBytes: usize, wpad: i32, xg: usize, cg: i32, h: i32, w: i32, ph: i32, pw: i32, oy0: i32, count: i32): void {
  for (let ch = 0; ch < cg; ch++) {
    for (let r = 0; r < count; r++) {
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
}

/**
 * y (N, O, OH, OW) = conv(x, w) [* scale] + bias [relu] for stride 1 with no im2col: each job (image,
 * group, band of NB output rows) copies the input rows its band reads into a zero-padded buffer
 * (rows W + 2PW wide, rounded so that every block of 8 output columns reads inside it), then runs
 * kernel4x8Direct with the filters read in place as A and the buffer's rows as B, through a table
 * of each tap's (c, fy, fx) offset. Tiles with fewer than 4 filters or 8 valid columns go through
 * the thread's scratch tile, as in `tile`; columns past OW read the buffer's slack, and are dropped.
 * NOTE: the whole K (C/G * KH * KW) is summed in one pass: TS sends only K <= 1024 here, so a
 * block's B values (K x 8 floats) stay in L1 while the filters stream past.
 * Per-thread workspace: Cg*(NB + KH - 1)*WP + K + TILE_SCRATCH floats, WP = OWr + KW - 1, OWr = OW rounded up to 8.
 */
export function convForwardDirect(tid: i32, nt: i32, d: usize, x: usize, wp: usize, scale: usize, bias: usize, y: usize, mode: i32, ws: usize, wsStride: i32): void {
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
    padRows(pad, planeBytes, wpad, xg, cg, h, w, ph, pw, oy0, rows + kh - 1);
    const ag = wp + <usize>(g * og * kg * 4);
    const yg = y + <usize>((img * o + g * og) * p * 4);
    const sg = scale + <usize>(g * og * 4), bg = bias + <usize>(g * og * 4);
    for (let r = 0; r < rows; r++) {
      const oy = oy0 + r;
      for (let ox = 0; ox < ow; ox += NR) {
        const base = pad + <usize>((r * wpad + ox) * 4);
        const cols = min(NR, ow - ox);
        for (let i = 0; i < og; i += MR) {
          const a0 = ag + <usize>(i * kg * 4), as = <usize>(kg * 4);
          const left = og - i;
          const a1 = left > 1 ? a0 + as : a0, a2 = left > 2 ? a0 + 2 * as : a0, a3 = left > 3 ? a0 + 3 * as : a0;
          const si = sg + <usize>(i * 4), bi = bg + <usize>(i * 4);
          const cTile = yg + <usize>(i * p * 4) + <usize>((oy * ow + ox) * 4);
          if (left >= MR && cols == NR) {
            kernel4x8Direct(a0, a1, a2, a3, 4, base, table, kg, cTile, ldc, mode, si, bi);
            continue;
          }
          copyEpilogue(scratch, mode, si, bi, min(MR, left), cols);
          kernel4x8Direct(a0, a1, a2, a3, 4, base, table, kg, scratch, 32, mode, scratch + EPILOGUE_SCALE, scratch + EPILOGUE_BIAS);
          for (let q = 0; q < min(MR, left); q++) {
            for (let u = 0; u < cols; u++) store<f32>(cTile + <usize>q * ldc + (<usize>u << 2), load<f32>(scratch + <usize>(q * 32 + u * 4)));
          }
        }
      }
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
        padRows(pad, planeBytes, wpad, xg, cg, h, w, ph, pw, oy0, rows + kh - 1);
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
          kernel4x8(a0, a1, a2, a3, 4, panel, kc, acc + <usize>(i * 32), 32, ACC, 0, 0);
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
