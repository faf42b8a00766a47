/*
 * The AVX-512 micro-kernel: an 8 x 32 tile of C in 16 zmm accumulators (two vectors of 16 per
 * row), each k step two vector loads of B, eight broadcasts of A and sixteen FMAs. The notes
 * measured ~95% of a core's FMA peak for this tile with the panels in L1.
 */
#include "convstack.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR 8
#define NR 32

#define ROW(r)                                                   \
  {                                                              \
    __m512 a##r = _mm512_set1_ps(a[r]);                          \
    c##r##0 = _mm512_fmadd_ps(a##r, b0, c##r##0);                \
    c##r##1 = _mm512_fmadd_ps(a##r, b1, c##r##1);                \
  }

#define STORE(r)                                                                          \
  {                                                                                       \
    float *row = c + (r) * ldc;                                                           \
    if (accumulate) {                                                                     \
      c##r##0 = _mm512_add_ps(c##r##0, _mm512_loadu_ps(row));                             \
      c##r##1 = _mm512_add_ps(c##r##1, _mm512_loadu_ps(row + 16));                        \
    }                                                                                     \
    _mm512_storeu_ps(row, c##r##0);                                                       \
    _mm512_storeu_ps(row + 16, c##r##1);                                                  \
  }

__attribute__((target("avx512f,fma"))) static void run(long kc, const float *a, const float *b, float *c, long ldc, int accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (long k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(b);
    __m512 b1 = _mm512_loadu_ps(b + 16);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
    a += MR;
    b += NR;
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
}

__attribute__((target("avx512f,fma"))) static void run_indirect(long kc, const float *a, const float *b, const long *offsets, float *c, long ldc, int accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (long k = 0; k < kc; k++) {
    const float *bk = b + offsets[k];
    __m512 b0 = _mm512_loadu_ps(bk);
    __m512 b1 = _mm512_loadu_ps(bk + 16);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
    a += MR;
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
}

/* Dot-product tile: 4 rows x 6 columns of 16-lane sums (24 accumulators), 10 loads per 24 FMAs. */
#define DOT_ROWS 4
#define DOT_COLS 6

__attribute__((target("avx512f,fma"))) static void dot(long len, const float *const *rows, const float *x, const long *offsets, float *out) {
  __m512 acc[DOT_ROWS][DOT_COLS];
  for (int i = 0; i < DOT_ROWS; i++) {
    for (int j = 0; j < DOT_COLS; j++) acc[i][j] = _mm512_setzero_ps();
  }
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2];
  const float *x3 = x + offsets[3], *x4 = x + offsets[4], *x5 = x + offsets[5];
  for (long q = 0; q < len; q += 16) {
    const __m512 d0 = _mm512_loadu_ps(r0 + q), d1 = _mm512_loadu_ps(r1 + q), d2 = _mm512_loadu_ps(r2 + q), d3 = _mm512_loadu_ps(r3 + q);
#define COLUMN(j)                                         \
  {                                                       \
    const __m512 v = _mm512_loadu_ps(x##j + q);           \
    acc[0][j] = _mm512_fmadd_ps(d0, v, acc[0][j]);        \
    acc[1][j] = _mm512_fmadd_ps(d1, v, acc[1][j]);        \
    acc[2][j] = _mm512_fmadd_ps(d2, v, acc[2][j]);        \
    acc[3][j] = _mm512_fmadd_ps(d3, v, acc[3][j]);        \
  }
    COLUMN(0) COLUMN(1) COLUMN(2) COLUMN(3) COLUMN(4) COLUMN(5)
#undef COLUMN
  }
  for (int i = 0; i < DOT_ROWS; i++) {
    for (int j = 0; j < DOT_COLS; j++) out[i * DOT_COLS + j] = _mm512_reduce_add_ps(acc[i][j]);
  }
}

/*
 * Channel tile: 32 filters (two vectors) x up to 14 positions in 28 zmm accumulators; each step two
 * vector loads of the packed weights, one broadcast per position and two FMAs per broadcast.
 */
#define CHANNELS 32
#define CHANNEL_POSITIONS 14

__attribute__((always_inline, target("avx512f,fma"))) static inline void channel_tile_of(const int rows, const int cols, long k, const float *w, const float *x,
                                                                                      long row_stride, const long *offsets, int accumulate,
                                                                                      const tile_prefetch_t *prefetch, float *out) {
  __m512 lo[CHANNEL_POSITIONS], hi[CHANNEL_POSITIONS];
#pragma GCC unroll 14
  for (int i = 0; i < rows * cols; i++) {
    lo[i] = accumulate ? _mm512_loadu_ps(out + i * CHANNELS) : _mm512_setzero_ps();
    hi[i] = accumulate ? _mm512_loadu_ps(out + i * CHANNELS + 16) : _mm512_setzero_ps();
  }
  long next_line = 0;
  for (long j = 0; j < k; j++, w += CHANNELS) {
    tile_prefetch_step(prefetch, j, &next_line);
    const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
    const float *xj = x + offsets[j];
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++) {
#pragma GCC unroll 14
      for (int c = 0; c < cols; c++) {
        const __m512 b = _mm512_set1_ps(xj[r * row_stride + c]);
        lo[r * cols + c] = _mm512_fmadd_ps(b, w0, lo[r * cols + c]);
        hi[r * cols + c] = _mm512_fmadd_ps(b, w1, hi[r * cols + c]);
      }
    }
  }
#pragma GCC unroll 14
  for (int i = 0; i < rows * cols; i++) {
    _mm512_storeu_ps(out + i * CHANNELS, lo[i]);
    _mm512_storeu_ps(out + i * CHANNELS + 16, hi[i]);
  }
}

#define CHANNEL_CASE(r, c) \
  case r * 16 + c: channel_tile_of(r, c, k, w, x, row_stride, offsets, accumulate, prefetch, out); return;

__attribute__((target("avx512f,fma"))) static void channel_tile(int rows, int cols, long k, const float *w, const float *x, long row_stride, const long *offsets, int accumulate,
                                                               const tile_prefetch_t *prefetch, float *out) {
  switch (rows * 16 + cols) {
    CHANNEL_CASE(1, 1) CHANNEL_CASE(1, 2) CHANNEL_CASE(1, 3) CHANNEL_CASE(1, 4) CHANNEL_CASE(1, 5) CHANNEL_CASE(1, 6) CHANNEL_CASE(1, 7)
    CHANNEL_CASE(1, 8) CHANNEL_CASE(1, 9) CHANNEL_CASE(1, 10) CHANNEL_CASE(1, 11) CHANNEL_CASE(1, 12) CHANNEL_CASE(1, 13) CHANNEL_CASE(1, 14)
    CHANNEL_CASE(2, 1) CHANNEL_CASE(2, 2) CHANNEL_CASE(2, 3) CHANNEL_CASE(2, 4) CHANNEL_CASE(2, 5) CHANNEL_CASE(2, 6) CHANNEL_CASE(2, 7)
  }
}

/* Transposes 16 rows of 16 (r[i] = row i) in place: r[j] becomes column j. */
__attribute__((always_inline, target("avx512f"))) static inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  /* Lane l of u[4i + j] now holds rows 4i .. 4i + 3 of column 4l + j. */
  for (int i = 0; i < 4; i++) {
    for (int h = 0; h < 2; h++) {
      const __m512d a = _mm512_castps_pd(t[4 * i + h]), b = _mm512_castps_pd(t[4 * i + h + 2]);
      u[4 * i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      u[4 * i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  }
  for (int j = 0; j < 4; j++) {
    const __m512 even_lo = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88), odd_lo = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);
    const __m512 even_hi = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88), odd_hi = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);
    r[j] = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(even_lo, even_hi, 0xdd);
    r[4 + j] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);
    r[12 + j] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xdd);
  }
}

