/*
 * The machine's fp32 FMA peak, for the bench header: every thread runs chains of independent
 * vector FMAs (12 accumulators, enough to cover the FMA latency on two pipes) for ~40 ms, and the
 * result is the FLOPs done over the wall time. AVX-512 or AVX2, chosen at run time.
 * Prints {"isa", "threads", "gflops1", "gflops"}: one thread alone, then `threads` at once.
 * Built by bench/peak.ts with the system's `cc` (gcc or clang): cc -O2 -pthread fma_peak.c.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12

static volatile float sink;

/* Twelve named accumulators: an array indexed in the loop would stay in memory at -O2. */
#define FMA12(fma, acc, a, b)                                                                     \
  do {                                                                                             \
    acc##0 = fma(acc##0, a, b); acc##1 = fma(acc##1, a, b); acc##2 = fma(acc##2, a, b);          \
    acc##3 = fma(acc##3, a, b); acc##4 = fma(acc##4, a, b); acc##5 = fma(acc##5, a, b);          \
    acc##6 = fma(acc##6, a, b); acc##7 = fma(acc##7, a, b); acc##8 = fma(acc##8, a, b);          \
    acc##9 = fma(acc##9, a, b); acc##10 = fma(acc##10, a, b); acc##11 = fma(acc##11, a, b);      \
  } while (0)
/* Different starting values: equal ones would let the compiler merge the chains into one. */
#define INIT12(set) set(0), v1 = set(1), v2 = set(2), v3 = set(3), v4 = set(4), v5 = set(5), v6 = set(6), \
                    v7 = set(7), v8 = set(8), v9 = set(9), v10 = set(10), v11 = set(11)
#define SUM12(acc) (acc##0 + acc##1 + acc##2 + acc##3 + acc##4 + acc##5 + acc##6 + acc##7 + acc##8 + acc##9 + acc##10 + acc##11)

__attribute__((target("avx512f,fma"))) static void loop512(long iterations) {
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  __m512 v0 = INIT12(_mm512_set1_ps);
  for (long n = 0; n < iterations; n++) FMA12(_mm512_fmadd_ps, v, a, b);
  sink = _mm512_reduce_add_ps(SUM12(v));
}

__attribute__((target("avx2,fma"))) static void loop256(long iterations) {
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  __m256 v0 = INIT12(_mm256_set1_ps);
  for (long n = 0; n < iterations; n++) FMA12(_mm256_fmadd_ps, v, a, b);
  float lanes[8];
  _mm256_storeu_ps(lanes, SUM12(v));
  sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

static int wide;
static long iterations;

static void *work(void *unused) {
  (void)unused;
  if (wide) loop512(iterations);
  else loop256(iterations);
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* GFLOP/s of `threads` threads running `iterations` each; the best of five (the machine is shared). */
static double rate(int threads) {
  pthread_t ids[256];
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, work, NULL);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double flops = 2.0 * CHAINS * (wide ? 16 : 8) * (double)iterations * threads;
    double r = flops / (now() - t0) / 1e9;
    if (r > best) best = r;
  }
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) threads = 1;
  __builtin_cpu_init();
  wide = __builtin_cpu_supports("avx512f");
  if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    printf("{\"isa\": \"none\"}\n");
    return 0;
  }
  /* Calibrate to ~40 ms per run on one thread. */
  iterations = 100000;
  double t0 = now();
  work(NULL);
  double spent = now() - t0;
  iterations = (long)(iterations * 0.04 / (spent > 1e-6 ? spent : 1e-6));
  double one = rate(1);
  printf("{\"isa\": \"%s\", \"threads\": %d, \"gflops1\": %.1f, \"gflops\": %.1f}\n", wide ? "avx512" : "avx2", threads, one, rate(threads));
  return 0;
}
