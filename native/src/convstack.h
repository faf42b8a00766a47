/*
 * convstack's native kernels: shared declarations. Every kernel takes float32 tensors in NCHW
 * layout through plain pointers (the JavaScript side hands over the memory of its Float32Arrays),
 * a context holding the thread count and a workspace grown on demand, and writes whole outputs.
 * Results never depend on which thread computed what: each output value is summed in one fixed
 * order (split-K weight gradients aside, whose order depends on the thread count only).
 */
#ifndef CONVSTACK_H
#define CONVSTACK_H

#include <stddef.h>
#include <stdint.h>

/* Reduction depth of one packed block: a KC x NR panel of B stays in L1 while A streams past. */
#define KC 256
/* Columns of B packed per block: a KC x NC block of B stays in L2. */
#define NC 384
/* The largest register tile any micro-kernel uses (rows x columns), for edge tiles on the stack. */
#define MAX_MR 8
#define MAX_NR 32
#define ALIGN 64

/*
 * A register-tile micro-kernel: c (MR x NR, row stride ldc) = a . b over kc steps, plus c's old
 * values when `accumulate`. a is an MR-row panel packed k-major (a[k * MR + r]), b an NR-column panel
 * packed k-major (b[k * NR + j]).
 */
typedef void (*microkernel_fn)(long kc, const float *a, const float *b, float *c, long ldc, int accumulate);
/*
 * The same with B read in place: row k of the NR-column panel starts at b + offsets[k] (a direct
 * convolution's padded input, one row per filter tap).
 */
typedef void (*microkernel_indirect_fn)(long kc, const float *a, const float *b, const long *offsets, float *c, long ldc, int accumulate);


/* One micro-kernel and its tile: the AVX-512, AVX2+FMA or portable one, picked at load time. */
/*
 * A tile of dot products along a reduction read in place from both operands:
 * out[i * cols + j] = sum over q < len of rows[i][q] * (x + offsets[j])[q], len a multiple of `lanes`.
 */
typedef void (*dot_tile_fn)(long len, const float *const *rows, const float *x, const long *offsets, float *out);
/*
 * Reduction steps a channel tile's weights are packed and summed in at a time. While the tiles sum
 * one chunk, they ask for the next chunk's weights (tile_prefetch_t), so that at batch 1, where every
 * weight comes from memory once a pass, the reading overlaps the sums: packing all of a job's
 * weights before any sum left the cores waiting on memory (2 of ResNet-18's 11 ms).
 */
#define CHANNEL_CHUNK 256
/* Cache lines of one filter row's chunk, as a power of two. */
#define CHUNK_LINES_LOG2 4
/*
 * Lines a channel tile asks for while it sums, one every `spacing` steps: rows of 2^row_lines_log2
 * lines, row_bytes apart. Line i of [0, lines) is base + (i >> row_lines_log2) * row_bytes +
 * (i % 2^row_lines_log2) * 64: the next chunk of the tile's share of the filters, or in the last
 * chunk the tile's own rows of y, which at batch 1 are not in cache (ResNet's stem writes 3.2 MB).
 */
typedef struct {
  const char *base;
  long row_bytes, lines, spacing;
  int row_lines_log2;
} tile_prefetch_t;

/* At step j of a channel tile's sums, asks for the prefetch's next line when one falls due. */
static inline void tile_prefetch_step(const tile_prefetch_t *p, long j, long *next_line) {
  if (j != *next_line * p->spacing || *next_line >= p->lines) return;
  const long i = (*next_line)++;
  __builtin_prefetch(p->base + (i >> p->row_lines_log2) * p->row_bytes + (i & ((1L << p->row_lines_log2) - 1)) * 64, 0, 3);
}
/*
 * A channel tile (conv_channels.c): filters along the vectors, positions broadcast. For `rows` rows (1, or 2 where
 * 2 x cols fit) of `cols` positions, out[(r * cols + c) * channels + o] = sum over j < k of
 * x[offsets[j] + r * row_stride + c] * w[j * channels + o], added to what out holds where `accumulate`
 * (the sums of the reduction's earlier chunks, continued in the same order); rows x cols is at most
 * the kernel's channel_positions.
 */
typedef void (*channel_tile_fn)(int rows, int cols, long k, const float *w, const float *x, long row_stride, const long *offsets, int accumulate,
                                const tile_prefetch_t *prefetch, float *out);
/*
 * The channel tile's weights, one chunk of the reduction: packed[j * channels + o] = w[o * row_stride + j]
 * for j < k and o < filters, zeros for the filters past them.
 */
