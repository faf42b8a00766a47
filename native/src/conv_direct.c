/*
 * Direct convolution: no im2col, B read in place. Each image is copied once into a zero-padded
 * buffer; output positions are counted in the buffer's row width, q = oy * Wq + ox, so that row
 * k = (c, ky, kx) of im2col is the buffer shifted by a fixed offset: contiguous along q, across
 * output rows too. The indirect micro-kernel reads its NR-column panel straight from there through
 * that offset table; the Wq - OW columns per row that fall in the padding (3% for W1) are computed
 * and dropped.
 * At stride s the copy is polyphase: each channel is split into its s x s phases (the padded
 * image's rows py, py + s, ... and columns px, px + s, ...), each a Hq x Wq plane, Wq = ceil(Wp / s).
 * Tap (ky, kx) of output (oy, ox) is then element (oy + ky / s, ox + kx / s) of phase
 * (ky % s, kx % s): a stride-1 read again, so strided layers run on the same kernels. Only the
 * phases some tap reads are made (one for a 1x1 stride-2 layer: the image subsampled).
 * Each job sums a block of filters x positions into its own buffer over all of K, then writes the
 * valid positions with the bias and ReLU. Images run in rounds of up to ROUND_BYTES of padded
 * copies: pad, then the jobs.
 */
#include <string.h>
#include "convstack.h"

/* Positions (padded-width) and filters per job at most: the job's C buffer stays in L2. */
#define DIRECT_COLS 256
#define DIRECT_ROWS 256
/* Padded images per round at most (bytes): small images go together, so LeNet's 64 images take one round, not 64. */
#define ROUND_BYTES (8L << 20)

static long min_l(long a, long b) { return a < b ? a : b; }
static long max_l(long a, long b) { return a > b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }
static size_t floats_bytes(size_t floats) { return round_up(floats * sizeof(float)); }

padded_t padded_layout(const conv_geometry_t *g) {
  padded_t p;
  p.hp = g->h + 2 * g->ph;
  p.wp = g->w + 2 * g->pw;
  /* Ceil rounding's last window may reach past the padded image: its rows and columns are zeros too. */
  p.hq = max_l(ceil_div(p.hp, g->sh), g->oh + (g->kh - 1) / g->sh);
  p.wq = max_l(ceil_div(p.wp, g->sw), g->ow + (g->kw - 1) / g->sw);
  p.phases_y = min_l(g->sh, g->kh);
  p.phases_x = min_l(g->sw, g->kw);
  p.phase_plane = p.hq * p.wq;
  p.plane = p.phases_y * p.phases_x * p.phase_plane;
  /* The last panel reads up to KW - 1 + NR values past the last phase plane: zeros. */
  p.image_floats = g->c * p.plane + g->kw + MAX_NR;
  return p;
}

void tap_offsets(const conv_geometry_t *g, const padded_t *p, long *offsets) {
  const long kg = g->c / g->groups * g->kh * g->kw;
  for (long k = 0; k < kg; k++) {
    const long c = k / (g->kh * g->kw), ky = k % (g->kh * g->kw) / g->kw, kx = k % g->kw;
    const long phase = ky % g->sh * p->phases_x + kx % g->sw;
    offsets[k] = c * p->plane + phase * p->phase_plane + ky / g->sh * p->wq + kx / g->sw;
  }
}

/* The padded image and its jobs, all from the geometry and the thread count. */
typedef struct {
  padded_t p;
  long q, images;
  long col_chunk, col_jobs, row_chunk, row_jobs;
} direct_layout_t;

static direct_layout_t layout(const conv_geometry_t *g, int threads) {
  const int mr = kernel->mr, nr = kernel->nr;
  const long og = g->o / g->groups, wanted = 2L * threads;
  direct_layout_t l;
  l.p = padded_layout(g);
  l.q = g->oh * l.p.wq;
  l.images = ROUND_BYTES / (l.p.image_floats * (long)sizeof(float));
  l.images = l.images < 1 ? 1 : l.images > g->n ? (g->n < 1 ? 1 : g->n) : l.images;
  const long panels = ceil_div(og, mr);
  l.col_chunk = DIRECT_COLS;
  /* NOTE: where filters outnumber positions (a few images at 14 x 14; one image goes to conv_channels.c) the jobs
   * split the filters, not the positions: every column job reads all the weights again, and those are the traffic. */
  while (l.col_chunk > nr && g->groups * ceil_div(l.q, l.col_chunk) < wanted && (l.q > og || g->groups * ceil_div(l.q, l.col_chunk) * panels < wanted))
    l.col_chunk = ceil_div(l.col_chunk / 2, nr) * nr;
  l.col_jobs = l.q == 0 ? 1 : ceil_div(l.q, l.col_chunk);
  long row_jobs = ceil_div(panels * mr, DIRECT_ROWS);
  if (g->groups * l.col_jobs * row_jobs < wanted) row_jobs = min_l(panels, ceil_div(wanted, g->groups * l.col_jobs));
  if (row_jobs < 1) row_jobs = 1;
  l.row_chunk = ceil_div(panels, row_jobs) * mr;
  l.row_jobs = og == 0 ? 1 : ceil_div(og, l.row_chunk);
  return l;
}

