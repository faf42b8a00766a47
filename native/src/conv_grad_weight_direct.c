/*
 * conv2dGradWeight for stride 1, reading both operands in place along the reduction. The round's
 * images are zero-padded (Hp x Wp) and laid out channel by channel, image after image within a
 * channel (stride S = Hp * Wp), and dy is spread the same way: row o holds each image's dy at
 * n * S + oy * Wp + ox, zeros elsewhere. Then for position q along the whole round,
 * dW[o][k] = sum over q of dy[o][q] * xpad[off[k] + q], off[k] = c * (images * S) + ky * Wp + kx:
 * one reduction across the round's images, not one per image. Tiles of dot products (the
 * micro-kernel's `dot`: rows of dy against taps of x, vectors along q) need no packing and no
 * transposes. NOTE: the dy positions in each image's last KH - 1 rows and last Wp - OW columns are
 * zeros (computed and dropped: 29% of LeNet C3's, 12.5% of C1's, 3.4% of W1's), and in exchange a
 * tile reduces its accumulators across lanes once per CHUNK positions, not once per image (C3's
 * 140 positions an image made the reductions cost more than the multiply-adds). A round's tiles are
 * claimed by the threads one at a time, and a tile sums its rounds, then chunks, in order, so the
 * bits never depend on the thread count.
 */
#include <string.h>
#include "convstack.h"

/*
 * Padded-width positions per chunk: a chunk of dy and of the padded image stay in L2 (W1: 64 rows of
 * dy and 64 channels, ~1 MB), and each tile's sums are reduced across lanes once per chunk.
 */
#define CHUNK 2048
/*
 * Padded copies (image and dy) per round at most (bytes): small images go together, and a round's
 * copies stay in L2 while its tiles pass over them (LeNet C1 at batch 64: 2.3 MB in one round ran
 * 0.36 ms, in three rounds 0.29, on one thread; W1's 1.7 MB images take a round each, no slower).
 */
#define ROUND_BYTES (1L << 20)

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }
static size_t floats_bytes(size_t floats) { return round_up(floats * sizeof(float)); }

typedef struct {
  /* Padded image sizes; S is the image stride; xs the channel stride of x (images * S); dr the row stride of dy. */
  long hp, wp, plane, og_pad, kg_pad, images, xs, dr, x_floats, dy_floats;
} gw_layout_t;

static gw_layout_t gw_layout(const conv_geometry_t *g) {
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw;
  gw_layout_t l;
  l.hp = g->h + 2 * g->ph;
  l.wp = g->w + 2 * g->pw;
  l.plane = l.hp * l.wp;
  l.og_pad = ceil_div(og, kernel->dot_rows) * kernel->dot_rows;
  l.kg_pad = ceil_div(kg, kernel->dot_cols) * kernel->dot_cols;
  l.images = ROUND_BYTES / ((g->c + g->groups * l.og_pad) * l.plane * (long)sizeof(float));
  l.images = l.images < 1 ? 1 : l.images > g->n ? (g->n < 1 ? 1 : g->n) : l.images;
  l.xs = l.images * l.plane;
  l.dr = ceil_div(l.xs, kernel->lanes) * kernel->lanes;
  /* Vectors of the last chunk read up to (KH - 1) * Wp + KW - 1 + lanes values past the last channel: zeros. */
  l.x_floats = g->c * l.xs + l.plane + MAX_NR;
  l.dy_floats = g->groups * l.og_pad * l.dr;
  return l;
}

size_t conv_grad_weight_direct_workspace(const conv_geometry_t *g, int threads) {
  const gw_layout_t l = gw_layout(g);
  (void)threads;
  return round_up((size_t)l.kg_pad * sizeof(long)) + floats_bytes((size_t)l.x_floats) + floats_bytes((size_t)l.dy_floats);
}

typedef struct {
  const conv_geometry_t *g;
  gw_layout_t l;
  const float *x, *dy;
  const long *offsets;
  float *xpad, *dypad, *dw;
  /* The round: its first image and how many. */
  long n0, images;
} gw_t;

