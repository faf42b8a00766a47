/*
 * conv2dGradWeight for stride 1, reading both operands in place along the reduction: with the
 * image zero-padded (C x Hp x Wp) and dy spread into the same padded-width positions
 * q = oy * Wp + ox (zeros where ox >= OW), dW[o][k] = sum over q of dy[o][q] * xpad[off[k] + q],
 * off[k] = c * Hp * Wp + ky * Wp + kx. Tiles of dot products (the micro-kernel's `dot`: rows of dy
 * against taps of x, vectors along q) need no packing and no transposes. Positions run in chunks
 * that keep a tile's rows in L2; each image's tiles are claimed by the threads one at a time and
 * sums images, then chunks, in order, so the bits never depend on the thread count.
 */
#include <string.h>
#include "convstack.h"

/*
 * Padded-width positions per chunk: a chunk of dy and of the padded image stay in L2 (W1: 64 rows of
 * dy and 64 channels, ~1 MB), and each tile's sums are reduced across lanes once per chunk.
 */
#define CHUNK 2048

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }
static size_t floats_bytes(size_t floats) { return round_up(floats * sizeof(float)); }

typedef struct {
  long hp, wp, plane, q, qv, og_pad, kg_pad, image_floats;
} gw_layout_t;

static gw_layout_t gw_layout(const conv_geometry_t *g) {
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw;
  gw_layout_t l;
  l.hp = g->h + 2 * g->ph;
  l.wp = g->w + 2 * g->pw;
  l.plane = l.hp * l.wp;
  l.q = g->oh * l.wp;
  l.qv = ceil_div(l.q, kernel->lanes) * kernel->lanes;
  l.og_pad = ceil_div(og, kernel->dot_rows) * kernel->dot_rows;
  l.kg_pad = ceil_div(kg, kernel->dot_cols) * kernel->dot_cols;
  /* Vectors of the last chunk read up to KW - 1 + lanes values past the last channel: zeros. */
  l.image_floats = g->c * l.plane + g->kw + MAX_NR;
  return l;
}

size_t conv_grad_weight_direct_workspace(const conv_geometry_t *g, int threads) {
  const gw_layout_t l = gw_layout(g);
  (void)threads;
  return round_up((size_t)l.kg_pad * sizeof(long)) + floats_bytes((size_t)l.image_floats) + floats_bytes((size_t)(g->groups * l.og_pad * l.qv)) +
         round_up((size_t)(2 * g->n) * sizeof(long));
}

typedef struct {
  const conv_geometry_t *g;
  gw_layout_t l;
  const float *x, *dy;
  const long *offsets;
  float *xpad, *dypad, *dw;
  long *counters;
} gw_t;

static void pad_image(const gw_t *d, long n, long c) {
  const conv_geometry_t *g = d->g;
  const float *src = d->x + (n * g->c + c) * g->h * g->w;
  float *dst = d->xpad + c * d->l.plane;
  memset(dst, 0, (size_t)d->l.plane * sizeof(float));
  for (long iy = 0; iy < g->h; iy++) memcpy(dst + (iy + g->ph) * d->l.wp + g->pw, src + iy * g->w, (size_t)g->w * sizeof(float));
}

/* Row r (group * og_pad + o) of the padded dy: dy[n][group * og + o] at q = oy * Wp + ox, zeros elsewhere. */
static void pad_dy(const gw_t *d, long n, long r) {
  const conv_geometry_t *g = d->g;
  const long og = g->o / g->groups, group = r / d->l.og_pad, o = r % d->l.og_pad;
  float *dst = d->dypad + r * d->l.qv;
  memset(dst, 0, (size_t)d->l.qv * sizeof(float));
  if (o >= og) return;
  const float *src = d->dy + (n * g->o + group * og + o) * g->oh * g->ow;
  for (long oy = 0; oy < g->oh; oy++) memcpy(dst + oy * d->l.wp, src + oy * g->ow, (size_t)g->ow * sizeof(float));
}

