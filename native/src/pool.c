/*
 * Max and average pooling and their gradients, one (H, W) plane per job, with the reference's
 * window rules (src/backends/reference/pool.ts): windows clipped to the input; for max the first
 * maximum wins and NaN wins; for average, PyTorch's divisors.
 */
#include <string.h>
#include "convstack.h"

static long min_l(long a, long b) { return a < b ? a : b; }
static long max_l(long a, long b) { return a > b ? a : b; }

typedef struct {
  const pool_geometry_t *g;
  const float *x;
  float *y;
  int32_t *argmax;
  const int32_t *argmax_in;
  long plane, out_per_plane;
} pool_t;

/*
 * One tap (iy, kx) of every window of an output row, for the columns [lo, hi) whose tap is inside
 * the image: the first maximum (or NaN) of the taps so far wins, as in the reference, which visits a
 * window's taps row by row, column by column; so do the callers. Branch-free, so it vectorises.
 */
VECTOR_CLONES static void max_tap(long lo, long hi, const float *x, long sw, long at, float *best, int32_t *best_at) {
  for (long ox = lo; ox < hi; ox++) {
    const float v = x[ox * sw];
    const int take = v > best[ox] || v != v;
    best[ox] = take ? v : best[ox];
    best_at[ox] = take ? (int32_t)(at + ox * sw) : best_at[ox];
  }
}

/* max_tap for the values alone (inference: no argmax). */
VECTOR_CLONES static void max_tap_values(long lo, long hi, const float *x, long sw, float *best) {
  for (long ox = lo; ox < hi; ox++) {
    const float v = x[ox * sw];
    best[ox] = v > best[ox] || v != v ? v : best[ox];
  }
}

/* a / b rounded up, for any sign of a (b > 0). */
static long ceil_div_l(long a, long b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

static void max_pool_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *x = p->x + plane * g->h * g->w;
  (void)tid;
  (void)ws;
  for (long oy = 0; oy < g->oh; oy++) {
    const long y0 = max_l(oy * g->sh - g->ph, 0), y1 = min_l(oy * g->sh - g->ph + g->kh, g->h);
    float *y = p->y + (plane * g->oh + oy) * g->ow;
    int32_t *at = p->argmax == NULL ? NULL : p->argmax + (plane * g->oh + oy) * g->ow;
    for (long ox = 0; ox < g->ow; ox++) y[ox] = -__builtin_inff();
    for (long ox = 0; at != NULL && ox < g->ow; ox++) at[ox] = (int32_t)(y0 * g->w + max_l(ox * g->sw - g->pw, 0));
    for (long iy = y0; iy < y1; iy++) {
      for (long kx = 0; kx < g->kw; kx++) {
        /* Columns whose tap ix = ox * sw - pw + kx lies in [0, w). */
        const long lo = max_l(ceil_div_l(g->pw - kx, g->sw), 0), hi = min_l(ceil_div_l(g->w + g->pw - kx, g->sw), g->ow);
        const long ix0 = kx - g->pw;
        if (lo >= hi) continue;
        if (at == NULL) max_tap_values(lo, hi, x + iy * g->w + ix0, g->sw, y);
        else max_tap(lo, hi, x + iy * g->w + ix0, g->sw, iy * g->w + ix0, y, at);
      }
    }
  }
}

void max_pool(context_t *ctx, const pool_geometry_t *g, const float *x, float *y, int32_t *argmax) {
  pool_t p = {g, x, y, argmax, NULL, 0, 0};
  parallel_jobs(threads_for(ctx, (double)g->planes * g->h * g->w), g->planes, max_pool_job, &p, NULL, 0);
}

static void max_pool_grad_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  float *dx = p->y + plane * p->plane;
  const float *dy = p->x + plane * p->out_per_plane;
  const int32_t *at = p->argmax_in + plane * p->out_per_plane;
  (void)tid;
  (void)ws;
  memset(dx, 0, (size_t)p->plane * sizeof(float));
  for (long i = 0; i < p->out_per_plane; i++) dx[at[i]] += dy[i];
}

void max_pool_grad(context_t *ctx, long planes, long plane, long out_per_plane, const float *dy, const int32_t *argmax, float *dx) {
  pool_t p = {NULL, dy, dx, NULL, argmax, plane, out_per_plane};
  parallel_jobs(threads_for(ctx, (double)planes * plane), planes, max_pool_grad_job, &p, NULL, 0);
}

/* The input range [start, end) of output position o along one axis and its divisor with padding counted. */
static void avg_window(long o, long stride, long padding, long kernel_size, long size, long *start, long *end, long *padded) {
  const long s = o * stride - padding;
  const long padded_end = min_l(s + kernel_size, size + padding);
  *start = max_l(s, 0);
  *end = min_l(padded_end, size);
  *padded = padded_end - s;
}

/* Each output column's window [x0, x1) and padded width, computed once per plane rather than per output. */
#define WINDOWS(g, xs)                                                                         \
  long xs[3 * ((g)->ow > 0 ? (g)->ow : 1)];                                                    \
  for (long ox = 0; ox < (g)->ow; ox++) avg_window(ox, (g)->sw, (g)->pw, (g)->kw, (g)->w, &xs[3 * ox], &xs[3 * ox + 1], &xs[3 * ox + 2]);