typedef void (*channel_pack_fn)(const float *w, long row_stride, long k, long filters, float *packed);
/*
 * Where a channel tile's sums go: filter o's positions to y + o * plane (its second row row_stride
 * on), times scale[o] (or 1), plus bias[o] (or 0), plus residual's value at the same place (or 0),
 * ReLU'd when `relu`. scale, bias and residual are at the tile's first filter (residual: position).
 */
typedef struct {
  float *y;
  long plane, row_stride;
  const float *scale, *bias, *residual;
  int relu;
} channel_out_t;
/* Writes filters [0, filters) of a tile (rows x cols positions, channels per position, as channel_tile wrote it) to `out`. */
typedef void (*channel_store_fn)(const float *tile, int rows, int cols, long filters, const channel_out_t *out);

/*
 * Max pooling's values for one output row of 3 x 3 windows at stride 2 (ResNet's), all `ow` of them:
 * x is the first image row the windows read, at column -pw (window ox starts at column 2 * ox - pw),
 * `rows` image rows of `w` values from there (the windows' rows clipped to the image). Columns
 * outside the image are skipped, as the reference clips its windows. The first maximum of each
 * window, its taps in the reference's order, NaN winning.
 */
typedef void (*max_row_fn)(int rows, const float *x, long w, long pw, long ow, float *y);

typedef struct {
  const char *name;
  int mr;
  int nr;
  microkernel_fn run;
  microkernel_indirect_fn run_indirect;
  /* The dot-product tile (weight gradients): rows x cols sums, vectors of `lanes`. */
  int dot_rows, dot_cols, lanes;
  dot_tile_fn dot;
  /* The channel tile: filters per tile (a multiple of the vector width) and positions per tile at most. */
  int channels, channel_positions;
  channel_tile_fn channel_tile;
  /* Packs the channel tile's weights, and writes a tile out transposed; NULL where the portable loops in conv_channels.c serve. */
  channel_pack_fn channel_pack;
  channel_store_fn channel_store;
  /* Max pooling's rows of 3 x 3 windows at stride 2, values only (pool.c); NULL where pool.c's loops serve. */
  max_row_fn max_row;
} microkernel_t;

extern const microkernel_t microkernel_avx512;
extern const microkernel_t microkernel_avx2;
extern const microkernel_t microkernel_scalar;

/* The micro-kernel this CPU runs (cpu.c); NULL until cpu_pick_kernel. */
extern const microkernel_t *kernel;
/* Picks the fastest micro-kernel this CPU supports; `forced` ("avx2", "scalar") overrides it. */
const microkernel_t *cpu_pick_kernel(const char *forced);
/* The CPU features this build checks for, as text ("avx512f avx2 fma"). */
const char *cpu_features(void);
/* fp32 multiply-add peak in GFLOP/s on `threads` threads, from a register-only FMA loop. */
double cpu_fma_peak(int threads);

/*
 * A loop function compiled three times (AVX-512, AVX2, baseline x86-64) and picked by the dynamic
 * loader for this CPU: the memory-bound kernels' loops vectorise to the widest registers there are.
 * NOTE: -std=c11 keeps -ffp-contract=off, so no clone fuses a multiply and an add: every clone
 * gives the same bits. Elsewhere (clang, macOS, other CPUs) the loop is compiled once.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* Threads and workspace of one backend instance. */
typedef struct {
  const microkernel_t *kernel;
  int threads;
  /* Work (multiply-adds or values) below which a kernel runs on the calling thread alone. */
  double serial_below;
  float *workspace;
  size_t workspace_bytes;
} context_t;

/* A workspace of at least `bytes` bytes, 64-byte aligned, kept and grown across calls; NULL if out of memory. */
float *workspace_reserve(context_t *ctx, size_t bytes);
void workspace_release(context_t *ctx);
/* `bytes` rounded up to a whole number of cache lines. */
size_t round_up(size_t bytes);
/* A 64-byte-aligned block for free(); large ones on huge pages where the system offers them. */
void *aligned_block(size_t bytes);
/* Threads a kernel of `work` multiply-adds runs on. */
int threads_for(const context_t *ctx, double work);
/* Threads a memory-bound kernel over `values` values runs on (a higher bar: waking a thread costs more than it saves). */
int threads_for_values(const context_t *ctx, double values);

/*
 * Runs job(arg, tid, job_index, workspace) for every job index in [0, jobs), spread over up to
 * `threads` threads of the pool (threads.c), each thread with its own workspace slice; returns when
 * every job has run. Jobs are claimed one at a time, so which thread runs a job varies: a job's
 * result must not depend on it.
 */
typedef void (*job_fn)(void *arg, int tid, long job, float *ws);
void parallel_jobs(int threads, long jobs, job_fn job, void *arg, float *ws, size_t ws_stride);

