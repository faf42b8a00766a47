/*
 * Direct convolution with the filters along the vectors: the channel tile. Each output position of
 * a row is a broadcast of the padded copy (conv_direct.c's, phases and all), so a tile is any run of
 * positions of one output row, or of two where a row is short (ResNet's 7 x 7 outputs: 14 positions
 * a tile): no padding columns are computed and dropped (conv_direct.c's position panels compute 9
 * columns for every 7 of a 7 x 7 output, in 64-column panels), and each weight is read from memory
 * once. A job (a block of filters, a run of output rows) packs its filters k-major: whole where the
 * reduction is short; else, for each band of its tiles, one chunk of the reduction at a time
 * (CHANNEL_CHUNK steps: 32 KB, in L1), each tile of the band summing that chunk in registers on from
 * its earlier chunks' sums while it asks for its share of the next chunk's weights. A band's tiles
 * then go to y transposed, with the scale, bias, residual and ReLU. Packing all of K first (590 KB
 * for 32 of ResNet's 512 x 4608 filters), the cores waited on memory: W2's pass was 9-12% slower.
 * It runs every convolution with a reduction of 64 and more whose images' padded copies fit in
 * CHANNEL_MAX_COPY: it ran VGG's and ResNet's large layers at batch 1 and W1's and W5's layers
 * 1.03-1.3x faster than the position panels, all measured in one process, alternating (AMD EPYC).
 */
#include <string.h>
#include "convstack.h"

/* Reductions shorter than this (a first layer on RGB or grey images: 27, 25) leave the filters' vectors half empty and the tiles' writes dominant: conv_direct.c's panels run them faster. */
#define CHANNEL_MIN_DEPTH 64
/* The padded copies of all the images at most (bytes): past that conv_direct.c pads them in rounds. */
#define CHANNEL_MAX_COPY (64L << 20)
/*
 * Jobs per thread at least, splitting output rows where blocks of filters are too few: with four
 * rather than two, a thread slowed by another process leaves less of a call to wait for (W2's median
 * pass 13.6 -> 12.9 ms); each extra row job packs its filters again, which costs little beside them.
 */
#define JOBS_PER_THREAD 4
/*
 * Tiles summed together, chunk by chunk of the reduction, before they go to y: each chunk of the
 * weights is packed once for all of them (with 16, VGG-16's deep layers spent 5% repacking). Their
 * partial sums (1.8 KB a tile) stay in L2.
 */
#define BAND_TILES 64
/* Reductions up to this are packed whole, once a job (128 KB at most, in L2), not chunk by chunk for every band: W1 ran 2% faster. */
#define WHOLE_STEPS 1024

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }
static size_t floats_bytes(size_t floats) { return round_up(floats * sizeof(float)); }

/*
 * NOTE: fewer filters per group than half a tile's leave most of its lanes empty: LeNet's C3 input
 * gradient (6 filters in a 32-wide tile) ran 2.2x faster on conv_direct.c (0.35 against 0.75 ms at
 * batch 64, 2 threads), and W4 with it.
 */
int conv_channels(const conv_geometry_t *g) {
  const long depth = g->c / g->groups * g->kh * g->kw;
  return kernel->channel_tile != NULL && depth >= CHANNEL_MIN_DEPTH && 2 * (g->o / g->groups) >= kernel->channels &&
         g->n * padded_layout(g).image_floats * (long)sizeof(float) <= CHANNEL_MAX_COPY;
}

/* The jobs: per image, group and block of filters, runs of output rows. */
typedef struct {
  padded_t p;
  long blocks, row_chunk, row_jobs;
} channel_layout_t;

static channel_layout_t layout(const conv_geometry_t *g, int threads) {
  channel_layout_t l;
  l.p = padded_layout(g);
  l.blocks = ceil_div(g->o / g->groups, kernel->channels);
  const long problems = g->n * g->groups * l.blocks, wanted = JOBS_PER_THREAD * threads;
  l.row_jobs = problems >= wanted ? 1 : min_l(g->oh, ceil_div(wanted, problems));
  l.row_chunk = ceil_div(g->oh, l.row_jobs);
  l.row_jobs = ceil_div(g->oh, l.row_chunk);
  return l;
}

static size_t shared_bytes(const conv_geometry_t *g, const channel_layout_t *l) {
  const long kg = g->c / g->groups * g->kh * g->kw;
  return round_up((size_t)kg * sizeof(long)) + floats_bytes((size_t)(g->n * l->p.image_floats));
}

static size_t tile_floats(void) { return (size_t)(kernel->channel_positions * kernel->channels); }

/* Reduction steps packed at a time. */
static long chunk_steps(long kg) { return kg <= WHOLE_STEPS ? kg : CHANNEL_CHUNK; }

