/*
 * SGEMM with packing and cache blocking: C = A . B (+ bias, ReLU). A is packed whole into KC-deep
 * blocks of MR-row panels; each job packs its own KC x NC blocks of B into NR-column panels (from a
 * strided matrix, or straight from an image for convolutions: no im2col buffer) and runs the
 * micro-kernel over them. Each value of C is summed in one order (KC blocks in turn), whatever the
 * jobs and threads: results are the same bits on every thread count.
 */
#include <string.h>
#include "convstack.h"

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }

long kc_step(long k) {
  const long blocks = k <= KC ? 1 : ceil_div(k, KC);
  return ceil_div(k, blocks);
}

size_t packed_a_floats(long m, long k) { return (size_t)ceil_div(m, kernel->mr) * kernel->mr * (size_t)k; }

void pack_a_block(const float *src, long rs, long cs, long m0, long mc, long k0, long kc, float *dst) {
  const int mr = kernel->mr;
  for (long p = 0; p < mc; p += mr) {
    float *panel = dst + p * kc;
    for (int r = 0; r < mr; r++) {
      if (p + r >= mc) {
        for (long kk = 0; kk < kc; kk++) panel[kk * mr + r] = 0;
        continue;
      }
      const float *row = src + (m0 + p + r) * rs + k0 * cs;
      for (long kk = 0; kk < kc; kk++) panel[kk * mr + r] = row[kk * cs];
    }
  }
}

/* Packs rows [r0, r1) of A (r0 a multiple of MR), all of K, to their places in pack_a's layout. */
static void pack_a_rows(const float *src, long rs, long cs, long m, long k, long r0, long r1, float *dst) {
  const long mpad = ceil_div(m, kernel->mr) * kernel->mr;
  const long step = kc_step(k);
  for (long k0 = 0; k0 < k; k0 += step) {
    const long kc = min_l(step, k - k0);
    pack_a_block(src, rs, cs, r0, r1 - r0, k0, kc, dst + k0 * mpad + r0 * kc);
  }
}

void pack_a(const float *src, long rs, long cs, long m, long k, float *dst) { pack_a_rows(src, rs, cs, m, k, 0, m, dst); }

long pack_a_tasks(long m) { return m <= 0 ? 0 : ceil_div(m, (long)PACK_PANELS * kernel->mr); }

void pack_a_task(const float *src, long rs, long cs, long m, long k, long task, float *dst) {
  const long rows = (long)PACK_PANELS * kernel->mr, r0 = task * rows;
  pack_a_rows(src, rs, cs, m, k, r0, min_l(m, r0 + rows), dst);
}

/* Copies a packed row of nc values into row kk of each NR-column panel, zero-padding the last. */
static void row_to_panels(const float *row, long kk, long kc, long nc, float *dst) {
  const int nr = kernel->nr;
  for (long p = 0; p < nc; p += nr) {
    float *out = dst + p * kc + kk * nr;
    long cols = min_l(nr, nc - p);
    memcpy(out, row + p, (size_t)cols * sizeof(float));
    for (long j = cols; j < nr; j++) out[j] = 0;
  }
}

void pack_b_strided(const bsource_t *s, long k0, long kc, long j0, long nc, float *dst, float *row) {
  for (long kk = 0; kk < kc; kk++) {
    const float *src = s->data + (k0 + kk) * s->rs + j0 * s->cs;
    if (s->cs != 1) {
      for (long j = 0; j < nc; j++) row[j] = src[j * s->cs];
      src = row;
    }
    row_to_panels(src, kk, kc, nc, dst);
  }
}

void gemm_tile(long kc, const float *a, const float *b, float *c, long ldc, long rows, long cols, int accumulate) {
  const int mr = kernel->mr, nr = kernel->nr;
  if (rows == mr && cols == nr) {
    kernel->run(kc, a, b, c, ldc, accumulate);
    return;
  }
  float tile[MAX_MR * MAX_NR] __attribute__((aligned(64)));
  if (accumulate) {
    for (long r = 0; r < rows; r++) memcpy(tile + r * nr, c + r * ldc, (size_t)cols * sizeof(float));
  }
  kernel->run(kc, a, b, tile, nr, accumulate);
  for (long r = 0; r < rows; r++) memcpy(c + r * ldc, tile + r * nr, (size_t)cols * sizeof(float));
}

/*
 * NaN stays NaN through the ReLU (NaN < 0 is false), as the reference ReLU keeps it. A scale of 1
 * leaves the sum exact, so an unscaled conv gets the bits it always had.
 */
VECTOR_CLONES void epilogue_run(const float *restrict src, long count, float scale, float bias, const float *restrict residual, int relu, float *restrict dst) {
  if (residual == NULL) {
    for (long i = 0; i < count; i++) {
      const float v = src[i] * scale + bias;
      dst[i] = relu && v < 0 ? 0.0f : v;
    }
    return;
  }
  for (long i = 0; i < count; i++) {
    const float v = src[i] * scale + bias + residual[i];
    dst[i] = relu && v < 0 ? 0.0f : v;
  }
}

