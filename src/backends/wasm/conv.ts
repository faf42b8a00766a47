import type { Conv2dAttrs } from '../../ops/conv2d.js';
import type { Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { BIAS_ROW, KC, MR, NR, RELU, SCALE_ROW, TILE_SCRATCH } from './abi.js';
import { affineGeometry, convGeometry, type ConvGeometry } from '../conv_geometry.js';
import { writeConv } from './descriptors.js';
import { addResidualInPlace, scaleShiftInPlace } from './elementwise.js';
import { linear, linearGradInput, linearGradWeight } from './linear.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Convolution on the wasm kernels (asm/conv.ts, asm/conv_direct.ts), matching
 * src/backends/reference/conv2d.ts.
 * Variants:
 * - conv2d: GEMM of the filters (read in place, never packed) by im2col written straight into the
 *   packed B panels (`convForward`), bias and optionally ReLU fused into the micro-kernel's epilogue;
 *   for stride 1 and K <= DIRECT_MAX_K, no im2col: B read in place from padded input rows
 *   (`convForwardDirect`).
 * - conv2dAffine (a conv and the BN after it, in inference): conv2d's kernels with a scale per
 *   filter multiplied in before the shift is added as the bias, in the same epilogue.
 * - conv2dGradInput, stride 1 and an output as large as the input ("same" padding): the transposed
 *   convolution is the convolution of dy with the flipped, channel-swapped filters and padding
 *   K-1-P, so it runs on `convForward` with no scatter.
 * - conv2dGradInput otherwise (strides, shrinking convolutions such as LeNet's): packed GEMM
 *   W^T (Kg x Og, read in place) . dy (Og x P) then col2im (`convGradInput`); there the flipped form would
 *   multiply mostly padding zeros (25x the work for LeNet's C5).
 * - conv2dGradWeight: GEMM of dy (Og x P, read in place) by im2col(x)^T packed with 4x4
 *   transposes (`convGradWeight`); for stride 1 and K <= KC, dw^T = X . dy^T with the padded input
 *   rows read in place and only dy^T packed (`convGradWeightDirect`).
 * - A window that covers the whole unpadded input (LeNet's C5: 5x5 on 5x5) is a fully-connected
 *   layer: all three run as the linear kernels (linear.ts) on (N, C*H*W) views, conv2dAffine then
 *   scaled and shifted in place. The im2col path would pack one column per image and run every
 *   tile through the partial-tile path.
 */

/** The convolution of x (N, C, H, W) by weights (O, C/groups, KH, KW), checked. */
export const geometry = convGeometry;

/** True when the window covers the whole unpadded input: one output position, im2col(x[n]) = x[n]. */
export function fullyConnected(g: ConvGeometry): boolean {
  return g.groups === 1 && g.kh === g.h && g.kw === g.w && g.ph === 0 && g.pw === 0 && g.oh === 1 && g.ow === 1;
}

/** `t` (N, ...) seen as (N, rest), sharing its storage (the view owns nothing). */
function flat(t: Tensor): Tensor {
  const n = t.shape[0] ?? 0;
  return Tensor.wrap([n, n === 0 ? 0 : t.size / n], t.data);
}

/** Multiply-adds of the convolution (or of either of its gradients). */
function macs(g: ConvGeometry): number {
  return g.n * g.o * g.oh * g.ow * (g.c / g.groups) * g.kh * g.kw;
}

/** The conv descriptor of `g`, with jobs of `block` (output positions, rows, columns or taps, by kernel). */
function describe(rt: WasmRuntime, g: ConvGeometry, block: number): number {
  return rt.describe(writeConv, { geometry: g, block });
}

/** Output positions per job: 128 keeps a KC x NB B block in L2; smaller when jobs would be too few to share. */
function positionsPerJob(jobsPerBlock: number, positions: number, threads: number): number {
  let nb = 128;
  while (nb > 16 && jobsPerBlock * Math.ceil(positions / nb) < 4 * threads) nb /= 2;
  return nb;
}

/**
 * Largest K (C/groups * KH * KW) for `convForwardDirect`: a block's B values (K x 8 floats, read
 * from the padded input rows) must stay in L1 while the filters stream past; above it the packed
 * KC-deep panels win.
 */
const DIRECT_MAX_K = 1024;

/** How a convolution's forward is split into jobs: the kernel, its block size, each thread's workspace. */
export interface ForwardTiling {
  /** The kernel that runs: in-place rows (`convForwardDirect`) or packed im2col (`convForward`). */
  kernel: 'convForwardDirect' | 'convForward';
  /** Output rows per job (direct) or output positions per job (packed). */
  block: number;
  /** Bytes of workspace each thread needs. */
  workspaceBytes: number;
}

/** The tiling `runConv` uses for `g` on `threads` threads (workspace.ts sizes the estimate by it). */
export function forwardTiling(g: ConvGeometry, threads: number): ForwardTiling {
  const cg = g.c / g.groups;
  const kg = cg * g.kh * g.kw;
  if (g.sh === 1 && g.sw === 1 && kg <= DIRECT_MAX_K) {
    // Output rows per job: about 128 positions, fewer until every thread has a few jobs.
    const owr = Math.ceil(g.ow / NR) * NR;
    let band = Math.max(1, Math.floor(128 / owr));
    while (band > 1 && g.n * g.groups * Math.ceil(g.oh / band) < 4 * threads) band = Math.ceil(band / 2);
    const wpad = owr + g.kw - 1;
    // Padded input rows, the tap table, the scratch tile.
    return { kernel: 'convForwardDirect', block: band, workspaceBytes: (cg * (band + g.kh - 1) * wpad + kg + TILE_SCRATCH) * 4 };
  }
  const nb = positionsPerJob(g.n * g.groups, g.oh * g.ow, threads);
  // B block, tile scratch, one im2col row (+ NR floats: the last panel's zeros).
  return { kernel: 'convForward', block: nb, workspaceBytes: (KC * nb + TILE_SCRATCH + nb + NR) * 4 };
}

/**
 * What a conv's write-out applies per filter, in this order: a scale (0: none), a bias (0: none),
 * ReLU. Addresses in the runtime's memory.
 */
interface Epilogue {
  scale: number;
  bias: number;
  relu: boolean;
}

/** The conv alone: no scale, bias or ReLU. */
const PLAIN: Epilogue = { scale: 0, bias: 0, relu: false };

/** y = conv(x, weight), then the epilogue; all pointers into the runtime's memory. */
function runConv(rt: WasmRuntime, g: ConvGeometry, x: number, weight: number, y: number, { scale, bias, relu }: Epilogue): void {
  const mode = (scale !== 0 ? SCALE_ROW : 0) | (bias !== 0 ? BIAS_ROW : 0) | (relu ? RELU : 0);
  const tiling = forwardTiling(g, rt.threads);
  const [ws, stride] = rt.workspacePerThread(tiling.workspaceBytes);
  rt.runSized(macs(g), tiling.kernel, describe(rt, g, tiling.block), x, weight, scale, bias, y, mode, ws, stride);
}

/** An empty y (N, O, OH, OW) for the forward kernels: they write every output once K (C/groups * KH * KW) is not empty. */
function forwardOutput(rt: WasmRuntime, g: ConvGeometry): Tensor {
  const shape = [g.n, g.o, g.oh, g.ow];
  return g.c * g.kh * g.kw > 0 ? Tensor.empty(shape, 'float32', rt.allocator) : Tensor.zeros(shape, 'float32', rt.allocator);
}

/** y (N, O, OH, OW) = x (N, C, H, W) conv weight (O, C/groups, KH, KW) + bias (O), ReLU'd when `relu`. */
export function conv2d(rt: WasmRuntime, x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs, relu = false): Tensor {
  const g = geometry(x.shape, weight.shape, attrs);
  if (fullyConnected(g)) return linear(rt, flat(x), flat(weight), bias, relu).reshape([g.n, g.o, 1, 1]);
  const y = forwardOutput(rt, g);
  runConv(rt, g, rt.input(x), rt.input(weight), rt.output(y), { scale: 0, bias: bias === null ? 0 : rt.input(bias), relu });
  return y;
}

/** y = (x conv weight) * scale[o] + shift[o] (+ residual), ReLU'd when `relu`: a conv and the BN after it (and a block's shortcut), in inference. */
export function conv2dAffine(
  rt: WasmRuntime,
  x: Tensor,
  weight: Tensor,
  scale: Tensor,
  shift: Tensor,
  attrs: Conv2dAttrs,
  relu: boolean,
  residual: Tensor | null,
): Tensor {
  const g = affineGeometry(x, weight, scale, shift, attrs, residual);
  // The shortcut goes in after the scale and shift and before the ReLU.
  const epilogueRelu = relu && residual === null;
  let y: Tensor;
  if (fullyConnected(g)) {
    y = linear(rt, flat(x), flat(weight), null).reshape([g.n, g.o, 1, 1]);
    scaleShiftInPlace(rt, y, scale, shift, epilogueRelu);
  } else {
    y = forwardOutput(rt, g);
    runConv(rt, g, rt.input(x), rt.input(weight), rt.output(y), { scale: rt.input(scale), bias: rt.input(shift), relu: epilogueRelu });
  }
  if (residual !== null) addResidualInPlace(rt, y, residual, relu);
  return y;
}

/** dx (N, C, H, W) from dy (N, O, OH, OW) and weight (O, C/groups, KH, KW). */
export function conv2dGradInput(rt: WasmRuntime, dy: Tensor, weight: Tensor, xShape: Shape, attrs: Conv2dAttrs): Tensor {
  const g = geometry(xShape, weight.shape, attrs);
  if (fullyConnected(g)) return linearGradInput(rt, flat(dy), flat(weight)).reshape(xShape);
  return gradInputByFlip(g) ? gradInputFlipped(rt, g, dy, weight, xShape) : gradInputCol2im(rt, g, dy, weight, xShape);
}

/** Whether conv2dGradInput runs as the flipped convolution: its work over the direct product's is (H*W)/(OH*OW), so only when equal. */
export function gradInputByFlip(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1 && g.ph < g.kh && g.pw < g.kw && g.h * g.w <= g.oh * g.ow;
}

/** The convolution whose output is dx: dy (N, O, OH, OW) by the flipped, channel-swapped filters, padding K-1-P. */
export function flippedGeometry(g: ConvGeometry): ConvGeometry {
  return {
    n: g.n,
    c: g.o,
    h: g.oh,
    w: g.ow,
    o: g.c,
    oh: g.h,
    ow: g.w,
    kh: g.kh,
    kw: g.kw,
    sh: 1,
    sw: 1,
    ph: g.kh - 1 - g.ph,
    pw: g.kw - 1 - g.pw,
    groups: g.groups,
  };
}

/** The convolution of dy with weight'[c][o] = weight[o][c] flipped in both axes, padding K-1-P. */
function gradInputFlipped(rt: WasmRuntime, g: ConvGeometry, dy: Tensor, weight: Tensor, xShape: Shape): Tensor {
  const [kh, kw] = [g.kh, g.kw];
  const cg = g.c / g.groups;
  const og = g.o / g.groups;
  // weight (G*Og, Cg, KH, KW) -> flipped (G*Cg, Og, KH, KW)
  const flippedPtr = rt.scratch(weight.size * 4);
  const flipped = rt.f32(flippedPtr, weight.size);
  const wd = weight.data;
  const taps = kh * kw;
  for (let group = 0; group < g.groups; group++) {
    for (let o = 0; o < og; o++) {
      for (let c = 0; c < cg; c++) {
        const src = ((group * og + o) * cg + c) * taps;
        const dst = ((group * cg + c) * og + o) * taps;
        for (let t = 0; t < taps; t++) flipped[dst + taps - 1 - t] = wd[src + t] as number;
      }
    }
  }
  // convForward writes every dx value once the flipped convolution's K (O/groups * KH * KW) is not empty.
  const dx = g.o * kh * kw > 0 ? Tensor.empty(xShape, 'float32', rt.allocator) : Tensor.zeros(xShape, 'float32', rt.allocator);
  runConv(rt, flippedGeometry(g), rt.input(dy), flippedPtr, rt.output(dx), PLAIN);
  return dx;
}

/** Output positions per job of `convGradInput`. */
const COL2IM_BLOCK = 64;

/** Each thread's workspace for `convGradInput`: a B block, the dcol block, the scratch tile. */
export function col2imWorkspaceBytes(g: ConvGeometry): number {
  const kgPad = Math.ceil(((g.c / g.groups) * g.kh * g.kw) / MR) * MR;
  return (KC * COL2IM_BLOCK + kgPad * COL2IM_BLOCK + TILE_SCRATCH) * 4;
}

/** dcol = W^T . dy per image and group, scattered back onto dx (col2im). */
function gradInputCol2im(rt: WasmRuntime, g: ConvGeometry, dy: Tensor, weight: Tensor, xShape: Shape): Tensor {
  const [ws, stride] = rt.workspacePerThread(col2imWorkspaceBytes(g));
  // The kernel clears each (image, group) block of dx on the thread that sums into it.
  const dx = Tensor.empty(xShape, 'float32', rt.allocator);
  rt.runSized(macs(g), 'convGradInput', describe(rt, g, COL2IM_BLOCK), rt.input(dy), rt.input(weight), rt.output(dx), ws, stride);
  return dx;
}

/** dweight (O, C/groups, KH, KW) = sum over images of dy[n] (O, P) . im2col(x[n])^T (P, K). */
export function conv2dGradWeight(rt: WasmRuntime, dy: Tensor, x: Tensor, attrs: Conv2dAttrs): Tensor {
  const weightShape = [dy.shape[1] ?? 0, (x.shape[1] ?? 0) / attrs.groups, attrs.kernel[0], attrs.kernel[1]];
  const g = geometry(x.shape, weightShape, attrs);
  if (fullyConnected(g)) return linearGradWeight(rt, flat(dy), flat(x)).reshape(weightShape);
  // Each job writes its columns of dw once, whole.
  const dw = Tensor.empty(weightShape, 'float32', rt.allocator);
  const tiling = gradWeightTiling(g, rt.threads);
  const [ws, stride] = rt.workspacePerThread(tiling.workspaceBytes);
  if (tiling.band > 0) {
    rt.runSized(macs(g), 'convGradWeightDirect', describe(rt, g, tiling.block), rt.input(x), rt.input(dy), rt.output(dw), ws, stride, tiling.band);
  } else {
    rt.runSized(macs(g), 'convGradWeight', describe(rt, g, tiling.block), rt.input(x), rt.input(dy), rt.output(dw), ws, stride);
  }
  return dw;
}

/** How conv2dGradWeight is split into jobs: output rows per step (0 for the packed kernel), taps or columns per job, each thread's workspace. */
export interface GradWeightTiling {
  /** Output rows per step of `convGradWeightDirect`; 0 selects the packed `convGradWeight`. */
  band: number;
  /** Filter taps (direct) or output columns (packed) per job. */
  block: number;
  /** Bytes of workspace each thread needs. */
  workspaceBytes: number;
}

/** The tiling `conv2dGradWeight` uses for `g` on `threads` threads. */
export function gradWeightTiling(g: ConvGeometry, threads: number): GradWeightTiling {
  const og = g.o / g.groups;
  const cg = g.c / g.groups;
  const kg = cg * g.kh * g.kw;
  // NOTE: for K above KC (W5's 32- and 64-channel 3x3 layers) the direct form measured no faster
  // than packing im2col^T, and slower at Og = 64: packing is then a small share of the work.
  if (g.sh === 1 && g.sw === 1 && kg <= KC) {
    // Output rows per step: a B panel about KC deep. Jobs: panels of 8 filters times blocks of
    // taps, about two per thread (how the taps are split never changes a value's arithmetic).
    const wpad = g.ow + g.kw - 1;
    const band = Math.max(1, Math.min(g.oh, Math.floor(KC / wpad)));
    const panels = g.groups * Math.ceil(og / NR);
    const tapBlocks = Math.max(1, Math.min(Math.ceil(kg / MR), Math.ceil((2 * threads) / panels)));
    const taps = Math.ceil(Math.ceil(kg / tapBlocks) / MR) * MR;
    // Padded input rows, the dy^T panel, the accumulator tile (taps rounded up to MR, 8 filters
    // wide), one vector pair of zeros.
    return { band, block: taps, workspaceBytes: (cg * (band + g.kh - 1) * wpad + NR * band * wpad + NR * (taps + MR) + NR) * 4 };
  }
  // Columns of dweight per job: enough jobs for every thread, at most 128 (a KC x 128 B block).
  const nb = Math.min(128, Math.max(NR, Math.ceil(kg / (2 * threads) / NR) * NR));
  const ogPad = Math.ceil(og / MR) * MR;
  // + NR rows of KC + 8 floats: the im2col rows packTapsByPosition transposes.
  return { band: 0, block: nb, workspaceBytes: (KC * nb + ogPad * nb + TILE_SCRATCH + NR * (KC + 8)) * 4 };
}
