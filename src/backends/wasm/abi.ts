/**
 * The ABI between the WebAssembly kernels (asm/) and their TypeScript glue (this directory): the
 * kernels' mode flags, their tile sizes, where the shared job counter lives and the byte offset of
 * every field of the descriptors the glue writes and the kernels read. The one copy of each
 * number: asm/ imports this file too.
 *
 * NOTE: AssemblyScript compiles this file as well as TypeScript, so it holds only what the two
 * languages read alike: `export const NAME = integer expression`, no type annotations (an untyped
 * integer constant is an i32 in AssemblyScript, a number here) and no other imports.
 *
 * A descriptor is a block of i32 fields in the shared memory (src/backends/wasm/descriptors.ts
 * writes them); each field's constant is its byte offset, as `load<i32>(d, G_M)` reads it.
 */

/** Byte address of the i32 job counter the kernels take jobs from; the glue zeroes it before each call. */
export const JOB_COUNTER = 32;

// Micro-kernel modes (gemm, convForward, convForwardDirect), combined as bit flags.
/** Add the product to what C holds. */
export const ACC = 1;
/** Add bias[row] (one bias per row of C: a filter, or an output of linear computed as y^T). */
export const BIAS_ROW = 2;
/** Add bias[column]. */
export const BIAS_COL = 4;
/** Clamp at 0 last (NaN and -0 kept, as the reference ReLU keeps them). */
export const RELU = 8;
/** Multiply by scale[row] before the bias is added (a BN folded into the conv); never with BIAS_COL. */
export const SCALE_ROW = 16;

// Register tile: MR rows of A (broadcast) times NR = 8 columns of B (two vectors). With 8
// accumulators plus 2 B vectors and 1 broadcast it fits V8's 15 usable xmm registers; taller or
// wider tiles spill (see shared/notes/wasm-kernels.md).
/** Rows of the register tile. */
export const MR = 4;
/** Columns of the register tile, and of a packed B panel. */
export const NR = 8;
/** Depth of one packed block: a B panel (KC x 8 floats, 8 KB) stays in L1 while A panels stream. */
export const KC = 256;
/**
 * Floats of a thread's scratch tile (MR x NR) and its epilogue values (NR: a bias per column, or MR
 * biases and MR scales per row): partial tiles are computed there.
 */
export const TILE_SCRATCH = MR * NR + NR;

// gemm: C (M x N, element (i, j) at C + 4*(i*LDC + j*CCS)) = A (M x K) . B (K x N) [+ C] [+ bias]
// [relu], element (i, k) of A at A + 4*(i*ARS + k*ACS), element (k, j) of B at B + 4*(k*BRS + j*BCS);
// jobs are MB x NB blocks of C.
/** gemm: rows of C. */
export const G_M = 0;
/** gemm: columns of C. */
export const G_N = 4;
/** gemm: depth of the product. */
export const G_K = 8;
/** gemm: address of A. */
export const G_A = 12;
/** gemm: A's row stride, in floats. */
export const G_ARS = 16;
/** gemm: A's column stride, in floats. */
export const G_ACS = 20;
/** gemm: address of B. */
export const G_B = 24;
/** gemm: B's row stride, in floats. */
export const G_BRS = 28;
/** gemm: B's column stride, in floats. */
export const G_BCS = 32;
/** gemm: address of C. */
export const G_C = 36;
/** gemm: C's row stride, in floats. */
export const G_LDC = 40;
/** gemm: address of the bias (0: none). */
export const G_BIAS = 44;
/** gemm: mode flags (ACC, BIAS_ROW, BIAS_COL, RELU; not SCALE_ROW). */
export const G_MODE = 48;
/** gemm: rows of C per job. */
export const G_MB = 52;
/** gemm: columns of C per job. */
export const G_NB = 56;
/** gemm: C's column stride, in floats. */
export const G_CCS = 60;

// Convolution geometry (convForward, convForwardDirect, convGradWeight, convGradWeightDirect,
// convGradInput): x (N, C, H, W), weight (O, C/G, KH, KW), y (N, O, OH, OW).
/** conv: images. */
export const C_N = 0;
/** conv: input channels. */
export const C_C = 4;
/** conv: input height. */
export const C_H = 8;
/** conv: input width. */
export const C_W = 12;
/** conv: output channels (filters). */
export const C_O = 16;
/** conv: output height. */
export const C_OH = 20;
/** conv: output width. */
export const C_OW = 24;
/** conv: kernel height. */
export const C_KH = 28;
/** conv: kernel width. */
export const C_KW = 32;
/** conv: vertical stride. */
export const C_SH = 36;
/** conv: horizontal stride. */
export const C_SW = 40;
/** conv: padding above and below. */
export const C_PH = 44;
/** conv: padding left and right. */
export const C_PW = 48;
/** conv: groups. */
export const C_G = 52;
/**
 * conv: the size of a job, in each kernel's unit: output positions (convForward), output rows
 * (convForwardDirect), columns of dw (convGradWeight), taps (convGradWeightDirect), positions per
 * step (convGradInput).
 */
export const C_NB = 56;

// Pooling geometry (maxPool, avgPool, avgPoolGrad): N*C planes of (H, W) pooled to (OH, OW).
/** pool: planes (N*C). */
export const P_PLANES = 0;
/** pool: input height. */
export const P_H = 4;
/** pool: input width. */
export const P_W = 8;
/** pool: output height. */
export const P_OH = 12;
/** pool: output width. */
export const P_OW = 16;
/** pool: window height. */
export const P_KH = 20;
/** pool: window width. */
export const P_KW = 24;
/** pool: vertical stride. */
export const P_SH = 28;
/** pool: horizontal stride. */
export const P_SW = 32;
/** pool: padding above and below. */
export const P_PH = 36;
/** pool: padding left and right. */
export const P_PW = 40;
/** pool: nonzero when the average's divisor counts the padding (avgPool, avgPoolGrad). */
export const P_INCLUDE_PAD = 44;

// sgdUpdate modes, combined as bit flags.
/** A momentum buffer is read and written. */
export const SGD_MOMENTUM = 1;
/** First step: the buffer is set to the gradient. */
export const SGD_FIRST = 2;
/** Nesterov: w -= lr (d + momentum buf), else w -= lr buf. */
export const SGD_NESTEROV = 4;