static size_t thread_bytes(const conv_geometry_t *g) {
  const long kg = g->c / g->groups * g->kh * g->kw;
  return floats_bytes((size_t)(chunk_steps(kg) * kernel->channels)) + floats_bytes(BAND_TILES * tile_floats());
}

size_t conv_channels_workspace(const conv_geometry_t *g, int threads) {
  const channel_layout_t l = layout(g, threads);
  return shared_bytes(g, &l) + (size_t)threads * thread_bytes(g);
}

typedef struct {
  const conv_geometry_t *g;
  channel_layout_t l;
  const float *x, *w;
  const conv_epilogue_t *e;
  const long *offsets;
  float *xpad, *y;
  /* Channels per padding job. */
  long pad_run;
} channels_t;

/* Steps [0, k) of filters [0, on) of w (rows row_stride apart), k-major and zero-padded to the tile's channels: packed[j * channels + o]. */
static void pack_filters(const float *w, long row_stride, long k, long on, float *packed) {
  const int channels = kernel->channels;
  if (kernel->channel_pack != NULL) {
    kernel->channel_pack(w, row_stride, k, on, packed);
    return;
  }
  for (long o = 0; o < channels; o++) {
    for (long j = 0; j < k; j++) packed[j * channels + o] = o < on ? w[o * row_stride + j] : 0.0f;
  }
}

/* Filters [0, filters) of a tile (rows x cols positions, channels each) to `out`: the portable loop. */
static void store_tile(const float *tile, int rows, int cols, long filters, const channel_out_t *out) {
  const int channels = kernel->channels;
  for (long o = 0; o < filters; o++) {
    const float b = out->bias == NULL ? 0.0f : out->bias[o], s = out->scale == NULL ? 1.0f : out->scale[o];
    for (int r = 0; r < rows; r++) {
      const long at = o * out->plane + r * out->row_stride;
      const float *src = tile + r * cols * channels + o;
      /* As epilogue_run computes it: NaN stays NaN through the ReLU, and a scale of 1 leaves the sum exact. */
      for (int c = 0; c < cols; c++) {
        const float v = src[c * channels] * s + b + (out->residual == NULL ? 0.0f : out->residual[at + c]);
        out->y[at + c] = out->relu && v < 0 ? 0.0f : v;
      }
    }
  }
}

/* Where a tile of a job lies: its first output row and column, and its rows and columns. */
typedef struct {
  long oy, ox;
  int rows, cols;
} tile_at_t;

/* The tiles of output rows [*oy, oy1) from column *ox on, BAND_TILES at most, to `band`; *oy and *ox move past them. */
static int next_band(const conv_geometry_t *g, long *oy, long *ox, long oy1, tile_at_t *band) {
  const long most = kernel->channel_positions;
  int count = 0;
  while (count < BAND_TILES && *oy < oy1) {
    /* Rows narrower than half a tile go two at a time (ResNet's 7 x 7: 14 positions a tile, not 7). */
    const int rows = 2 * g->ow <= most && *oy + 1 < oy1 ? 2 : 1;
    band[count++] = (tile_at_t){*oy, *ox, rows, (int)min_l(most, g->ow - *ox)};
    *ox += most;
    if (*ox >= g->ow) {
      *ox = 0;
      *oy += rows;
    }
  }
  return count;
}

/* Tile t of a band's share of the filters' next chunk (at `next`, rows kg apart): one line every few of the chunk's kn steps. */
static tile_prefetch_t next_weights(const float *next, long kg, long on, int t, int tiles, long kn) {
  const long r0 = t * on / tiles, r1 = (t + 1) * on / tiles, lines = (r1 - r0) << CHUNK_LINES_LOG2;
  return (tile_prefetch_t){(const char *)(next + r0 * kg), kg * (long)sizeof(float), lines, lines == 0 ? 1 : (kn + lines - 1) / lines, CHUNK_LINES_LOG2};
}

/* The tile's own rows of y, which its band writes after this chunk: 2 lines a filter (its positions span at most 56 bytes, at any alignment). */
static tile_prefetch_t own_outputs(const channels_t *d, long n, long first, const tile_at_t *at, long on, long kn) {
  const conv_geometry_t *g = d->g;
  const float *y = d->y + ((n * g->o + first) * g->oh + at->oy) * g->ow + at->ox;
  const long lines = 2 * on;
  return (tile_prefetch_t){(const char *)((uintptr_t)y & ~(uintptr_t)63), g->oh * g->ow * (long)sizeof(float), lines, (kn + lines - 1) / lines, 1};
}