/*
 * 2x2 windows at stride 2 with no padding (LeNet's subsampling): every window lies inside the input
 * and divides by 4, so a row of outputs is one vector loop. The same bits as the general loop: the
 * four values summed in double in the same order, and dividing by 4 is multiplying by 0.25.
 */
static int tiles_2x2(const pool_geometry_t *g) {
  return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && 2 * g->oh <= g->h && 2 * g->ow <= g->w;
}

VECTOR_CLONES static void avg_2x2_row(const float *restrict top, const float *restrict bottom, float *restrict out, long ow) {
  for (long ox = 0; ox < ow; ox++) {
    const double sum = (double)top[2 * ox] + top[2 * ox + 1] + bottom[2 * ox] + bottom[2 * ox + 1];
    out[ox] = (float)(sum * 0.25);
  }
}

/* NOTE: 0.0f + share, as the general loop adds the share onto a zeroed plane: -0 becomes +0 there too. */
VECTOR_CLONES static void avg_2x2_grad_row(const float *restrict dy, float *restrict top, float *restrict bottom, long ow, long w) {
  for (long ox = 0; ox < ow; ox++) {
    const float share = 0.0f + (float)((double)dy[ox] * 0.25);
    top[2 * ox] = top[2 * ox + 1] = bottom[2 * ox] = bottom[2 * ox + 1] = share;
  }
  for (long ix = 2 * ow; ix < w; ix++) top[ix] = bottom[ix] = 0.0f;
}

static void avg_2x2_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *x = p->x + plane * g->h * g->w;
  float *y = p->y + plane * g->oh * g->ow;
  (void)tid;
  (void)ws;
  for (long oy = 0; oy < g->oh; oy++) avg_2x2_row(x + 2 * oy * g->w, x + (2 * oy + 1) * g->w, y + oy * g->ow, g->ow);
}

static void avg_2x2_grad_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *dy = p->x + plane * g->oh * g->ow;
  float *dx = p->y + plane * g->h * g->w;
  (void)tid;
  (void)ws;
  for (long oy = 0; oy < g->oh; oy++) avg_2x2_grad_row(dy + oy * g->ow, dx + 2 * oy * g->w, dx + (2 * oy + 1) * g->w, g->ow, g->w);
  memset(dx + 2 * g->oh * g->w, 0, (size_t)((g->h - 2 * g->oh) * g->w) * sizeof(float));
}

static void avg_pool_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *x = p->x + plane * g->h * g->w;
  float *y = p->y + plane * g->oh * g->ow;
  (void)tid;
  (void)ws;
  WINDOWS(g, xs)
  for (long oy = 0; oy < g->oh; oy++) {
    long y0, y1, ph;
    avg_window(oy, g->sh, g->ph, g->kh, g->h, &y0, &y1, &ph);
    for (long ox = 0; ox < g->ow; ox++) {
      const long x0 = xs[3 * ox], x1 = xs[3 * ox + 1], pw = xs[3 * ox + 2];
      double sum = 0;
      for (long iy = y0; iy < y1; iy++) {
        for (long ix = x0; ix < x1; ix++) sum += x[iy * g->w + ix];
      }
      const long divisor = g->include_pad ? ph * pw : (y1 - y0) * (x1 - x0);
      y[oy * g->ow + ox] = (float)(sum / divisor);
    }
  }
}

void avg_pool(context_t *ctx, const pool_geometry_t *g, const float *x, float *y) {
  pool_t p = {g, x, y, NULL, NULL, 0, 0};
  if (tiles_2x2(g)) parallel_jobs(threads_for_values(ctx, (double)g->planes * g->h * g->w), g->planes, avg_2x2_job, &p, NULL, 0);
  else parallel_jobs(threads_for(ctx, (double)g->planes * g->h * g->w), g->planes, avg_pool_job, &p, NULL, 0);
}

static void avg_pool_grad_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *dy = p->x + plane * g->oh * g->ow;
  float *dx = p->y + plane * g->h * g->w;
  (void)tid;
  (void)ws;
  memset(dx, 0, (size_t)(g->h * g->w) * sizeof(float));
  WINDOWS(g, xs)
  for (long oy = 0; oy < g->oh; oy++) {
    long y0, y1, ph;
    avg_window(oy, g->sh, g->ph, g->kh, g->h, &y0, &y1, &ph);
    for (long ox = 0; ox < g->ow; ox++) {
      const long x0 = xs[3 * ox], x1 = xs[3 * ox + 1], pw = xs[3 * ox + 2];
      const long divisor = g->include_pad ? ph * pw : (y1 - y0) * (x1 - x0);
      const float share = (float)((double)dy[oy * g->ow + ox] / divisor);
      for (long iy = y0; iy < y1; iy++) {
        for (long ix = x0; ix < x1; ix++) dx[iy * g->w + ix] += share;
      }
    }
  }
}

void avg_pool_grad(context_t *ctx, const pool_geometry_t *g, const float *dy, float *dx) {
  pool_t p = {g, dy, dx, NULL, NULL, 0, 0};
  if (tiles_2x2(g)) parallel_jobs(threads_for_values(ctx, (double)g->planes * g->h * g->w), g->planes, avg_2x2_grad_job, &p, NULL, 0);
  else parallel_jobs(threads_for(ctx, (double)g->planes * g->h * g->w), g->planes, avg_pool_grad_job, &p, NULL, 0);
}
