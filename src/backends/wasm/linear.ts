import { ShapeError } from '../../ops/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { BIAS_COL, BIAS_ROW, KC, MR, NR, RELU, TILE_SCRATCH } from './abi.js';
import { writeGemm, type GemmOperands } from './descriptors.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Fully-connected kernels on the strided packed GEMM (`gemm` in asm/gemm.ts), matching
 * src/backends/reference/linear.ts. Variants: the three products differ only in the strides A, B
 * and C are read and written with, so no operand is ever transposed in memory; the forward pass
 * below SMALL_BATCH images computes y^T = W x^T so that the weights are read in place.
 */

/** Below this batch, y^T = W x^T: reading W in place beats packing W^T for every call. */
const SMALL_BATCH = 16;

/** A product's operands and what to add to it; `gemm` below decides the job sizes. */
interface Product extends GemmOperands {
  /** Bias per row of C (BIAS_ROW) or per column (BIAS_COL); 0 for none. */
  biasMode: number;
  /** max(0, .) last. */
  relu?: boolean;
}

/** Blocks of C per job and each thread's workspace (packed A and B blocks, the scratch tile). */
export interface GemmTiling {
  /** Rows of C per job. */
  mb: number;
  /** Columns of C per job. */
  nb: number;
  /** Bytes of workspace each thread needs: packed A and B blocks and the scratch tile. */
  workspaceBytes: number;
}

/** The tiling of an M x N product on `threads` threads: blocks of 64 x 128 at most, smaller until every thread has a few. */
export function gemmTiling(m: number, n: number, threads: number): GemmTiling {
  let mb = 64;
  let nb = 128;
  const jobs = (): number => Math.ceil(m / mb) * Math.ceil(n / nb);
  while (jobs() < 4 * threads && nb > NR) nb /= 2;
  while (jobs() < 4 * threads && mb > MR) mb /= 2;
  return { mb, nb, workspaceBytes: (mb * KC + KC * nb + TILE_SCRATCH) * 4 };
}

/** Whether `linear` computes y^T = W x^T (below SMALL_BATCH images) rather than y = x W^T. */
export function forwardTransposed(batch: number): boolean {
  return batch < SMALL_BATCH;
}

/** C (M x N, row-major) = A . B (+ bias per column). */
function gemm(rt: WasmRuntime, p: Product): void {
  const { mb, nb, workspaceBytes } = gemmTiling(p.m, p.n, rt.threads);
  const [ws, stride] = rt.workspacePerThread(workspaceBytes);
  const mode = (p.bias !== 0 ? p.biasMode : 0) | (p.relu === true ? RELU : 0);
  const d = rt.describe(writeGemm, { operands: p, mode, mb, nb });
  rt.runSized(p.m * p.n * p.k, 'gemm', d, ws, stride);
}

/** C for a product of depth `depth`: gemm writes every value unless the depth is 0 (then C is 0). */
function output(rt: WasmRuntime, shape: [number, number], depth: number): Tensor {
  return depth > 0 ? Tensor.empty(shape, 'float32', rt.allocator) : Tensor.zeros(shape, 'float32', rt.allocator);
}

function dims(x: Tensor, weight: Tensor): [number, number, number] {
  const [n, k] = x.shape as [number, number];
  const [m, kw] = weight.shape as [number, number];
  if (x.shape.length !== 2 || weight.shape.length !== 2 || k !== kw) {
    throw new ShapeError('fc', 'expects x (N, K) and weight (M, K)', [x.shape, weight.shape]);
  }
  return [n, m, k];
}

/** y (N, M) = x (N, K) weight(M, K)^T + bias (M), ReLU'd when `relu`. */
export function linear(rt: WasmRuntime, x: Tensor, weight: Tensor, bias: Tensor | null, relu = false): Tensor {
  const [n, m, k] = dims(x, weight);
  const y = output(rt, [n, m], k);
  const xp = rt.input(x);
  const wp = rt.input(weight);
  const c = rt.output(y);
  const b = bias === null ? 0 : rt.input(bias);
  if (forwardTransposed(n)) {
    // y^T (M x N) = W (M x K, in place) . x^T (K x N), stored transposed into y.
    gemm(rt, { m, n, k, a: wp, ars: k, acs: 1, b: xp, brs: 1, bcs: k, c, ldc: 1, ccs: m, bias: b, biasMode: BIAS_ROW, relu });
  } else {
    gemm(rt, { m: n, n: m, k, a: xp, ars: k, acs: 1, b: wp, brs: 1, bcs: k, c, ldc: m, ccs: 1, bias: b, biasMode: BIAS_COL, relu });
  }
  return y;
}

/** The strides of a product without bias: A (M x K) by B (K x N) into a new row-major C (M x N). */
type PlainProduct = Pick<GemmOperands, 'm' | 'n' | 'k' | 'ars' | 'acs' | 'brs' | 'bcs'>;

/** C (M x N, a new tensor) = A . B, with A read from `a` and B from `b` at the given strides. */
function product(rt: WasmRuntime, a: Tensor, b: Tensor, p: PlainProduct): Tensor {
  const c = output(rt, [p.m, p.n], p.k);
  // NOTE: fields named one by one, not spread from `p`: see the note on spreads in descriptors.ts.
  const ap = rt.input(a);
  const bp = rt.input(b);
  const cp = rt.output(c);
  gemm(rt, { m: p.m, n: p.n, k: p.k, a: ap, ars: p.ars, acs: p.acs, b: bp, brs: p.brs, bcs: p.bcs, c: cp, ldc: p.n, ccs: 1, bias: 0, biasMode: 0 });
  return c;
}

/** dx (N, K) = dy (N, M) weight (M, K). */
export function linearGradInput(rt: WasmRuntime, dy: Tensor, weight: Tensor): Tensor {
  const [n, m] = dy.shape as [number, number];
  const k = weight.shape[1] as number;
  return product(rt, dy, weight, { m: n, n: k, k: m, ars: m, acs: 1, brs: k, bcs: 1 });
}

/** dweight (M, K) = dy^T (M, N) x (N, K). */
export function linearGradWeight(rt: WasmRuntime, dy: Tensor, x: Tensor): Tensor {
  const [n, m] = dy.shape as [number, number];
  const k = x.shape[1] as number;
  return product(rt, dy, x, { m, n: k, k: n, ars: 1, acs: m, brs: k, bcs: 1 });
}