/*
 * The channel tile's weights: 16 x 16 blocks of filter rows transposed in registers (a scalar copy is
 * one store per value). The tiles of the chunk before asked for these rows (tile_prefetch_t): at
 * batch 1 they come from memory, in 32 interleaved row streams, too many for the hardware prefetcher.
 */
__attribute__((target("avx512f"))) static void channel_pack(const float *w, long row_stride, long k, long filters, float *packed) {
  for (long k0 = 0; k0 < k; k0 += 16) {
    const long steps = k - k0 < 16 ? k - k0 : 16;
    const __mmask16 mask = (__mmask16)((1u << steps) - 1);
    for (int half = 0; half < CHANNELS / 16; half++) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        const long o = half * 16 + i;
        r[i] = o < filters ? _mm512_maskz_loadu_ps(mask, w + o * row_stride + k0) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (long j = 0; j < steps; j++) _mm512_storeu_ps(packed + (k0 + j) * CHANNELS + half * 16, r[j]);
    }
  }
}

/*
 * A channel tile to y: each half of its filters transposed in registers (positions along the vector
 * again), then scaled, biased, ReLU'd and stored one filter row at a time. The scalar loop this
 * replaced cost as much as the sums at K = 64 (ResNet's 1 x 1 shortcut). The same operations in the
 * same order as that loop (a multiply, then an add), so the same bits.
 */