void gemm_epilogue(const gemm_t *g, long m0, long m1, long j0, long j1) {
  if (g->scale_row == NULL && g->bias_row == NULL && g->bias_col == NULL && g->residual == NULL && !g->relu) return;
  for (long i = m0; i < m1; i++) {
    float *row = g->c + i * g->ldc;
    const float *residual = g->residual == NULL ? NULL : g->residual + i * g->ldc;
    const float rb = g->bias_row == NULL ? 0.0f : g->bias_row[i];
    for (long j = j0; j < j1; j++) {
      float v = row[j];
      if (g->scale_row != NULL) v *= g->scale_row[i];
      if (g->bias_row != NULL) v += rb;
      if (g->bias_col != NULL) v += g->bias_col[j];
      if (residual != NULL) v += residual[j];
      /* NaN stays NaN, as the reference ReLU keeps it. */
      if (g->relu && v < 0) v = 0;
      row[j] = v;
    }
  }
}

size_t gemm_thread_floats(void) { return (size_t)KC * NC + NC + KC + MAX_MR * MAX_NR; }

void gemm_block(const gemm_t *g, long m0, long m1, long j0, long j1, float *ws) {
  const int mr = kernel->mr, nr = kernel->nr;
  const long mpad = ceil_div(g->m, mr) * mr;
  m1 = min_l(m1, g->m);
  float *bpack = ws;
  float *row = ws + (size_t)KC * NC;
  for (long j = j0; j < j1; j += NC) {
    const long nc = min_l(NC, j1 - j);
    if (g->k == 0) {
      for (long i = m0; i < m1; i++) memset(g->c + i * g->ldc + j, 0, (size_t)nc * sizeof(float));
    }
    const long step = kc_step(g->k);
    for (long k0 = 0; k0 < g->k; k0 += step) {
      const long kc = min_l(step, g->k - k0);
      g->b.pack(&g->b, k0, kc, j, nc, bpack, row);
      const float *ablock = g->apacked + k0 * mpad;
      for (long jj = 0; jj < nc; jj += nr) {
        for (long i = m0; i < m1; i += mr) {
          gemm_tile(kc, ablock + i * kc, bpack + jj * kc, g->c + i * g->ldc + j + jj, g->ldc, min_l(mr, m1 - i), min_l(nr, nc - jj), k0 > 0);
        }
      }
    }
    gemm_epilogue(g, m0, m1, j, j + nc);
  }
}

grid_t job_grid(long m, long n, long problems, int threads) {
  const int mr = kernel->mr, nr = kernel->nr;
  const long wanted = 2L * threads;
  grid_t t;
  t.col_chunk = NC;
  while (t.col_chunk > nr && problems * ceil_div(n, t.col_chunk) < wanted) t.col_chunk = ceil_div(t.col_chunk / 2, nr) * nr;
  t.col_jobs = n == 0 ? 1 : ceil_div(n, t.col_chunk);
  const long panels = ceil_div(m, mr);
  t.row_jobs = problems * t.col_jobs >= wanted ? 1 : min_l(panels, ceil_div(wanted, problems * t.col_jobs));
  if (t.row_jobs < 1) t.row_jobs = 1;
  t.row_chunk = ceil_div(panels, t.row_jobs) * mr;
  t.row_jobs = m == 0 ? 1 : ceil_div(m, t.row_chunk);
  return t;
}

typedef struct {
  const gemm_t *g;
  grid_t grid;
} gemm_jobs_t;

static void gemm_job(void *arg, int tid, long job, float *ws) {
  const gemm_jobs_t *j = arg;
  (void)tid;
  const long col = job % j->grid.col_jobs, rowj = job / j->grid.col_jobs;
  const long j0 = col * j->grid.col_chunk, m0 = rowj * j->grid.row_chunk;
  gemm_block(j->g, m0, m0 + j->grid.row_chunk, j0, min_l(j->g->n, j0 + j->grid.col_chunk), ws);
}

size_t gemm_workspace(long m, long n, long k, int threads) {
  (void)n;
  return round_up(packed_a_floats(m, k) * sizeof(float)) + (size_t)threads * round_up(gemm_thread_floats() * sizeof(float));
}

long gemm_run(context_t *ctx, long m, long n, long k, const float *a, long ars, long acs, bsource_t b, float *c, long ldc,
              const float *bias_row, const float *bias_col, int relu) {
  const size_t bytes = gemm_workspace(m, n, k, ctx->threads);
  float *ws = workspace_reserve(ctx, bytes);
  if (ws == NULL) return -1;
  pack_a(a, ars, acs, m, k, ws);
  gemm_t g = {m, n, k, ws, b, c, ldc, NULL, bias_row, bias_col, NULL, relu};
  gemm_jobs_t jobs = {&g, job_grid(m, n, 1, ctx->threads)};
  float *thread_ws = (float *)((char *)ws + round_up(packed_a_floats(m, k) * sizeof(float)));
  int threads = threads_for(ctx, (double)m * n * k);
  parallel_jobs(threads, jobs.grid.col_jobs * jobs.grid.row_jobs, gemm_job, &jobs, thread_ws, round_up(gemm_thread_floats() * sizeof(float)));
  return (long)bytes;
}