/* Where a packed B block comes from: a strided matrix, the im2col of an image, or its transpose. */
typedef struct bsource bsource_t;
struct bsource {
  /* Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) into NR-column panels at dst, zero-padded to whole panels. */
  void (*pack)(const bsource_t *s, long k0, long kc, long j0, long nc, float *dst, float *row);
  const float *data;
  long rs, cs;
  const struct conv_geometry *g;
};

/* A GEMM C (M x N, row stride ldc) = A . B with A packed whole, plus the epilogue. */
typedef struct {
  long m, n, k;
  const float *apacked;
  bsource_t b;
  float *c;
  long ldc;
  const float *scale_row; /* one factor per row of C, applied before the biases, or NULL */
  const float *bias_row; /* one value per row of C, or NULL */
  const float *bias_col; /* one value per column of C, or NULL */
  const float *residual; /* added value by value (laid out as C), or NULL */
  int relu;
} gemm_t;

/* The depth of each packed block for a reduction of k: at most KC, the blocks as even as can be. */
long kc_step(long k);
/* Floats of A packed whole (rows rounded up to MR, all of K). */
size_t packed_a_floats(long m, long k);
/* Packs A (a(i, k) = src[i * rs + k * cs]) into KC blocks of MR-row panels. */
void pack_a(const float *src, long rs, long cs, long m, long k, float *dst);
/*
 * pack_a cut into tasks of PACK_PANELS MR-row panels (all of K each), for threads to share: a
 * batch-1 conv's weights are often larger than its input (ResNet's 512 x 4608 at 7 x 7), and
 * packing them on one thread held the other idle. Copies only: the bits do not depend on the split.
 */
#define PACK_PANELS 4
long pack_a_tasks(long m);
void pack_a_task(const float *src, long rs, long cs, long m, long k, long task, float *dst);
/* Packs rows [m0, m0 + mc) and reduction [k0, k0 + kc) of a strided A into MR-row panels. */
void pack_a_block(const float *src, long rs, long cs, long m0, long mc, long k0, long kc, float *dst);
/* Floats of one thread's B block and edge tile. */
size_t gemm_thread_floats(void);
/* C rows [m0, m1) (m0 a multiple of MR) x columns [j0, j1), over all of K. */
void gemm_block(const gemm_t *g, long m0, long m1, long j0, long j1, float *ws);
/* One tile of C (rows x cols valid) from panels a and b, accumulating when `accumulate`. */
void gemm_tile(long kc, const float *a, const float *b, float *c, long ldc, long rows, long cols, int accumulate);
/* dst[i] = src[i] * scale + bias (+ residual[i] where not NULL), ReLU'd when `relu`: a conv's write-out of one run of positions. */
void epilogue_run(const float *restrict src, long count, float scale, float bias, const float *restrict residual, int relu, float *restrict dst);
/* The epilogue on C rows [m0, m1) x columns [j0, j1): bias and ReLU. */
void gemm_epilogue(const gemm_t *g, long m0, long m1, long j0, long j1);
/* Strided B: b(k, j) = data[k * rs + j * cs]. */
void pack_b_strided(const bsource_t *s, long k0, long kc, long j0, long nc, float *dst, float *row);

/* How products are cut into jobs: column chunks, then row chunks when columns alone are too few. */
typedef struct {
  long col_chunk, col_jobs, row_chunk, row_jobs;
} grid_t;
/* The jobs of `problems` products of m x n each, for `threads` threads (about two jobs per thread). */
grid_t job_grid(long m, long n, long problems, int threads);

/* The whole product on ctx's threads; returns workspace bytes used, or -1 if out of memory. */
long gemm_run(context_t *ctx, long m, long n, long k, const float *a, long ars, long acs, bsource_t b, float *c, long ldc,
              const float *bias_row, const float *bias_col, int relu);
size_t gemm_workspace(long m, long n, long k, int threads);

/* y (N, M) = x (N, K) . W^T + bias, ReLU'd when `relu`; dx (N, K) = dy W; dW (M, K) = dy^T x. Return workspace bytes or -1. */
/* Bytes of linear_forward's workspace (none on its dot-product path). */
size_t linear_forward_workspace(long n, long k, long m, int threads);
long linear_forward(context_t *ctx, const float *x, const float *w, const float *bias, float *y, long n, long k, long m, int relu);
long linear_grad_input(context_t *ctx, const float *dy, const float *w, float *dx, long n, long k, long m);
long linear_grad_weight(context_t *ctx, const float *dy, const float *x, float *dw, long n, long k, long m);

/* A convolution's sizes, as the JavaScript side checked them. */
typedef struct conv_geometry {
  long n, c, h, w, o, oh, ow, kh, kw, sh, sw, ph, pw, groups;
} conv_geometry_t;

