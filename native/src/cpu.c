/*
 * Which micro-kernel this CPU runs, chosen once at load time (one binary serves AVX-512 and
 * AVX2-only machines), and a register-only FMA loop that measures the machine's fp32 peak.
 */
#include <string.h>
#include <time.h>
#include "convstack.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define X86 1
#endif

const microkernel_t *kernel = NULL;

static int has_avx512(void) {
#ifdef X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
#else
  return 0;
#endif
}

static int has_avx2_fma(void) {
#ifdef X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

const microkernel_t *cpu_pick_kernel(const char *forced) {
  if (forced != NULL && strcmp(forced, "scalar") == 0) kernel = &microkernel_scalar;
  else if (forced != NULL && strcmp(forced, "avx2") == 0 && has_avx2_fma()) kernel = &microkernel_avx2;
  else if (has_avx512() && microkernel_avx512.run != NULL) kernel = &microkernel_avx512;
  else if (has_avx2_fma() && microkernel_avx2.run != NULL) kernel = &microkernel_avx2;
  else kernel = &microkernel_scalar;
  return kernel;
}

const char *cpu_features(void) {
  static char text[64];
  text[0] = '\0';
  if (has_avx512()) strcat(text, "avx512f ");
  if (has_avx2_fma()) strcat(text, "avx2 fma");
  if (text[0] == '\0') strcat(text, "none");
  return text;
}

/* Iterations of the peak loop per thread: ~50 ms at 100 GFLOP/s per core. */
#define PEAK_ITERATIONS 20000000L
/* Independent FMA chains: latency 4 x 2 pipes needs at least 8 in flight. */
#define CHAINS 12

typedef struct {
  double flops;
  volatile float sink;
} peak_t;

#ifdef X86
__attribute__((target("avx512f,fma"))) static double loop_avx512(float *out) {
  __m512 acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < PEAK_ITERATIONS / 4; it++) {
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  }
  __m512 s = acc[0];
  for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
  *out = _mm512_reduce_add_ps(s);
  return 2.0 * 16 * CHAINS * (double)(PEAK_ITERATIONS / 4);
}

__attribute__((target("avx2,fma"))) static double loop_avx2(float *out) {
  __m256 acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < PEAK_ITERATIONS / 2; it++) {
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  }
  float lanes[8];
  __m256 s = acc[0];
  for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(lanes, s);
  *out = lanes[0] + lanes[7];
  return 2.0 * 8 * CHAINS * (double)(PEAK_ITERATIONS / 2);
}
#endif

static double loop_scalar(float *out) {
  float acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = (float)i;
  for (long it = 0; it < PEAK_ITERATIONS / 16; it++) {
    for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
  }
  *out = acc[0] + acc[CHAINS - 1];
  return 2.0 * CHAINS * (double)(PEAK_ITERATIONS / 16);
}

/* One thread's loop; job 0's flop count is the one each thread does. */
static void peak_job(void *arg, int tid, long job, float *ws) {
  peak_t *p = arg;
  float out = 0;
  double flops;
#ifdef X86
  if (kernel == &microkernel_avx512) flops = loop_avx512(&out);
  else if (kernel == &microkernel_avx2) flops = loop_avx2(&out);
  else flops = loop_scalar(&out);
#else
  flops = loop_scalar(&out);
#endif
  (void)tid;
  (void)ws;
  if (job == 0) p->flops = flops;
  p->sink = out;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double cpu_fma_peak(int threads) {
  peak_t p = {0, 0};
  /* One untimed run wakes the threads and lifts the clock. */
  parallel_jobs(threads, threads, peak_job, &p, NULL, 0);
  double start = now();
  parallel_jobs(threads, threads, peak_job, &p, NULL, 0);
  double seconds = now() - start;
  return p.flops * threads / seconds * 1e-9;
}