/* Bytes of the packed weights. */
static size_t packed_bytes(const conv_geometry_t *g) {
  const long og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw;
  return floats_bytes((size_t)g->groups * packed_a_floats(og, kg));
}

static size_t shared_bytes(const conv_geometry_t *g, const direct_layout_t *l) {
  const long kg = g->c / g->groups * g->kh * g->kw;
  return packed_bytes(g) + round_up((size_t)kg * sizeof(long)) + floats_bytes((size_t)(l->images * l->p.image_floats));
}

size_t conv_direct_workspace(const conv_geometry_t *g, int threads) {
  const direct_layout_t l = layout(g, threads);
  return shared_bytes(g, &l) + (size_t)threads * floats_bytes((size_t)(l.row_chunk * l.col_chunk));
}

typedef struct {
  const conv_geometry_t *g;
  direct_layout_t l;
  const float *x, *w;
  const conv_epilogue_t *e;
  float *apacked;
  const long *offsets;
  float *xpad, *y, *thread_ws;
  size_t thread_stride;
  /* The round: its first image and how many. */
  long n0, images;
} direct_t;

/* The padded copy of image n: slot n % images of the round's buffer. */
static float *padded(const direct_t *d, long n) { return d->xpad + n % d->l.images * d->l.p.image_floats; }

/*
 * dst[j] = row[j * stride] for j in [lo, hi). Stride 2 (every strided layer of ResNet and the nets
 * like it) is spelled out: with the stride a constant the loop vectorises as even/odd shuffles, not
 * one insert per value.
 */
VECTOR_CLONES static void gather_columns(const float *restrict row, long stride, long lo, long hi, float *restrict dst) {
  if (stride == 2) {
    for (long j = lo; j < hi; j++) dst[j] = row[2 * j];
    return;
  }
  for (long j = lo; j < hi; j++) dst[j] = row[j * stride];
}

/* Phase (py, px) of one padded channel: rows py, py + sh, ..., columns px, px + sw, ... */
static void copy_phase(const conv_geometry_t *g, const padded_t *p, const float *src, long py, long px, float *dst) {
  /* Columns j whose image column ix = j * sw + px - pw lies in [0, w): [jlo, jhi). */
  const long jlo = min_l(ceil_div(max_l(g->pw - px, 0), g->sw), p->wq);
  const long jhi = max_l(jlo, min_l(ceil_div(g->w + g->pw - px, g->sw), p->wq));
  for (long i = 0; i < p->hq; i++, dst += p->wq) {
    const long iy = i * g->sh + py - g->ph;
    if (iy < 0 || iy >= g->h) {
      memset(dst, 0, (size_t)p->wq * sizeof(float));
      continue;
    }
    const float *row = src + iy * g->w + px - g->pw;
    memset(dst, 0, (size_t)jlo * sizeof(float));
    gather_columns(row, g->sw, jlo, jhi, dst);
    memset(dst + jhi, 0, (size_t)(p->wq - jhi) * sizeof(float));
  }
}

void pad_channel(const conv_geometry_t *g, const padded_t *p, const float *src, float *dst) {
  if (p->hq != p->hp || p->wq != p->wp) {
    for (long py = 0; py < p->phases_y; py++) {
      for (long px = 0; px < p->phases_x; px++) copy_phase(g, p, src, py, px, dst + (py * p->phases_x + px) * p->phase_plane);
    }
    return;
  }
  memset(dst, 0, (size_t)(g->ph * p->wp) * sizeof(float));
  dst += g->ph * p->wp;
  for (long iy = 0; iy < g->h; iy++, dst += p->wp) {
    memset(dst, 0, (size_t)g->pw * sizeof(float));
    memcpy(dst + g->pw, src + iy * g->w, (size_t)g->w * sizeof(float));
    memset(dst + g->pw + g->w, 0, (size_t)g->pw * sizeof(float));
  }
  memset(dst, 0, (size_t)(g->ph * p->wp) * sizeof(float));
}

/* Zeros the values past the last channel of `count` padded images: the last position panels read into them. */
static void zero_image_tails(const conv_geometry_t *g, const padded_t *p, float *images, long count) {
  for (long i = 0; i < count; i++) memset(images + i * p->image_floats + g->c * p->plane, 0, (size_t)(p->image_floats - g->c * p->plane) * sizeof(float));
}

