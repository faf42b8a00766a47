/*
 * Fully-connected layers as packed GEMMs (gemm.c), with the operands read through strides so that
 * nothing is transposed ahead: y = x W^T + b, dx = dy W, dW = dy^T x. A convolution whose window
 * covers its whole input (LeNet's C5) runs here too (the JavaScript side routes it).
 * A forward pass over at most a dot tile's columns of inputs (batch-1 inference) runs as dot
 * products instead: each weight row is read once, in place, against every input row. The GEMM would
 * pack all the weights first (VGG-16's first FC layer: 411 MB copied to be used once) and compute
 * MR rows where there is one.
 */
#include "convstack.h"

/* Weight rows per job of the dot-product path: 64 jobs for VGG-16's 4096 outputs. */
#define ROWS_PER_JOB 64

static long min_l(long a, long b) { return a < b ? a : b; }

static int reads_rows(long n) { return kernel->dot != NULL && n <= kernel->dot_cols; }

size_t linear_forward_workspace(long n, long k, long m, int threads) { return reads_rows(n) ? 0 : gemm_workspace(n, m, k, threads); }

typedef struct {
  const float *x, *w, *bias;
  float *y;
  long n, k, m;
  int relu;
  /* Where each input row starts in x; columns past n repeat row 0 (computed and dropped). */
  long offsets[MAX_MR * 8];
} rows_t;

/* Outputs [o0, o0 + count) for every input row: dot products over the vector-length body, then the tail. */
static void dot_rows(const rows_t *r, long o0, long count) {
  const int tr = kernel->dot_rows, tc = kernel->dot_cols;
  const long body = r->k / kernel->lanes * kernel->lanes;
  const float *rows[MAX_MR];
  float out[MAX_MR * 8];
  for (int i = 0; i < tr; i++) rows[i] = r->w + min_l(o0 + i, r->m - 1) * r->k;
  kernel->dot(body, rows, r->x, r->offsets, out);
  for (long i = 0; i < count; i++) {
    for (long j = 0; j < r->n; j++) {
      const float *x = r->x + j * r->k;
      float v = out[i * tc + j];
      for (long q = body; q < r->k; q++) v += rows[i][q] * x[q];
      if (r->bias != NULL) v += r->bias[o0 + i];
      /* NaN stays NaN, as the reference ReLU keeps it. */
      r->y[j * r->m + o0 + i] = r->relu && v < 0 ? 0.0f : v;
    }
  }
}

static void rows_job(void *arg, int tid, long job, float *ws) {
  const rows_t *r = arg;
  const long end = min_l(r->m, (job + 1) * ROWS_PER_JOB);
  (void)tid;
  (void)ws;
  for (long o = job * ROWS_PER_JOB; o < end; o += kernel->dot_rows) dot_rows(r, o, min_l(kernel->dot_rows, end - o));
}

long linear_forward(context_t *ctx, const float *x, const float *w, const float *bias, float *y, long n, long k, long m, int relu) {
  if (!reads_rows(n)) {
    bsource_t wt = {pack_b_strided, w, 1, k, NULL};
    return gemm_run(ctx, n, m, k, x, k, 1, wt, y, m, NULL, bias, relu);
  }
  rows_t r = {x, w, bias, y, n, k, m, relu, {0}};
  for (long j = 0; j < n; j++) r.offsets[j] = j * k;
  parallel_jobs(threads_for(ctx, (double)n * k * m), (m + ROWS_PER_JOB - 1) / ROWS_PER_JOB, rows_job, &r, NULL, 0);
  return 0;
}

long linear_grad_input(context_t *ctx, const float *dy, const float *w, float *dx, long n, long k, long m) {
  bsource_t weights = {pack_b_strided, w, k, 1, NULL};
  return gemm_run(ctx, n, k, m, dy, m, 1, weights, dx, k, NULL, NULL, 0);
}

long linear_grad_weight(context_t *ctx, const float *dy, const float *x, float *dw, long n, long k, long m) {
  bsource_t inputs = {pack_b_strided, x, k, 1, NULL};
  return gemm_run(ctx, m, k, n, dy, 1, m, inputs, dw, k, NULL, NULL, 0);
}
