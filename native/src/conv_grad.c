/*
 * Convolution gradients.
 * - conv2dGradInput, stride 1: the convolution of dy with the flipped, channel-swapped filters and
 *   padding K-1-P, on the direct forward kernel (no scatter). NOTE: where the forward shrinks the
 *   image (LeNet's C3: 14x14 -> 10x10) this multiplies the zero padding too (3.4x the useful work
 *   on C3), and is still faster than the GEMM + col2im below, whose reduction is only Og deep
 *   (16 on C3): 0.7 against 1.1 ms for C3 at batch 64 on one thread.
 * - conv2dGradInput, other strides: per image, group and block of input channels, dcol = W^T . dy in
 *   column blocks, each added back onto dx (col2im) while in cache. A block owns its channels of
 *   dx, so jobs never write the same value and every sum has one order.
 * - conv2dGradWeight: dW (Og x Kg) = dy (Og x N*P) . im2col(x)^T (N*P x Kg), split-K: each of S
 *   chunks of the N*P reduction (S = threads, at most one per KC) packs both operands along the
 *   reduction and sums into its own copy of dW; the copies are added in chunk order, so the bits
 *   depend on the thread count only.
 */
#include <string.h>
#include "convstack.h"

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }
static size_t floats_bytes(size_t floats) { return round_up(floats * sizeof(float)); }

/* Columns of dcol per block: rows x DCOL floats stay in L2. */
#define DCOL 128
/* About this many rows of dcol (input channels x taps) per job. */
#define ROWS_PER_JOB 256

static int by_flip(const conv_geometry_t *g) {
  return g->sh == 1 && g->sw == 1 && g->ph < g->kh && g->pw < g->kw;
}

static conv_geometry_t flipped(const conv_geometry_t *g) {
  conv_geometry_t f = {g->n, g->o, g->oh, g->ow, g->c, g->h, g->w, g->kh, g->kw, 1, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw, g->groups};
  return f;
}

static long channels_per_job(const conv_geometry_t *g) {
  const long cg = g->c / g->groups, taps = g->kh * g->kw;
  return min_l(cg, ceil_div(ROWS_PER_JOB, taps));
}

static size_t col2im_thread_bytes(const conv_geometry_t *g) {
  const long rows = channels_per_job(g) * g->kh * g->kw;
  return floats_bytes(packed_a_floats(rows, g->o / g->groups)) + floats_bytes((size_t)rows * DCOL) + floats_bytes(gemm_thread_floats());
}

size_t conv_grad_input_workspace(const conv_geometry_t *g, int threads) {
  if (by_flip(g)) {
    conv_geometry_t f = flipped(g);
    return floats_bytes((size_t)g->o * (g->c / g->groups) * g->kh * g->kw) + conv_forward_workspace(&f, threads);
  }
  return (size_t)threads * col2im_thread_bytes(g);
}

typedef struct {
  const conv_geometry_t *g;
  const float *dy, *w;
  float *dx;
} col2im_t;

static void col2im_job(void *arg, int tid, long job, float *ws) {
  const col2im_t *a = arg;
  const conv_geometry_t *g = a->g;
  const long og = g->o / g->groups, cg = g->c / g->groups, taps = g->kh * g->kw, kg = cg * taps, p = g->oh * g->ow, hw = g->h * g->w;
  const long cb = channels_per_job(g), blocks = ceil_div(cg, cb);
  const long n = job / (g->groups * blocks), group = job / blocks % g->groups, c0 = job % blocks * cb;
  const long c1 = min_l(cg, c0 + cb), rows = (c1 - c0) * taps, rows_max = cb * taps;
  float *apacked = ws;
  float *dcol = (float *)((char *)apacked + floats_bytes(packed_a_floats(rows_max, og)));
  float *gemm_ws = (float *)((char *)dcol + floats_bytes((size_t)rows_max * DCOL));
  (void)tid;
  /* a(k, o) = w[(group * og + o) * kg + k] for the block's rows k. */
  pack_a(a->w + group * og * kg + c0 * taps, 1, kg, rows, og, apacked);
  float *dx = a->dx + (n * g->c + group * cg + c0) * hw;
  memset(dx, 0, (size_t)((c1 - c0) * hw) * sizeof(float));
  const float *dy = a->dy + (n * g->o + group * og) * p;
  for (long p0 = 0; p0 < p; p0 += DCOL) {
    const long nc = min_l(DCOL, p - p0);
    gemm_t gm = {rows, nc, og, apacked, {pack_b_strided, dy + p0, p, 1, NULL}, dcol, nc, NULL, NULL, NULL, NULL, 0};
    gemm_block(&gm, 0, rows, 0, nc, gemm_ws);
    for (long r = 0; r < rows; r++) {
      const long t = r % taps;
      col2im_row(g, dx + r / taps * hw, t / g->kw, t % g->kw, p0, nc, dcol + r * nc);
    }
  }
}

