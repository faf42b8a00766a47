/*
 * The portable micro-kernel: a 4 x 8 tile in plain C for CPUs with neither AVX-512 nor AVX2+FMA
 * (or other architectures); the compiler vectorises what its baseline allows. Its sums are
 * rounded after each multiply (no FMA), so its last bits differ from the FMA kernels'.
 */
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

const microkernel_t microkernel_scalar = {"portable C 4x8", MR, NR, run, run_indirect};
