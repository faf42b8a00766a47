/*
 * The AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators (two vectors of 8 per
 * row); with two B vectors and one broadcast that is 15 of the 16 registers.
 */
#include "convstack.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR 6
#define NR 16

#define ROW(r)                                                   \
  {                                                              \
    __m256 a##r = _mm256_broadcast_ss(a + (r));                  \
    c##r##0 = _mm256_fmadd_ps(a##r, b0, c##r##0);                \
    c##r##1 = _mm256_fmadd_ps(a##r, b1, c##r##1);                \
  }

#define STORE(r)                                                                          \
  {                                                                                       \
    float *row = c + (r) * ldc;                                                           \
    if (accumulate) {                                                                     \
      c##r##0 = _mm256_add_ps(c##r##0, _mm256_loadu_ps(row));                             \
      c##r##1 = _mm256_add_ps(c##r##1, _mm256_loadu_ps(row + 8));                         \
    }                                                                                     \
    _mm256_storeu_ps(row, c##r##0);                                                       \
    _mm256_storeu_ps(row + 8, c##r##1);                                                   \
  }

__attribute__((target("avx2,fma"))) static void run(long kc, const float *a, const float *b, float *c, long ldc, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b);
    __m256 b1 = _mm256_loadu_ps(b + 8);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
    a += MR;
    b += NR;
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

__attribute__((target("avx2,fma"))) static void run_indirect(long kc, const float *a, const float *b, const long *offsets, float *c, long ldc, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long k = 0; k < kc; k++) {
    const float *bk = b + offsets[k];
    __m256 b0 = _mm256_loadu_ps(bk);
    __m256 b1 = _mm256_loadu_ps(bk + 8);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
    a += MR;
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

/* Dot-product tile: 3 rows x 4 columns of 8-lane sums (12 accumulators), 7 loads per 12 FMAs. */
#define DOT_ROWS 3
#define DOT_COLS 4

__attribute__((target("avx2,fma"))) static void dot(long len, const float *const *rows, const float *x, const long *offsets, float *out) {
  __m256 acc[DOT_ROWS][DOT_COLS];
  for (int i = 0; i < DOT_ROWS; i++) {
    for (int j = 0; j < DOT_COLS; j++) acc[i][j] = _mm256_setzero_ps();
  }
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2];
  const float *x0 = x + offsets[0], *x1 = x + offsets[1], *x2 = x + offsets[2], *x3 = x + offsets[3];
  for (long q = 0; q < len; q += 8) {
    const __m256 d0 = _mm256_loadu_ps(r0 + q), d1 = _mm256_loadu_ps(r1 + q), d2 = _mm256_loadu_ps(r2 + q);
#define COLUMN(j)                                         \
  {                                                       \
    const __m256 v = _mm256_loadu_ps(x##j + q);           \
    acc[0][j] = _mm256_fmadd_ps(d0, v, acc[0][j]);        \
    acc[1][j] = _mm256_fmadd_ps(d1, v, acc[1][j]);        \
    acc[2][j] = _mm256_fmadd_ps(d2, v, acc[2][j]);        \
  }
    COLUMN(0) COLUMN(1) COLUMN(2) COLUMN(3)
#undef COLUMN
  }
  float lanes[8];
  for (int i = 0; i < DOT_ROWS; i++) {
    for (int j = 0; j < DOT_COLS; j++) {
      _mm256_storeu_ps(lanes, acc[i][j]);
      out[i * DOT_COLS + j] = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
  }
}

/* Channel tile: 16 filters (two vectors) x up to 6 positions in 12 ymm accumulators, as the 6 x 16 tile transposed. */
#define CHANNELS 16
#define CHANNEL_POSITIONS 6

__attribute__((always_inline, target("avx2,fma"))) static inline void channel_tile_of(const int rows, const int cols, long k, const float *w, const float *x,
                                                                                      long row_stride, const long *offsets, int accumulate,
                                                                                      const tile_prefetch_t *prefetch, float *out) {
  __m256 lo[CHANNEL_POSITIONS], hi[CHANNEL_POSITIONS];
#pragma GCC unroll 6
  for (int i = 0; i < rows * cols; i++) {
    lo[i] = accumulate ? _mm256_loadu_ps(out + i * CHANNELS) : _mm256_setzero_ps();
    hi[i] = accumulate ? _mm256_loadu_ps(out + i * CHANNELS + 8) : _mm256_setzero_ps();
  }
  long next_line = 0;
  for (long j = 0; j < k; j++, w += CHANNELS) {
    tile_prefetch_step(prefetch, j, &next_line);
    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
    const float *xj = x + offsets[j];
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++) {
#pragma GCC unroll 6
      for (int c = 0; c < cols; c++) {
        const __m256 b = _mm256_broadcast_ss(xj + r * row_stride + c);
        lo[r * cols + c] = _mm256_fmadd_ps(b, w0, lo[r * cols + c]);
        hi[r * cols + c] = _mm256_fmadd_ps(b, w1, hi[r * cols + c]);
      }
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < rows * cols; i++) {
    _mm256_storeu_ps(out + i * CHANNELS, lo[i]);
    _mm256_storeu_ps(out + i * CHANNELS + 8, hi[i]);
  }
}

#define CHANNEL_CASE(r, c) \
  case r * 16 + c: channel_tile_of(r, c, k, w, x, row_stride, offsets, accumulate, prefetch, out); return;

__attribute__((target("avx2,fma"))) static void channel_tile(int rows, int cols, long k, const float *w, const float *x, long row_stride, const long *offsets, int accumulate,
                                                             const tile_prefetch_t *prefetch, float *out) {
  switch (rows * 16 + cols) {
    CHANNEL_CASE(1, 1) CHANNEL_CASE(1, 2) CHANNEL_CASE(1, 3) CHANNEL_CASE(1, 4) CHANNEL_CASE(1, 5) CHANNEL_CASE(1, 6)
    CHANNEL_CASE(2, 1) CHANNEL_CASE(2, 2) CHANNEL_CASE(2, 3)
  }
}

const microkernel_t microkernel_avx2 = {"avx2+fma 6x16", MR, NR, run, run_indirect, DOT_ROWS, DOT_COLS, 8, dot, CHANNELS, CHANNEL_POSITIONS, channel_tile};
#else
const microkernel_t microkernel_avx2 = {"avx2+fma 6x16", 6, 16, 0, 0, 3, 4, 8, 0};
#endif
