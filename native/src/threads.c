/*
 * The thread pool and the workspace.
 * The pool is convstack's own (pthreads): threads - 1 workers started on first use and kept for the
 * process. A call publishes its jobs, wakes the workers that sleep, and claims jobs itself from the
 * same counter; it then waits only for the jobs some thread has claimed. A worker that is asleep or
 * descheduled by another process when the call starts simply finds no job left, so it never holds
 * the call up (OpenMP's team, which this replaced, waited at its closing barrier for every thread
 * of the team: a time slice, on a shared machine, for each descheduled worker).
 * Workers spin for SPIN_NS after a call before they sleep: waking a sleeping thread costs tens of
 * microseconds, which the kernels of one step would each pay; spinning longer takes the cores from
 * other work.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "convstack.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_NS 100000L
/* Spins of the caller waiting for another thread's job before it yields its core to that thread. */
#define WAIT_SPINS 4096
#define MAX_WORKERS 63

size_t round_up(size_t bytes) { return (bytes + ALIGN - 1) / ALIGN * ALIGN; }

/* Blocks from twice this size on are placed on huge pages where the system offers them (Linux's THP in madvise mode). */
#define HUGE_PAGE (2L << 20)

/*
 * NOTE: a kernel streaming a large tensor through 4 KiB pages misses the TLB once a page: VGG-16's
 * first FC layer (411 MB of weights, read once at batch 1) ran at 13 GB/s on 4 KiB pages, 29 GB/s
 * on 2 MiB pages (2 threads, AMD EPYC).
 */
void *aligned_block(size_t bytes) {
  if (bytes < 2 * HUGE_PAGE) return aligned_alloc(ALIGN, round_up(bytes));
  const size_t whole = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  void *data = aligned_alloc(HUGE_PAGE, whole);
#ifdef MADV_HUGEPAGE
  if (data != NULL) madvise(data, whole, MADV_HUGEPAGE);
#endif
  return data;
}

float *workspace_reserve(context_t *ctx, size_t bytes) {
  if (bytes <= ctx->workspace_bytes) return ctx->workspace;
  free(ctx->workspace);
  ctx->workspace = aligned_block(bytes);
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

/*
 * The task a call publishes. Its fields are written while `generation` is odd and read by a worker
 * once it is even; a worker checks `generation` again after copying them (a late worker may have
 * read the next call's half-written task). `claim` packs the generation (high 32 bits) with the next
 * job index, so a claim succeeds only for the task the worker copied.
 */
typedef struct {
  job_fn fn;
  void *arg;
  float *ws;
  size_t ws_stride;
  long jobs;
  int threads;
} task_t;

static struct {
  task_t task;
  uint64_t claim;
  long completed;
  unsigned generation;
  int sleepers;
  int workers;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  /* One call at a time (Node's worker_threads share the addon): a second caller runs serially. */
  pthread_mutex_t calling;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .calling = PTHREAD_MUTEX_INITIALIZER};

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

static task_t copy_task(void) {
  task_t t;
  t.fn = __atomic_load_n(&pool.task.fn, __ATOMIC_RELAXED);
  t.arg = __atomic_load_n(&pool.task.arg, __ATOMIC_RELAXED);
  t.ws = __atomic_load_n(&pool.task.ws, __ATOMIC_RELAXED);
  t.ws_stride = __atomic_load_n(&pool.task.ws_stride, __ATOMIC_RELAXED);
  t.jobs = __atomic_load_n(&pool.task.jobs, __ATOMIC_RELAXED);
  t.threads = __atomic_load_n(&pool.task.threads, __ATOMIC_RELAXED);
  return t;
}

static void publish_task(const task_t *t) {
  __atomic_store_n(&pool.task.fn, t->fn, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.task.arg, t->arg, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.task.ws, t->ws, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.task.ws_stride, t->ws_stride, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.task.jobs, t->jobs, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.task.threads, t->threads, __ATOMIC_RELAXED);
}

/* Runs jobs of generation g's task until none is left to claim. */
static void run_claims(int tid, unsigned g, const task_t *t) {
  if (tid >= t->threads) return;
  float *ws = t->ws == NULL ? NULL : (float *)((char *)t->ws + (size_t)tid * t->ws_stride);
  uint64_t v = __atomic_load_n(&pool.claim, __ATOMIC_RELAXED);
  for (;;) {
    if ((unsigned)(v >> 32) != g || (long)(v & 0xffffffffu) >= t->jobs) return;
    if (!__atomic_compare_exchange_n(&pool.claim, &v, v + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
    t->fn(t->arg, tid, (long)(v & 0xffffffffu), ws);
    __atomic_fetch_add(&pool.completed, 1, __ATOMIC_RELEASE);
    v = __atomic_load_n(&pool.claim, __ATOMIC_RELAXED);
  }
}

/* A published generation other than `seen`: spun for SPIN_NS, then slept for. */
static unsigned next_generation(unsigned seen) {
  const long deadline = now_ns() + SPIN_NS;
  for (long i = 1;; i++) {
    const unsigned g = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE);
    if (g != seen && g % 2 == 0) return g;
    if (i % 256 == 0 && now_ns() > deadline) break;
    CPU_RELAX();
  }
  pthread_mutex_lock(&pool.lock);
  __atomic_fetch_add(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
  unsigned g;
  while ((g = __atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST)) == seen || g % 2 == 1) pthread_cond_wait(&pool.wake, &pool.lock);
  __atomic_fetch_sub(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&pool.lock);
  return g;
}

static void *worker_main(void *arg) {
  const int tid = (int)(intptr_t)arg;
  unsigned seen = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE);
  for (;;) {
    const unsigned g = next_generation(seen);
    const task_t t = copy_task();
    /* A seqlock's read: the copy is generation g's only if the generation is still g after it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&pool.generation, __ATOMIC_RELAXED) == g) run_claims(tid, g, &t);
    seen = g;
  }
  return NULL;
}

/* Workers 1 .. wanted, started on first need; fewer where the system refuses threads. */
static int ensure_workers(int wanted) {
  if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
  while (pool.workers < wanted) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int failed = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)(pool.workers + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    pool.workers++;
  }
  return pool.workers;
}

static void run_serially(long jobs, job_fn job, void *arg, float *ws) {
  for (long j = 0; j < jobs; j++) job(arg, 0, j, ws);
}

void parallel_jobs(int threads, long jobs, job_fn job, void *arg, float *ws, size_t ws_stride) {
  /* The claim word holds a job index in 32 bits. */
  if (threads <= 1 || jobs <= 1 || jobs > 0x7fffffffL || pthread_mutex_trylock(&pool.calling) != 0) {
    run_serially(jobs, job, arg, ws);
    return;
  }
  const int workers = ensure_workers(threads - 1);
  const task_t t = {job, arg, ws, ws_stride, jobs, workers + 1 < threads ? workers + 1 : threads};
  const unsigned g = pool.generation + 2;
  __atomic_store_n(&pool.generation, g - 1, __ATOMIC_SEQ_CST);
  /* The odd generation is seen before any field of the new task (the seqlock's write side). */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  publish_task(&t);
  __atomic_store_n(&pool.completed, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.claim, (uint64_t)g << 32, __ATOMIC_RELAXED);
  __atomic_store_n(&pool.generation, g, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  run_claims(0, g, &t);
  for (long i = 1; __atomic_load_n(&pool.completed, __ATOMIC_ACQUIRE) < jobs; i++) {
    if (i % WAIT_SPINS == 0) sched_yield();
    else CPU_RELAX();
  }
  pthread_mutex_unlock(&pool.calling);
}
