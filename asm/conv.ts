// Convolutions through im2col and packed panels, any stride (matching reference conv2d,
// conv2dGradWeight and conv2dGradInput); stride 1 has faster forms in asm/conv_direct.ts.
import { ACC, C_C, C_G, C_H, C_KH, C_KW, C_N, C_NB, C_O, C_OH, C_OW, C_PH, C_PW, C_SH, C_SW, C_W, KC, MR, TILE_SCRATCH } from '../src/backends/wasm/abi';
import { computeBlock, packB } from './gemm';
import { packIm2col, packTapsByPosition } from './im2col';
import { nextJob } from './jobs';

/**
 * y (N, O, OH, OW) = conv(x, w) [* scale] + bias [relu], the filters w (O, C/G, KH, KW) read in place. Jobs are (image, group, block of NB output positions).
 * Per-thread workspace: KC*NB + TILE_SCRATCH + NB + 8 floats (B block, tile scratch, im2col row).
 */
export function convForward(tid: i32, nt: i32, d: usize, x: usize, wp: usize, scale: usize, bias: usize, y: usize, mode: i32, ws: usize, wsStride: i32): void {
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
      computeBlock(ag + <usize>(k0 * 4), <usize>(kg * 4), 4, <usize>(kg * 16), bp, og, cols, kc, yBlock, p, 1, blockMode, scale + <usize>(g * og * 4), bias + <usize>(g * og * 4), scratch);
    }
  }
}

/**
 * dw (O, C/G, KH, KW) = sum over images of dy (Og x P, read in place) . im2col(x)^T (P x Kg), per group. Jobs are
 * (group, block of NB columns of Kg); K = P is walked in KC blocks image by image, a fixed order.
 * A job sums into its own workspace and writes its columns of dw once at the end: threads never
 * write near each other's columns while they work (Kg may be small, e.g. 25 for LeNet's C1).
 * Per-thread workspace: KC*NB + Ogp*NB + TILE_SCRATCH + 8*(KC + 8) floats, Ogp = Og rounded up to 4.
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
        computeBlock(dyg + <usize>(p0 * 4), <usize>(p * 4), 4, <usize>(p * 16), bp, og, cols, kc, acc, nb, 1, ACC, 0, 0, scratch);
      }
    }
    const dwBlock = dw + <usize>((g * og * kg + j0) * 4);
    for (let row = 0; row < og; row++) {
      memory.copy(dwBlock + <usize>(row * kg * 4), acc + <usize>(row * nb * 4), <usize>(cols * 4));
    }
  }
}

/**
 * dx (N, C, H, W) = col2im(W^T (Kg x Og) . dy (Og x P)) per image and group, for any stride: the
 * product for a block of NB positions goes to the workspace (dcol, Kg x NB), then is added onto
 * the input pixels it came from. `wt` is the weight (O, C/G, KH, KW), read in place as W^T. Jobs
 * are (image, group), so each job owns its dx planes and clears them first.
 * Per-thread workspace: KC*NB + Kgp*NB + TILE_SCRATCH floats, Kgp = Kg rounded up to 4.
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
    // dx arrives uncleared (Tensor.empty): this job is the only one summing into its planes.
    memory.fill(dxg, 0, <usize>(cg * h * w * 4));
    for (let p0 = 0; p0 < p; p0 += nb) {
      const cols = min(nb, p - p0);
      for (let k0 = 0; k0 < og; k0 += KC) {
        const kc = min(KC, og - k0);
        packB(bp, dyg + <usize>((k0 * p + p0) * 4), kc, cols, p, 1);
        const mode = k0 > 0 ? ACC : 0;
        // A = W^T read in place: row = tap r (adjacent floats), k = filter (Kg floats apart).
        computeBlock(ag + <usize>(k0 * kg * 4), 4, <usize>(kg * 4), 16, bp, kg, cols, kc, dcol, nb, 1, mode, 0, 0, scratch);
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