__attribute__((target("avx512f"))) static void channel_store(const float *tile, int rows, int cols, long filters, const channel_out_t *out) {
  const int positions = rows * cols;
  const __mmask16 first = (__mmask16)((1u << cols) - 1), second = rows == 2 ? (__mmask16)(first << cols) : 0;
  for (long half = 0; half * 16 < filters; half++) {
    __m512 r[16];
    for (int i = 0; i < 16; i++) r[i] = i < positions ? _mm512_loadu_ps(tile + i * CHANNELS + half * 16) : _mm512_setzero_ps();
    transpose16(r);
    for (long j = 0; j < 16 && half * 16 + j < filters; j++) {
      const long o = half * 16 + j;
      const __m512 scale = _mm512_set1_ps(out->scale == NULL ? 1.0f : out->scale[o]), bias = _mm512_set1_ps(out->bias == NULL ? 0.0f : out->bias[o]);
      __m512 v = _mm512_add_ps(_mm512_mul_ps(r[j], scale), bias);
      if (out->residual != NULL) {
        const float *residual = out->residual + o * out->plane;
        const __m512 second_row = rows == 2 ? _mm512_maskz_loadu_ps(second, residual + out->row_stride - cols) : _mm512_setzero_ps();
        v = _mm512_add_ps(v, _mm512_mask_blend_ps(second, _mm512_maskz_loadu_ps(first, residual), second_row));
      }
      /* v < 0 is false for NaN and -0: both stay, as in the scalar ReLU. */
      if (out->relu) v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, _mm512_setzero_ps());
      float *dst = out->y + o * out->plane;
      _mm512_mask_storeu_ps(dst, first, v);
      /* The second row's lanes start at cols: masked-off lanes touch no memory. */
      if (rows == 2) _mm512_mask_storeu_ps(dst + out->row_stride - cols, second, v);
    }
  }
}

/* best, or v where v > best or v is NaN: the reference's rule, lane by lane. */
__attribute__((always_inline, target("avx512f"))) static inline __m512 take_max(__m512 best, __m512 v) {
  return _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

/* Lanes [from, to) of 16, clamped. */
static __mmask16 lanes(long from, long to) {
  from = from < 0 ? 0 : from;
  to = to > 16 ? 16 : to;
  return from >= to ? 0 : (__mmask16)(((1u << (to - from)) - 1) << from);
}

/*
 * 16 windows a step, the last step masked: no scalar remainder or edge windows, whose compares
 * branched on the data (ReLU's zeros made ResNet's pool 1.5x slower on the stem's output than on
 * random values). Each window row is loaded as the 33 values its 16 windows span, columns outside
 * the image as -inf (never taken, as the reference skips them), and split into the taps at even
 * and odd columns by permutes. (For 2 x 2 windows, which the image never clips at stride 2 without
 * padding, gcc's vectorised loop in pool.c ran faster.)
 */
__attribute__((target("avx512f"))) static void max_row(int rows, const float *x, long w, long pw, long ow, float *y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i next_even = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  const __m512 none = _mm512_set1_ps(-__builtin_inff());
  for (long ox = 0; ox < ow; ox += 16) {
    /* Columns [first, end) of the values the windows span that lie in the image, from the span's start. */
    const long start = 2 * ox, windows = ow - ox < 16 ? ow - ox : 16, span = 2 * windows + 1;
    const long first = pw - start, end = pw + w - start < span ? pw + w - start : span;
    const __mmask16 in_a = lanes(first, end), in_b = lanes(first - 16, end - 16), in_c = lanes(first - 32, end - 32);
    __m512 best = none;
    for (int r = 0; r < rows; r++) {
      const float *row = x + r * w + start;
      const __m512 a = _mm512_mask_loadu_ps(none, in_a, row), b = _mm512_mask_loadu_ps(none, in_b, row + 16);
      const __m512 at_even = _mm512_permutex2var_ps(a, even, b);
      best = take_max(take_max(best, at_even), _mm512_permutex2var_ps(a, odd, b));
      best = take_max(best, _mm512_permutex2var_ps(at_even, next_even, _mm512_mask_loadu_ps(none, in_c, row + 32)));
    }
    _mm512_mask_storeu_ps(y + ox, lanes(0, windows), best);
  }
}

const microkernel_t microkernel_avx512 = {"avx512 8x32", MR, NR, run, run_indirect, DOT_ROWS, DOT_COLS, 16, dot,
                                          CHANNELS, CHANNEL_POSITIONS, channel_tile, channel_pack, channel_store, max_row};
#else
const microkernel_t microkernel_avx512 = {"avx512 8x32", 8, 32, 0, 0, 4, 6, 16, 0};
#endif