/*
 * What a convolution's write-out applies to each sum, in this order: times scale[o] (or 1), plus
 * bias[o] (or 0), plus the residual's value at the same place in y (or 0: a ResNet block's
 * shortcut, added by the conv that ends the block), then the ReLU when `relu`.
 */
typedef struct {
  const float *scale, *bias, *residual;
  int relu;
} conv_epilogue_t;

/* y = conv(x, w), then the epilogue. */
long conv_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y);
long conv_grad_input(context_t *ctx, const conv_geometry_t *g, const float *dy, const float *w, float *dx);
/* conv_grad_weight_direct.c: stride 1, both operands read in place along the reduction. */
size_t conv_grad_weight_direct_workspace(const conv_geometry_t *g, int threads);
void conv_grad_weight_direct(context_t *ctx, const conv_geometry_t *g, const float *x, const float *dy, float *dw, float *ws);
long conv_grad_weight(context_t *ctx, const conv_geometry_t *g, const float *x, const float *dy, float *dw);
size_t conv_forward_workspace(const conv_geometry_t *g, int threads);
size_t conv_grad_input_workspace(const conv_geometry_t *g, int threads);
size_t conv_grad_weight_workspace(const conv_geometry_t *g, int threads);
/* Adds one row of im2col's gradient into input channel plane dxc (the transpose of im2col_row). */
void col2im_row(const conv_geometry_t *g, float *dxc, long ky, long kx, long p0, long len, const float *in);
/*
 * The zero-padded copy of an image both direct convolutions read (conv_direct.c): each channel a
 * plane of phases (hq x wq each; one unless strided), so that tap (c, ky, kx) of the output at
 * (oy, ox) is the value offsets[k] + oy * wq + ox of the copy, a stride-1 read.
 */
typedef struct {
  /* The padded image (hp x wp), one phase plane (hq x wq), the phases made (py x px), floats per channel and per image. */
  long hp, wp, hq, wq, phases_y, phases_x, phase_plane, plane, image_floats;
} padded_t;
padded_t padded_layout(const conv_geometry_t *g);
/* Offset of each tap k = (c, ky, kx) of one group in the padded copy. */
void tap_offsets(const conv_geometry_t *g, const padded_t *p, long *offsets);
/* The padded copy of one channel plane src (h x w) at dst. */
void pad_channel(const conv_geometry_t *g, const padded_t *p, const float *src, float *dst);
size_t conv_direct_workspace(const conv_geometry_t *g, int threads);
void conv_direct_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws);
/* Whether the forward runs on the channel tile (conv_channels.c), not conv_direct.c's position panels. */
int conv_channels(const conv_geometry_t *g);
size_t conv_channels_workspace(const conv_geometry_t *g, int threads);
void conv_channels_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws);
long conv_forward_in(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws);
/* One row of im2col: values of input channel plane xc for tap (ky, kx) at output positions [p0, p0 + len). */
void im2col_row(const conv_geometry_t *g, const float *xc, long ky, long kx, long p0, long len, float *out);

/* Pooling geometry: planes (N * C), input and output sizes, window, stride, padding. */
typedef struct {
  long planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
  int include_pad;
} pool_geometry_t;

void max_pool(context_t *ctx, const pool_geometry_t *g, const float *x, float *y, int32_t *argmax);
void max_pool_grad(context_t *ctx, long planes, long plane, long out_per_plane, const float *dy, const int32_t *argmax, float *dx);
void avg_pool(context_t *ctx, const pool_geometry_t *g, const float *x, float *y);
void avg_pool_grad(context_t *ctx, const pool_geometry_t *g, const float *dy, float *dx);

void relu(context_t *ctx, const float *x, float *y, long n);
void relu_grad(context_t *ctx, const float *dy, const float *y, float *dx, long n);
void add(context_t *ctx, const float *a, const float *b, float *y, long n);
void bias_grad(context_t *ctx, const float *dy, float *db, long n, long c, long rest);
void sgd_update(context_t *ctx, float *w, const float *grad, float *buf, long n, float lr, float weight_decay, float momentum,
                float one_minus_dampening, int first_step, int nesterov);

void batch_norm_train(context_t *ctx, const float *x, const float *gamma, const float *beta, float *y, float *mean, float *inv_std,
                      double eps, long n, long c, long spatial);
void batch_norm_grad(context_t *ctx, const float *dy, const float *x, const float *gamma, const float *mean, const float *inv_std,
                     float *dx, float *dgamma, float *dbeta, long n, long c, long spatial);
void batch_norm_infer(context_t *ctx, const float *x, const float *gamma, const float *beta, const float *mean, const float *variance,
                      double eps, float *y, long n, long c, long spatial);

#endif