static void compute_job(void *arg, int tid, long job, float *ws) {
  const channels_t *d = arg;
  const conv_geometry_t *g = d->g;
  const long og = g->o / g->groups, cg = g->c / g->groups, kg = cg * g->kh * g->kw;
  const long rowj = job % d->l.row_jobs, problem = job / d->l.row_jobs;
  const long block = problem % d->l.blocks, group = problem / d->l.blocks % g->groups, n = problem / d->l.blocks / g->groups;
  const long o0 = block * kernel->channels, on = min_l(kernel->channels, og - o0);
  const long oy1 = min_l(g->oh, (rowj + 1) * d->l.row_chunk);
  const long chunk = chunk_steps(kg);
  float *packed = ws, *sums = ws + floats_bytes((size_t)(chunk * kernel->channels)) / sizeof(float);
  const float *image = d->xpad + n * d->l.p.image_floats + group * cg * d->l.p.plane;
  (void)tid;
  const long first = group * og + o0;
  const conv_epilogue_t *e = d->e;
  channel_out_t out = {NULL, g->oh * g->ow, g->ow, e->scale == NULL ? NULL : e->scale + first, e->bias == NULL ? NULL : e->bias + first, NULL, e->relu};
  tile_at_t band[BAND_TILES];
  long oy = rowj * d->l.row_chunk, ox = 0;
  const float *filters = d->w + first * kg;
  if (chunk == kg) pack_filters(filters, kg, kg, on, packed);
  for (int tiles; (tiles = next_band(g, &oy, &ox, oy1, band)) > 0;) {
    for (long k0 = 0; k0 < kg; k0 += chunk) {
      const long kn = min_l(chunk, kg - k0), next = k0 + chunk;
      if (chunk < kg) pack_filters(filters + k0, kg, kn, on, packed);
      for (int t = 0; t < tiles; t++) {
        const tile_at_t *at = &band[t];
        const tile_prefetch_t prefetch = next < kg ? next_weights(filters + next, kg, on, t, tiles, kn) : own_outputs(d, n, first, at, on, kn);
        kernel->channel_tile(at->rows, at->cols, kn, packed, image + at->oy * d->l.p.wq + at->ox, d->l.p.wq, d->offsets + k0, k0 > 0, &prefetch,
                             sums + t * tile_floats());
      }
    }
    for (int t = 0; t < tiles; t++) {
      const long at = ((n * g->o + first) * g->oh + band[t].oy) * g->ow + band[t].ox;
      out.y = d->y + at;
      out.residual = e->residual == NULL ? NULL : e->residual + at;
      (kernel->channel_store != NULL ? kernel->channel_store : store_tile)(sums + t * tile_floats(), band[t].rows, band[t].cols, on, &out);
    }
  }
}

/*
 * Channels per padding job: a run of them, JOBS_PER_THREAD runs a thread. One job a channel cost
 * more in claims than in copies where channels are small (ResNet's 512 of 7 x 7: 0.05 ms a conv, the
 * two threads taking turns at the claim counter's cache line).
 */
static long pad_run(const conv_geometry_t *g, int threads) { return ceil_div(g->n * g->c, (long)JOBS_PER_THREAD * threads); }

static void pad_job(void *arg, int tid, long job, float *ws) {
  const channels_t *d = arg;
  const conv_geometry_t *g = d->g;
  const long run = d->pad_run, end = min_l(g->n * g->c, (job + 1) * run);
  (void)tid;
  (void)ws;
  for (long j = job * run; j < end; j++) pad_channel(g, &d->l.p, d->x + j * g->h * g->w, d->xpad + j / g->c * d->l.p.image_floats + j % g->c * d->l.p.plane);
}

void conv_channels_forward(context_t *ctx, const conv_geometry_t *g, const float *x, const float *w, const conv_epilogue_t *e, float *y, float *ws) {
  const long kg = g->c / g->groups * g->kh * g->kw;
  channels_t d = {g, layout(g, ctx->threads), x, w, e, NULL, NULL, y};
  long *offsets = (long *)ws;
  tap_offsets(g, &d.l.p, offsets);
  d.offsets = offsets;
  /* A tile reads only its own positions' windows, never the copies' tails (conv_direct.c's panels do). */
  d.xpad = (float *)((char *)ws + round_up((size_t)kg * sizeof(long)));
  const int threads = threads_for(ctx, (double)g->n * g->o * g->oh * g->ow * kg);
  d.pad_run = pad_run(g, threads);
  parallel_jobs(threads, ceil_div(g->n * g->c, d.pad_run), pad_job, &d, NULL, 0);
  parallel_jobs(threads, g->n * g->groups * d.l.blocks * d.l.row_jobs, compute_job, &d, (float *)((char *)ws + shared_bytes(g, &d.l)), thread_bytes(g));
}
