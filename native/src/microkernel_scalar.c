/*
 * The portable micro-kernel: a 4 x 8 tile in plain C for CPUs with neither AVX-512 nor AVX2+FMA
 * (or other architectures); the compiler vectorises what its baseline allows. Its sums are
 * rounded after each multiply (no FMA), so its last bits differ from the FMA kernels'.
 */
#include <string.h>
#include "convstack.h"

#define MR 4
#define NR 8

static void run(long kc, const float *a, const float *b, float *c, long ldc, int accumulate) {
  float acc[MR][NR] = {{0}};
  for (long k = 0; k < kc; k++) {
    for (int r = 0; r < MR; r++) {
      for (int j = 0; j < NR; j++) acc[r][j] += a[r] * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int r = 0; r < MR; r++) {
    for (int j = 0; j < NR; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
  }
}

static void run_indirect(long kc, const float *a, const float *b, const long *offsets, float *c, long ldc, int accumulate) {
  float acc[MR][NR] = {{0}};
  for (long k = 0; k < kc; k++) {
    const float *bk = b + offsets[k];
    for (int r = 0; r < MR; r++) {
      for (int j = 0; j < NR; j++) acc[r][j] += a[r] * bk[j];
    }
    a += MR;
  }
  for (int r = 0; r < MR; r++) {
    for (int j = 0; j < NR; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
  }
}

static void dot(long len, const float *const *rows, const float *x, const long *offsets, float *out) {
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 2; j++) {
      float acc[4] = {0, 0, 0, 0};
      const float *xj = x + offsets[j];
      for (long q = 0; q < len; q += 4) {
        for (int l = 0; l < 4; l++) acc[l] += rows[i][q + l] * xj[q + l];
      }
      out[i * 2 + j] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

/* Channel tile: 8 filters x up to 4 positions, the 4 x 8 tile transposed. */
#define CHANNELS 8
#define CHANNEL_POSITIONS 4

/* The portable tile leaves the prefetching to the hardware. */
static void channel_tile(int rows, int cols, long k, const float *w, const float *x, long row_stride, const long *offsets, int accumulate,
                         const tile_prefetch_t *prefetch, float *out) {
  float acc[CHANNEL_POSITIONS][CHANNELS] = {{0}};
  (void)prefetch;
  if (accumulate) memcpy(acc, out, (size_t)(rows * cols * CHANNELS) * sizeof(float));
  for (long j = 0; j < k; j++, w += CHANNELS) {
    const float *xj = x + offsets[j];
    for (int i = 0; i < rows * cols; i++) {
      const float v = xj[i / cols * row_stride + i % cols];
      for (int o = 0; o < CHANNELS; o++) acc[i][o] += v * w[o];
    }
  }
  for (int i = 0; i < rows * cols; i++) {
    for (int o = 0; o < CHANNELS; o++) out[i * CHANNELS + o] = acc[i][o];
  }
}

const microkernel_t microkernel_scalar = {"portable C 4x8", MR, NR, run, run_indirect, 2, 2, 4, dot, CHANNELS, CHANNEL_POSITIONS, channel_tile};
