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


/* One window, clipped to the image, its taps in the reference's order (argmax NULL: the value alone). */
static void max_window(const pool_geometry_t *g, const float *x, long oy, long ox, float *y, int32_t *at) {
  const long y0 = max_l(oy * g->sh - g->ph, 0), y1 = min_l(oy * g->sh - g->ph + g->kh, g->h);
  const long x0 = max_l(ox * g->sw - g->pw, 0), x1 = min_l(ox * g->sw - g->pw + g->kw, g->w);
  float best = -__builtin_inff();
  int32_t best_at = (int32_t)(y0 * g->w + x0);
  for (long iy = y0; iy < y1; iy++) {
    for (long ix = x0; ix < x1; ix++) {
      const float v = x[iy * g->w + ix];
      const int take = v > best || v != v;
      best = take ? v : best;
      best_at = take ? (int32_t)(iy * g->w + ix) : best_at;
    }
  }
  *y = best;
  if (at != NULL) *at = best_at;
}

/*
 * Windows of KH x KW at stride SW wholly inside the image, output columns [lo, hi) of one row (x at
 * the window row's first tap of column 0): each window's taps in the reference's order, in
 * registers, vectorised across the columns. The sizes are constants so the taps unroll; the values
 * alone (inference) are a loop of their own, as a test for the argmax inside the loop kept GCC from
 * vectorising it.
 */
#define INSIDE_WINDOWS(name, KH, KW, SW)                                                                  \
  static inline void name##_values(const float *x, long w, long lo, long hi, float *y) {                  \
    for (long ox = lo; ox < hi; ox++) {                                                               \
      float best = -__builtin_inff();                                                                 \
      for (int r = 0; r < KH; r++) {                                                                  \
        for (int c = 0; c < KW; c++) {                                                                \
          const float v = x[r * w + ox * SW + c];                                                     \
          best = v > best || v != v ? v : best;                                                       \
        }                                                                                             \
      }                                                                                               \
      y[ox] = best;                                                                                   \
    }                                                                                                 \
  }                                                                                                   \
  static inline void name(const float *x, long w, long lo, long hi, float *y, int32_t *at, int32_t first) { \
    for (long ox = lo; ox < hi; ox++) {                                                               \
      float best = -__builtin_inff();                                                                 \
      int32_t best_at = first + (int32_t)(ox * SW);                                                   \
      for (int r = 0; r < KH; r++) {                                                                  \
        for (int c = 0; c < KW; c++) {                                                                \
          const float v = x[r * w + ox * SW + c];                                                     \
          const int take = v > best || v != v;                                                        \
          best = take ? v : best;                                                                     \
          best_at = take ? first + (int32_t)(r * w + ox * SW + c) : best_at;                          \
        }                                                                                             \
      }                                                                                               \
      y[ox] = best;                                                                                   \
      at[ox] = best_at;                                                                               \
    }                                                                                                 \
  }
INSIDE_WINDOWS(inside_3x3_stride_2, 3, 3, 2)
INSIDE_WINDOWS(inside_2x2_stride_2, 2, 2, 2)

/*
 * One plane, all its output rows (argmax NULL: the values alone). ResNet's 3 x 3 / 2 and VGG's and
 * LeNet's 2 x 2 / 2 run their inner windows as whole vectors; the rest, and the windows the image
 * clips, one window at a time. Cloned whole, so the loops inline into each clone.
 */
VECTOR_CLONES static void max_plane(const pool_geometry_t *g, const float *x, float *y, int32_t *argmax) {
  const int square3 = g->kh == 3 && g->kw == 3 && g->sh == 2 && g->sw == 2, square2 = g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2;
  /* Columns whose window lies inside the image: ox * sw >= pw and ox * sw - pw + kw <= w. */
  const long lo = min_l((g->pw + g->sw - 1) / g->sw, g->ow), hi = max_l(lo, min_l(g->ow, g->w + g->pw - g->kw < 0 ? 0 : (g->w + g->pw - g->kw) / g->sw + 1));
  for (long oy = 0; oy < g->oh; oy++, y += g->ow) {
    const long top = oy * g->sh - g->ph;
    int32_t *at = argmax == NULL ? NULL : argmax + oy * g->ow;
    const int inside = top >= 0 && top + g->kh <= g->h && (square3 || square2);
    const long from = inside ? lo : g->ow, to = inside ? hi : g->ow;
    for (long ox = 0; ox < from; ox++) max_window(g, x, oy, ox, y + ox, at == NULL ? NULL : at + ox);
    const float *row = x + top * g->w - g->pw;
    const int32_t first = (int32_t)(top * g->w - g->pw);
    if (inside && square3 && at == NULL) inside_3x3_stride_2_values(row, g->w, from, to, y);
    else if (inside && square3) inside_3x3_stride_2(row, g->w, from, to, y, at, first);
    else if (inside && at == NULL) inside_2x2_stride_2_values(row, g->w, from, to, y);
    else if (inside) inside_2x2_stride_2(row, g->w, from, to, y, at, first);
    for (long ox = to; ox < g->ow; ox++) max_window(g, x, oy, ox, y + ox, at == NULL ? NULL : at + ox);
  }
}

/* ResNet's 3 x 3 / 2 windows by the micro-kernel's rows (kernel->max_row), values only: each output row's window rows clipped to the image, its columns clipped by the kernel. */
static void max_rows_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  const float *x = p->x + plane * g->h * g->w;
  float *y = p->y + plane * g->oh * g->ow;
  (void)tid;
  (void)ws;
  for (long oy = 0; oy < g->oh; oy++) {
    const long top = oy * g->sh - g->ph, y0 = max_l(top, 0), y1 = min_l(top + g->kh, g->h);
    kernel->max_row((int)(y1 - y0), x + y0 * g->w - g->pw, g->w, g->pw, g->ow, y + oy * g->ow);
  }
}

static void max_pool_job(void *arg, int tid, long plane, float *ws) {
  const pool_t *p = arg;
  const pool_geometry_t *g = p->g;
  (void)tid;
  (void)ws;
  max_plane(g, p->x + plane * g->h * g->w, p->y + plane * g->oh * g->ow, p->argmax == NULL ? NULL : p->argmax + plane * g->oh * g->ow);
}

void max_pool(context_t *ctx, const pool_geometry_t *g, const float *x, float *y, int32_t *argmax) {
  pool_t p = {g, x, y, argmax, NULL, 0, 0};
  const int by_rows = kernel->max_row != NULL && argmax == NULL && g->kh == 3 && g->kw == 3 && g->sh == 2 && g->sw == 2;
  /* The work is a compare per tap of every window (ResNet's pool: 1.8 million, two threads), not a value per input. */
  parallel_jobs(threads_for(ctx, (double)g->planes * g->oh * g->ow * g->kh * g->kw), g->planes, by_rows ? max_rows_job : max_pool_job, &p, NULL, 0);
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