static void tile(const gw_t *d, long t, long q0, long len, int first) {
  const conv_geometry_t *g = d->g;
  const int tr = kernel->dot_rows, tc = kernel->dot_cols;
  const long og = g->o / g->groups, cg = g->c / g->groups, kg = cg * g->kh * g->kw;
  const long row_tiles = d->l.og_pad / tr, col_tiles = d->l.kg_pad / tc;
  const long group = t / (row_tiles * col_tiles), o0 = t / col_tiles % row_tiles * tr, k0 = t % col_tiles * tc;
  const float *rows[MAX_MR] = {NULL};
  float out[MAX_MR * 8];
  for (int i = 0; i < tr; i++) rows[i] = d->dypad + (group * d->l.og_pad + o0 + i) * d->l.qv + q0;
  kernel->dot(len, rows, d->xpad + group * cg * d->l.plane + q0, d->offsets + k0, out);
  for (int i = 0; i < tr && o0 + i < og; i++) {
    float *dst = d->dw + (group * og + o0 + i) * kg;
    for (int j = 0; j < tc && k0 + j < kg; j++) dst[k0 + j] = first ? out[i * tc + j] : dst[k0 + j] + out[i * tc + j];
  }
}

static void gw_team(void *arg, int tid, int threads) {
  const gw_t *d = arg;
  const conv_geometry_t *g = d->g;
  const long tiles = g->groups * (d->l.og_pad / kernel->dot_rows) * (d->l.kg_pad / kernel->dot_cols);
  const long rows = g->groups * d->l.og_pad;
  (void)tid;
  (void)threads;
  for (long n = 0; n < g->n; n++) {
    /* Work is claimed from shared counters (two per image, zeroed before the region): a thread the
     * OS deschedules holds up the others only by the job it is in. A tile runs whole (every chunk
     * in order) on the thread that claims it. */
    for (long j; (j = __atomic_fetch_add(&d->counters[2 * n], 1, __ATOMIC_RELAXED)) < g->c + rows;) {
      if (j < g->c) pad_image(d, n, j);
      else pad_dy(d, n, j - g->c);
    }
    team_barrier();
    for (long t; (t = __atomic_fetch_add(&d->counters[2 * n + 1], 1, __ATOMIC_RELAXED)) < tiles;) {
      for (long q0 = 0; q0 < d->l.qv; q0 += CHUNK) tile(d, t, q0, min_l(CHUNK, d->l.qv - q0), n == 0 && q0 == 0);
    }
    team_barrier();
  }
}

void conv_grad_weight_direct(context_t *ctx, const conv_geometry_t *g, const float *x, const float *dy, float *dw, float *ws) {
  const long kg = g->c / g->groups * g->kh * g->kw, taps = g->kh * g->kw;
  gw_t d = {g, gw_layout(g), x, dy, NULL, NULL, NULL, dw, NULL};
  long *offsets = (long *)ws;
  for (long k = 0; k < d.l.kg_pad; k++) offsets[k] = k < kg ? k / taps * d.l.plane + k % taps / g->kw * d.l.wp + k % g->kw : 0;
  d.offsets = offsets;
  d.xpad = (float *)((char *)ws + round_up((size_t)d.l.kg_pad * sizeof(long)));
  d.dypad = (float *)((char *)d.xpad + floats_bytes((size_t)d.l.image_floats));
  d.counters = (long *)((char *)d.dypad + floats_bytes((size_t)(g->groups * d.l.og_pad * d.l.qv)));
  memset(d.counters, 0, (size_t)(2 * g->n) * sizeof(long));
  memset(d.xpad + g->c * d.l.plane, 0, (size_t)(d.l.image_floats - g->c * d.l.plane) * sizeof(float));
  if (g->n == 0 || d.l.qv == 0) {
    memset(dw, 0, (size_t)(g->o * kg) * sizeof(float));
    return;
  }
  parallel_team(threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * kg), gw_team, &d);
}
