/*
 * The thread pool (OpenMP's team, kept warm by libgomp between calls) and the workspace.
 * NOTE: parallel regions start only from the thread that calls the kernels (Node's main thread):
 * a region opened from a second thread gets a team of its own, libgomp then sees more threads than
 * cores and stops spinning, and every region slows to tens of microseconds. OMP_PROC_BIND is never
 * set: libgomp would pin Node's main thread, and libuv's threads inherit the pin.
 */
#include <stdlib.h>
#include <string.h>
#include "convstack.h"

#ifdef _OPENMP
#include <omp.h>
#endif

size_t round_up(size_t bytes) { return (bytes + ALIGN - 1) / ALIGN * ALIGN; }

float *workspace_reserve(context_t *ctx, size_t bytes) {
  if (bytes <= ctx->workspace_bytes) return ctx->workspace;
  free(ctx->workspace);
  ctx->workspace = aligned_alloc(ALIGN, round_up(bytes));
  ctx->workspace_bytes = ctx->workspace == NULL ? 0 : bytes;
  return ctx->workspace;
}

void workspace_release(context_t *ctx) {
  free(ctx->workspace);
  ctx->workspace = NULL;
  ctx->workspace_bytes = 0;
}

int threads_for(const context_t *ctx, double work) { return work < ctx->serial_below ? 1 : ctx->threads; }

/*
 * NOTE: a memory-bound pass over LeNet's largest tensor (64 x 6 x 28 x 28, 1.2 MB) takes ~30 us on
 * one thread; a second thread saves at most half of that and, on a shared machine, its wake-up and
 * the region's closing barrier cost more (a descheduled worker holds the caller for a time slice).
 */
#define VALUES_PER_MULTIPLY_ADD 16

int threads_for_values(const context_t *ctx, double values) { return threads_for(ctx, values / VALUES_PER_MULTIPLY_ADD); }

void parallel_jobs(int threads, long jobs, job_fn job, void *arg, float *ws, size_t ws_stride) {
  if (threads <= 1 || jobs <= 1) {
    for (long j = 0; j < jobs; j++) job(arg, 0, j, ws);
    return;
  }
#ifdef _OPENMP
  long next = 0;
  int team = threads < jobs ? threads : (int)jobs;
#pragma omp parallel num_threads(team)
  {
    int tid = omp_get_thread_num();
    float *mine = (float *)((char *)ws + (size_t)tid * ws_stride);
    for (;;) {
      long j = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
      if (j >= jobs) break;
      job(arg, tid, j, mine);
    }
  }
#else
  (void)ws_stride;
  for (long j = 0; j < jobs; j++) job(arg, 0, j, ws);
#endif
}

void parallel_team(int threads, team_fn body, void *arg) {
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body(arg, omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  body(arg, 0, 1);
}

void team_barrier(void) {
#ifdef _OPENMP
#pragma omp barrier
#endif
}
