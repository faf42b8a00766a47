/*
 * Convolution forward: the channel tile (conv_channels.c: filters along the vectors) where the
 * reduction is 64 or more, else the position panels (conv_direct.c: positions along the vectors),
 * both reading a zero-padded (polyphase, when strided) copy of the images, with the epilogue (scale,
 * bias, residual, ReLU) applied as each output is written. Also im2col's and col2im's rows, which
 * the gradients' GEMMs (conv_grad.c) build their panels from.
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

size_t conv_forward_workspace(const conv_geometry_t *g, int threads) {
  return conv_channels(g) ? conv_channels_workspace(g, threads) : conv_direct_workspace(g, threads);
}

long conv_forward_in(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws) {
  if (conv_channels(g)) conv_channels_forward(ctx, g, x, w, e, y, ws);
  else conv_direct_forward(ctx, g, x, w, e, y, ws);
  return 0;
}

long conv_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y) {
  const size_t bytes = conv_forward_workspace(g, ctx->threads);
  float *ws = workspace_reserve(ctx, bytes);
  if (ws == NULL) return -1;
  conv_forward_in(ctx, g, x, w, e, y, ws);
  return (long)bytes;
}