long conv_grad_input(context_t *ctx, const conv_geometry_t *g, const float *dy, const float *w, float *dx) {
  const size_t bytes = conv_grad_input_workspace(g, ctx->threads);
  float *ws = workspace_reserve(ctx, bytes);
  if (ws == NULL) return -1;
  const long og = g->o / g->groups, cg = g->c / g->groups, taps = g->kh * g->kw;
  if (by_flip(g)) {
    /* weight (G*Og, Cg, KH, KW) -> flipped (G*Cg, Og, KH, KW), each window reversed. */
    for (long group = 0; group < g->groups; group++) {
      for (long o = 0; o < og; o++) {
        for (long c = 0; c < cg; c++) {
          const float *src = w + ((group * og + o) * cg + c) * taps;
          float *dst = ws + ((group * cg + c) * og + o) * taps;
          for (long t = 0; t < taps; t++) dst[taps - 1 - t] = src[t];
        }
      }
    }
    conv_geometry_t f = flipped(g);
    float *rest = (float *)((char *)ws + floats_bytes((size_t)g->o * cg * taps));
    const conv_epilogue_t none = {NULL, NULL, NULL, 0};
    conv_forward_in(ctx, &f, dy, ws, &none, dx, rest);
    return (long)bytes;
  }
  col2im_t a = {g, dy, w, dx};
  const long jobs = g->n * g->groups * ceil_div(cg, channels_per_job(g));
  const int threads = threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * cg * taps);
  parallel_jobs(threads, jobs, col2im_job, &a, ws, col2im_thread_bytes(g));
  return (long)bytes;
}

/* Chunks of the weight gradient's N*P reduction: one per thread, at most one per KC values. */
static long reduction_chunks(const conv_geometry_t *g, int threads) {
  const long r = g->n * g->oh * g->ow;
  const long most = ceil_div(r, KC);
  return most < 1 ? 1 : min_l(threads, most);
}

static size_t grad_weight_thread_bytes(const conv_geometry_t *g) {
  return floats_bytes(packed_a_floats(g->o / g->groups, KC)) + floats_bytes(gemm_thread_floats());
}

static size_t partials_bytes(const conv_geometry_t *g, long chunks) {
  const size_t weights = (size_t)g->o * (g->c / g->groups) * g->kh * g->kw;
  return floats_bytes((size_t)(chunks - 1) * weights);
}

size_t conv_grad_weight_workspace(const conv_geometry_t *g, int threads) {
  if (g->sh == 1 && g->sw == 1) return conv_grad_weight_direct_workspace(g, threads);
  return partials_bytes(g, reduction_chunks(g, threads)) + (size_t)threads * grad_weight_thread_bytes(g);
}

typedef struct {
  const conv_geometry_t *g;
  const float *x, *dy;
  float *dw, *partials;
  long chunks;
} grad_weight_t;

/* A: a(o, r) = dy[n][group * og + o][p] for reduction index r = n * P + p in [r0, r0 + kc). */
static void pack_dy(const conv_geometry_t *g, const float *dy, long group, long r0, long kc, float *dst) {
  const int mr = kernel->mr;
  const long og = g->o / g->groups, p = g->oh * g->ow;
  for (long o = 0; o < ceil_div(og, mr) * mr; o++) {
    float *panel = dst + o / mr * mr * kc + o % mr;
    if (o >= og) {
      for (long rr = 0; rr < kc; rr++) panel[rr * mr] = 0;
      continue;
    }
    for (long rr = 0; rr < kc;) {
      const long r = r0 + rr, n = r / p, at = r % p, len = min_l(p - at, kc - rr);
      const float *src = dy + (n * g->o + group * og + o) * p + at;
      for (long i = 0; i < len; i++) panel[(rr + i) * mr] = src[i];
      rr += len;
    }
  }
}