/* Channel c of image n (the i-th of its round) into its slot of the round's padded x. */
static void pad_image(const gw_t *d, long n, long i, long c) {
  const conv_geometry_t *g = d->g;
  const float *src = d->x + (n * g->c + c) * g->h * g->w;
  float *dst = d->xpad + c * d->l.xs + i * d->l.plane;
  memset(dst, 0, (size_t)d->l.plane * sizeof(float));
  for (long iy = 0; iy < g->h; iy++) memcpy(dst + (iy + g->ph) * d->l.wp + g->pw, src + iy * g->w, (size_t)g->w * sizeof(float));
}

/*
 * Row r (group * og_pad + o) of image n's dy (the i-th of `images` in its round): dy[n][group * og + o]
 * at i * S + oy * Wp + ox, zeros elsewhere; the round's last image also zeros the row's tail.
 */
static void pad_dy(const gw_t *d, long n, long i, long images, long r) {
  const conv_geometry_t *g = d->g;
  const long og = g->o / g->groups, group = r / d->l.og_pad, o = r % d->l.og_pad;
  float *dst = d->dypad + r * d->l.dr + i * d->l.plane;
  const long end = i == images - 1 ? d->l.dr - i * d->l.plane : d->l.plane;
  memset(dst, 0, (size_t)end * sizeof(float));
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
  for (int i = 0; i < tr; i++) rows[i] = d->dypad + (group * d->l.og_pad + o0 + i) * d->l.dr + q0;
  kernel->dot(len, rows, d->xpad + group * cg * d->l.xs + q0, d->offsets + k0, out);
  for (int i = 0; i < tr && o0 + i < og; i++) {
    float *dst = d->dw + (group * og + o0 + i) * kg;
    for (int j = 0; j < tc && k0 + j < kg; j++) dst[k0 + j] = first ? out[i * tc + j] : dst[k0 + j] + out[i * tc + j];
  }
}

/* Preparation job j of the round: one channel of one image, or one row of one image's dy. */
static void prepare_job(void *arg, int tid, long j, float *ws) {
  const gw_t *d = arg;
  const long per_image = d->g->c + d->g->groups * d->l.og_pad, i = j / per_image, at = j % per_image;
  (void)tid;
  (void)ws;
  if (at < d->g->c) pad_image(d, d->n0 + i, i, at);
  else pad_dy(d, d->n0 + i, i, d->images, at - d->g->c);
}

/* Tile t runs whole on the thread that claims it: the round's images, every chunk, in order. */
static void tile_job(void *arg, int tid, long t, float *ws) {
  const gw_t *d = arg;
  const long q = ceil_div(d->images * d->l.plane, kernel->lanes) * kernel->lanes;
  (void)tid;
  (void)ws;
  for (long q0 = 0; q0 < q; q0 += CHUNK) tile(d, t, q0, min_l(CHUNK, q - q0), d->n0 == 0 && q0 == 0);
}

void conv_grad_weight_direct(context_t *ctx, const conv_geometry_t *g, const float *x, const float *dy, float *dw, float *ws) {
  const long kg = g->c / g->groups * g->kh * g->kw, taps = g->kh * g->kw;
  gw_t d = {g, gw_layout(g), x, dy, NULL, NULL, NULL, dw, 0, 0};
  long *offsets = (long *)ws;
  for (long k = 0; k < d.l.kg_pad; k++) offsets[k] = k < kg ? k / taps * d.l.xs + k % taps / g->kw * d.l.wp + k % g->kw : 0;
  d.offsets = offsets;
  d.xpad = (float *)((char *)ws + round_up((size_t)d.l.kg_pad * sizeof(long)));
  d.dypad = (float *)((char *)d.xpad + floats_bytes((size_t)d.l.x_floats));
  memset(d.xpad + g->c * d.l.xs, 0, (size_t)(d.l.x_floats - g->c * d.l.xs) * sizeof(float));
  if (g->n == 0 || g->oh * g->ow == 0) {
    memset(dw, 0, (size_t)(g->o * kg) * sizeof(float));
    return;
  }
  const int threads = threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * kg);
  const long tiles = g->groups * (d.l.og_pad / kernel->dot_rows) * (d.l.kg_pad / kernel->dot_cols);
  for (d.n0 = 0; d.n0 < g->n; d.n0 += d.l.images) {
    d.images = min_l(d.l.images, g->n - d.n0);
    parallel_jobs(threads, d.images * (g->c + g->groups * d.l.og_pad), prepare_job, &d, NULL, 0);
    parallel_jobs(threads, tiles, tile_job, &d, NULL, 0);
  }
}
