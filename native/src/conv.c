/*
 * Convolution forward: per image and group, y (Og x P) = W (Og x Kg) . im2col(x) (Kg x P) as a
 * packed GEMM whose B blocks are packed straight from the image, one im2col row at a time in L1
 * (no full im2col buffer: on the W1 shape copying it cost ~30% of the time), with the bias and
 * the ReLU of a fused conv2dRelu applied while the output block is in cache.
 */
#include <string.h>
#include "convstack.h"

static long min_l(long a, long b) { return a < b ? a : b; }
static long max_l(long a, long b) { return a > b ? a : b; }
/* a / b rounded up, for any sign of a (b > 0). */
static long ceil_div_l(long a, long b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }
static long clamp(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Calls visit(out offset, input row, first input column, run length) for each output row segment of [p0, p0 + len). */
#define FOR_EACH_RUN(g, ky, p0, len, ...)                      \
  {                                                            \
    long oy_ = (p0) / (g)->ow, ox = (p0) % (g)->ow, done = 0;  \
    while (done < (len)) {                                     \
      const long run = min_l((g)->ow - ox, (len) - done);      \
      const long iy = oy_ * (g)->sh - (g)->ph + (ky);          \
      __VA_ARGS__                                              \
      done += run;                                             \
      oy_++;                                                   \
      ox = 0;                                                  \
    }                                                          \
  }

void im2col_row(const conv_geometry_t *g, const float *xc, long ky, long kx, long p0, long len, float *out) {
  FOR_EACH_RUN(g, ky, p0, len, {
    float *o = out + done;
    if (iy < 0 || iy >= g->h) {
      memset(o, 0, (size_t)run * sizeof(float));
    } else if (g->sw == 1) {
      const long ix0 = ox - g->pw + kx;
      const long lo = clamp(-ix0, 0, run), hi = max_l(lo, clamp(g->w - ix0, 0, run));
      const float *src = xc + iy * g->w + ix0;
      memset(o, 0, (size_t)lo * sizeof(float));
      memcpy(o + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
      memset(o + hi, 0, (size_t)(run - hi) * sizeof(float));
    } else {
      /* Columns [lo, hi) read the image (ix = ix0 + i * sw in [0, W)); those before and after are padding. */
      const long ix0 = ox * g->sw - g->pw + kx;
      const long lo = clamp(ceil_div_l(-ix0, g->sw), 0, run), hi = max_l(lo, clamp(ceil_div_l(g->w - ix0, g->sw), 0, run));
      const float *src = xc + iy * g->w + ix0;
      memset(o, 0, (size_t)lo * sizeof(float));
      for (long i = lo; i < hi; i++) o[i] = src[i * g->sw];
      memset(o + hi, 0, (size_t)(run - hi) * sizeof(float));
    }
  })
}

void col2im_row(const conv_geometry_t *g, float *dxc, long ky, long kx, long p0, long len, const float *in) {
  FOR_EACH_RUN(g, ky, p0, len, {
    if (iy >= 0 && iy < g->h) {
      const float *v = in + done;
      float *dst = dxc + iy * g->w;
      for (long i = 0; i < run; i++) {
        const long ix = (ox + i) * g->sw - g->pw + kx;
        if (ix >= 0 && ix < g->w) dst[ix] += v[i];
      }
    }
  })
}

/* B = im2col of one image and group: row k = (channel, ky, kx), column p = output position. */
static void pack_b_im2col(const bsource_t *s, long k0, long kc, long j0, long nc, float *dst, float *row) {
  const conv_geometry_t *g = s->g;
  const long taps = g->kh * g->kw;
  for (long kk = 0; kk < kc; kk++) {
    const long k = k0 + kk, c = k / taps, t = k % taps;
    im2col_row(g, s->data + c * g->h * g->w, t / g->kw, t % g->kw, j0, nc, row);
    row_to_panels(row, kk, kc, nc, dst);
  }
}

static size_t packed_weights_bytes(const conv_geometry_t *g) {
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw;
  return round_up((size_t)g->groups * packed_a_floats(og, kg) * sizeof(float));
}

size_t conv_forward_workspace(const conv_geometry_t *g, int threads) {
  if (conv_channels(g)) return conv_channels_workspace(g, threads);
  if (conv_direct(g)) return conv_direct_workspace(g, threads);
  return packed_weights_bytes(g) + (size_t)threads * round_up(gemm_thread_floats() * sizeof(float));
}

typedef struct {
  const conv_geometry_t *g;
  const float *x, *apacked, *scale, *bias;
  float *y;
  int relu;
  grid_t grid;
} forward_t;

static void forward_job(void *arg, int tid, long job, float *ws) {
  const forward_t *f = arg;
  const conv_geometry_t *g = f->g;
  const long og = g->o / g->groups, cg = g->c / g->groups, kg = cg * g->kh * g->kw, p = g->oh * g->ow;
  const long per_problem = f->grid.col_jobs * f->grid.row_jobs;
  const long problem = job / per_problem, rest = job % per_problem;
  const long n = problem / g->groups, group = problem % g->groups;
  const long j0 = (rest % f->grid.col_jobs) * f->grid.col_chunk, m0 = (rest / f->grid.col_jobs) * f->grid.row_chunk;
  gemm_t gm = {
      og, p, kg, f->apacked + group * packed_a_floats(og, kg),
      {pack_b_im2col, f->x + (n * g->c + group * cg) * g->h * g->w, 0, 0, g},
      f->y + (n * g->o + group * og) * p, p,
      f->scale == NULL ? NULL : f->scale + group * og, f->bias == NULL ? NULL : f->bias + group * og, NULL, f->relu,
  };
  (void)tid;
  gemm_block(&gm, m0, m0 + f->grid.row_chunk, j0, min_l(p, j0 + f->grid.col_chunk), ws);
}

typedef struct {
  const conv_geometry_t *g;
  const float *w;
  float *apacked;
} pack_weights_t;

/* Pack task `job` of the weights: group job / tasks per group, its share of that group's filters. */
static void pack_weights_job(void *arg, int tid, long job, float *ws) {
  const pack_weights_t *p = arg;
  const conv_geometry_t *g = p->g;
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw, tasks = pack_a_tasks(og);
  const long group = job / tasks;
  (void)tid;
  (void)ws;
  pack_a_task(p->w + group * og * kg, kg, 1, og, kg, job % tasks, p->apacked + group * packed_a_floats(og, kg));
}

long conv_forward_in(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const float *scale, const float *bias, float *y, int relu, float *ws) {
  if (conv_channels(g)) {
    conv_channels_forward(ctx, g, x, w, scale, bias, y, relu, ws);
    return 0;
  }
  if (conv_direct(g)) {
    conv_direct_forward(ctx, g, x, w, scale, bias, y, relu, ws);
    return 0;
  }
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw, p = g->oh * g->ow;
  const int threads = threads_for(ctx, (double)g->n * g->o * p * kg);
  pack_weights_t pack = {g, w, ws};
  parallel_jobs(threads, g->groups * pack_a_tasks(og), pack_weights_job, &pack, NULL, 0);
  forward_t f = {g, x, ws, scale, bias, y, relu, job_grid(og, p, g->n * g->groups, ctx->threads)};
  float *thread_ws = (float *)((char *)ws + packed_weights_bytes(g));
  parallel_jobs(threads, g->n * g->groups * f.grid.col_jobs * f.grid.row_jobs, forward_job, &f, thread_ws,
                round_up(gemm_thread_floats() * sizeof(float)));
  return 0;
}

long conv_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const float *scale, const float *bias, float *y, int relu) {
  const size_t bytes = conv_forward_workspace(g, ctx->threads);
  float *ws = workspace_reserve(ctx, bytes);
  if (ws == NULL) return -1;
  conv_forward_in(ctx, g, x, w, scale, bias, y, relu, ws);
  return (long)bytes;
}