/* B: b(r, k) = im2col(x[n])[k][p] for r = n * P + p, columns k in [j0, j0 + nc) of the group's Kg. */
static void pack_cols(const conv_geometry_t *g, const float *x, long group, long r0, long kc, long j0, long nc, float *dst, float *row) {
  const int nr = kernel->nr;
  const long cg = g->c / g->groups, taps = g->kh * g->kw, p = g->oh * g->ow, hw = g->h * g->w;
  for (long jj = 0; jj < ceil_div(nc, nr) * nr; jj++) {
    float *panel = dst + jj / nr * nr * kc + jj % nr;
    if (jj >= nc) {
      for (long rr = 0; rr < kc; rr++) panel[rr * nr] = 0;
      continue;
    }
    const long k = j0 + jj, c = k / taps, t = k % taps;
    for (long rr = 0; rr < kc;) {
      const long r = r0 + rr, n = r / p, at = r % p, len = min_l(p - at, kc - rr);
      im2col_row(g, x + (n * g->c + group * cg + c) * hw, t / g->kw, t % g->kw, at, len, row + rr);
      rr += len;
    }
    for (long rr = 0; rr < kc; rr++) panel[rr * nr] = row[rr];
  }
}

static void grad_weight_job(void *arg, int tid, long job, float *ws) {
  const grad_weight_t *a = arg;
  const conv_geometry_t *g = a->g;
  const int mr = kernel->mr, nr = kernel->nr;
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw, total = g->n * g->oh * g->ow;
  const long group = job / a->chunks, chunk = job % a->chunks;
  const long r0 = total * chunk / a->chunks, r1 = total * (chunk + 1) / a->chunks;
  float *c = (chunk == 0 ? a->dw : a->partials + (size_t)(chunk - 1) * g->o * kg) + group * og * kg;
  float *apacked = ws;
  float *bpacked = (float *)((char *)ws + floats_bytes(packed_a_floats(og, KC)));
  float *row = bpacked + (size_t)KC * NC;
  (void)tid;
  if (r1 <= r0) memset(c, 0, (size_t)(og * kg) * sizeof(float));
  const long step = kc_step(r1 - r0);
  for (long r = r0; r < r1; r += step) {
    const long kc = min_l(step, r1 - r);
    pack_dy(g, a->dy, group, r, kc, apacked);
    for (long j = 0; j < kg; j += NC) {
      const long nc = min_l(NC, kg - j);
      pack_cols(g, a->x, group, r, kc, j, nc, bpacked, row);
      for (long jj = 0; jj < nc; jj += nr) {
        for (long i = 0; i < og; i += mr) {
          gemm_tile(kc, apacked + i * kc, bpacked + jj * kc, c + i * kg + j + jj, kg, min_l(mr, og - i), min_l(nr, nc - jj), r > r0);
        }
      }
    }
  }
}

typedef struct {
  float *dw;
  const float *partials;
  long size, chunks;
} sum_t;

#define SUM_BLOCK 16384

static void sum_job(void *arg, int tid, long job, float *ws) {
  const sum_t *s = arg;
  const long i0 = job * SUM_BLOCK, i1 = min_l(s->size, i0 + SUM_BLOCK);
  (void)tid;
  (void)ws;
  for (long chunk = 1; chunk < s->chunks; chunk++) {
    const float *part = s->partials + (chunk - 1) * s->size;
    for (long i = i0; i < i1; i++) s->dw[i] += part[i];
  }
}

long conv_grad_weight(context_t *ctx, const conv_geometry_t *g, const float *x, const float *dy, float *dw) {
  const size_t bytes = conv_grad_weight_workspace(g, ctx->threads);
  float *ws = workspace_reserve(ctx, bytes);
  if (ws == NULL) return -1;
  if (g->sh == 1 && g->sw == 1) {
    conv_grad_weight_direct(ctx, g, x, dy, dw, ws);
    return (long)bytes;
  }
  const long chunks = reduction_chunks(g, ctx->threads);
  const long kg = g->c / g->groups * g->kh * g->kw;
  grad_weight_t a = {g, x, dy, dw, ws, chunks};
  const int threads = threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * kg);
  float *thread_ws = (float *)((char *)ws + partials_bytes(g, chunks));
  parallel_jobs(threads, g->groups * chunks, grad_weight_job, &a, thread_ws, grad_weight_thread_bytes(g));
  if (chunks > 1) {
    sum_t s = {dw, ws, g->o * kg, chunks};
    parallel_jobs(threads, ceil_div(s.size, SUM_BLOCK), sum_job, &s, NULL, 0);
  }
  return (long)bytes;
}