/* The valid positions of the job's buffer through the epilogue into y: one output-row run at a time. */
static void write_out(const direct_t *d, long n, long o0, long rows, long q0, long qn, const float *cbuf) {
  const conv_geometry_t *g = d->g;
  const conv_epilogue_t *e = d->e;
  for (long r = 0; r < rows; r++) {
    const long o = o0 + r;
    const float b = e->bias == NULL ? 0.0f : e->bias[o], s = e->scale == NULL ? 1.0f : e->scale[o];
    const long plane = (n * g->o + o) * g->oh * g->ow;
    float *yo = d->y + plane;
    const float *row = cbuf + r * d->l.col_chunk;
    for (long q = q0; q < q0 + qn;) {
      const long oy = q / d->l.p.wq, ox = q % d->l.p.wq, end = min_l(q0 + qn, (oy + 1) * d->l.p.wq);
      const long valid = min_l(end - q, g->ow - ox);
      const float *src = row + (q - q0);
      float *dst = yo + oy * g->ow + ox;
      epilogue_run(src, valid, s, b, e->residual == NULL ? NULL : e->residual + plane + oy * g->ow + ox, e->relu, dst);
      q = end;
    }
  }
}

static void direct_job(const direct_t *d, long n, long job, float *cbuf) {
  const conv_geometry_t *g = d->g;
  const direct_layout_t *l = &d->l;
  const int mr = kernel->mr, nr = kernel->nr;
  const long og = g->o / g->groups, cg = g->c / g->groups, kg = cg * g->kh * g->kw;
  const long per_group = l->col_jobs * l->row_jobs;
  const long group = job / per_group, colj = job % per_group % l->col_jobs, rowj = job % per_group / l->col_jobs;
  const long q0 = colj * l->col_chunk, qn = min_l(l->col_chunk, l->q - q0);
  const long m0 = rowj * l->row_chunk, mn = min_l(l->row_chunk, og - m0);
  if (qn <= 0 || mn <= 0) return;
  const long mpad = ceil_div(og, mr) * mr, step = kc_step(kg);
  const float *apacked = d->apacked + group * packed_a_floats(og, kg);
  const float *base = padded(d, n) + group * cg * l->p.plane + q0;
  if (kg == 0) memset(cbuf, 0, (size_t)(l->row_chunk * l->col_chunk) * sizeof(float));
  for (long k0 = 0; k0 < kg; k0 += step) {
    const long kc = min_l(step, kg - k0);
    for (long jj = 0; jj < qn; jj += nr) {
      for (long i = m0; i < m0 + mn; i += mr) {
        float *c = cbuf + (i - m0) * l->col_chunk + jj;
        kernel->run_indirect(kc, apacked + k0 * mpad + i * kc, base + jj, d->offsets + k0, c, l->col_chunk, k0 > 0);
      }
    }
  }
  write_out(d, n, group * og + m0, mn, q0, qn, cbuf);
}

/* Preparation job j of the round: pad one image channel, or (first round only) pack a task of the weights. */
static void prepare_job(void *arg, int tid, long j, float *ws) {
  const direct_t *d = arg;
  const conv_geometry_t *g = d->g;
  const long pads = d->images * g->c, og = g->o / g->groups, kg = g->c / g->groups * g->kh * g->kw;
  (void)tid;
  (void)ws;
  if (j < pads) {
    const long n = d->n0 + j / g->c, c = j % g->c;
    pad_channel(g, &d->l.p, d->x + (n * g->c + c) * g->h * g->w, padded(d, n) + c * d->l.p.plane);
    return;
  }
  const long group = (j - pads) / pack_a_tasks(og);
  pack_a_task(d->w + group * og * kg, kg, 1, og, kg, (j - pads) % pack_a_tasks(og), d->apacked + group * packed_a_floats(og, kg));
}

static long jobs_per_image(const direct_t *d) { return d->g->groups * d->l.col_jobs * d->l.row_jobs; }

static void compute_job(void *arg, int tid, long j, float *cbuf) {
  const direct_t *d = arg;
  (void)tid;
  direct_job(d, d->n0 + j / jobs_per_image(d), j % jobs_per_image(d), cbuf);
}

void conv_direct_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws) {
  const long og = g->o / g->groups, cg = g->c / g->groups, kg = cg * g->kh * g->kw;
  direct_t d;
  d.g = g;
  d.l = layout(g, ctx->threads);
  long *offsets = (long *)((char *)ws + packed_bytes(g));
  tap_offsets(g, &d.l.p, offsets);
  d.xpad = (float *)((char *)offsets + round_up((size_t)kg * sizeof(long)));
  zero_image_tails(g, &d.l.p, d.xpad, d.l.images);
  d.x = x;
  d.w = w;
  d.apacked = ws;
  d.e = e;
  d.offsets = offsets;
  d.y = y;
  d.thread_ws = (float *)((char *)ws + shared_bytes(g, &d.l));
  d.thread_stride = floats_bytes((size_t)(d.l.row_chunk * d.l.col_chunk));
  const int threads = threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * kg);
  /* Each round pads its images (the first also packs the weights), then runs their jobs. */
  for (d.n0 = 0; d.n0 < g->n; d.n0 += d.l.images) {
    d.images = min_l(d.l.images, g->n - d.n0);
    const long packs = d.n0 == 0 ? g->groups * pack_a_tasks(og) : 0;
    parallel_jobs(threads, d.images * g->c + packs, prepare_job, &d, NULL, 0);
    parallel_jobs(threads, d.images * jobs_per_image(&d), compute_job, &d, d.thread_ws, d.thread_stride);
  }
}
