import {
  C_C, C_G, C_H, C_KH, C_KW, C_N, C_NB, C_O, C_OH, C_OW, C_PH, C_PW, C_SH, C_SW, C_W,
  G_A, G_ACS, G_ARS, G_B, G_BCS, G_BIAS, G_BRS, G_C, G_CCS, G_K, G_LDC, G_M, G_MB, G_MODE, G_N, G_NB,
  P_H, P_INCLUDE_PAD, P_KH, P_KW, P_OH, P_OW, P_PH, P_PLANES, P_PW, P_SH, P_SW, P_W,
} from './abi.js';
import type { ConvGeometry, WindowGeometry } from '../conv_geometry.js';

export type { ConvGeometry };

/**
 * Writers of the descriptors the kernels read their geometry from (asm/gemm.ts, conv.ts,
 * conv_direct.ts, pooling.ts): one function per kind, taking the fields by name and storing each
 * at its byte offset in abi.ts. Pass one to `WasmRuntime.describe`, which returns the block's address.
 * NOTE: the descriptors nest what callers already hold (a product's operands, a convolution's
 * geometry) rather than spreading it into a new object: in V8 11.3 (Node 20) a spread of a dozen
 * fields took about a microsecond per kernel call, 2-3% of a LeNet training step.
 */

/** Stores an i32 field at byte offset `offset` of the block. */
function put(block: Int32Array, offset: number, value: number): void {
  block[offset >> 2] = value;
}

/**
 * The operands of a general product: C (M x N) = A (M x K) . B (K x N) [+ C] [+ bias]. Addresses
 * are byte offsets in the shared memory; strides count floats, so element (i, j) of C sits at
 * c + 4*(i*ldc + j*ccs), and likewise for A and B.
 */
export interface GemmOperands {
  /** Rows of C and A. */
  m: number;
  /** Columns of C and B. */
  n: number;
  /** Depth: columns of A, rows of B. */
  k: number;
  /** Address of A. */
  a: number;
  /** A's row stride, in floats. */
  ars: number;
  /** A's column stride, in floats. */
  acs: number;
  /** Address of B. */
  b: number;
  /** B's row stride, in floats. */
  brs: number;
  /** B's column stride, in floats. */
  bcs: number;
  /** Address of C. */
  c: number;
  /** C's row stride, in floats. */
  ldc: number;
  /** C's column stride, in floats (1 for row-major, M for a transposed store). */
  ccs: number;
  /** Address of the bias, 0 for none. */
  bias: number;
}

/** A `gemm` call: its operands, how it combines them, and the size of its jobs. */
export interface GemmDescriptor {
  /** A, B, C and the bias, with their strides. */
  operands: GemmOperands;
  /** ACC, BIAS_ROW, BIAS_COL and RELU of abi.ts, or'ed. */
  mode: number;
  /** Rows of C per job. */
  mb: number;
  /** Columns of C per job. */
  nb: number;
}

/** Writes a gemm descriptor. */
export function writeGemm(block: Int32Array, d: GemmDescriptor): void {
  const p = d.operands;
  put(block, G_M, p.m);
  put(block, G_N, p.n);
  put(block, G_K, p.k);
  put(block, G_A, p.a);
  put(block, G_ARS, p.ars);
  put(block, G_ACS, p.acs);
  put(block, G_B, p.b);
  put(block, G_BRS, p.brs);
  put(block, G_BCS, p.bcs);
  put(block, G_C, p.c);
  put(block, G_LDC, p.ldc);
  put(block, G_CCS, p.ccs);
  put(block, G_BIAS, p.bias);
  put(block, G_MODE, d.mode);
  put(block, G_MB, d.mb);
  put(block, G_NB, d.nb);
}

/** A convolution kernel's call: the geometry and the size of a job. */
export interface ConvDescriptor {
  /** The convolution's sizes, strides and padding. */
  geometry: ConvGeometry;
  /** The size of a job, in the unit of the kernel that reads it (abi.ts C_NB). */
  block: number;
}

/** Writes a convolution descriptor. */
export function writeConv(block: Int32Array, d: ConvDescriptor): void {
  const g = d.geometry;
  put(block, C_N, g.n);
  put(block, C_C, g.c);
  put(block, C_H, g.h);
  put(block, C_W, g.w);
  put(block, C_O, g.o);
  put(block, C_OH, g.oh);
  put(block, C_OW, g.ow);
  put(block, C_KH, g.kh);
  put(block, C_KW, g.kw);
  put(block, C_SH, g.sh);
  put(block, C_SW, g.sw);
  put(block, C_PH, g.ph);
  put(block, C_PW, g.pw);
  put(block, C_G, g.groups);
  put(block, C_NB, d.block);
}

/** Pooling: `planes` (N*C) planes of (H, W) pooled to (OH, OW) by (KH, KW) windows. */
export interface PoolDescriptor extends WindowGeometry {
  /** N*C: each plane is pooled on its own. */
  planes: number;
  /** The average's divisor counts the padding (ignored by max pooling). */
  includePad: boolean;
}

/** Writes a pooling descriptor. */
export function writePool(block: Int32Array, d: PoolDescriptor): void {
  put(block, P_PLANES, d.planes);
  put(block, P_H, d.h);
  put(block, P_W, d.w);
  put(block, P_OH, d.oh);
  put(block, P_OW, d.ow);
  put(block, P_KH, d.kh);
  put(block, P_KW, d.kw);
  put(block, P_SH, d.sh);
  put(block, P_SW, d.sw);
  put(block, P_PH, d.ph);
  put(block, P_PW, d.pw);
  put(block, P_INCLUDE_PAD, d.includePad ? 1 : 0);
}
