/*
 * Memory-bound kernels, split over threads by ranges of values (or of channels): relu, reluGrad,
 * add, biasGrad (double sums per channel in 8 lanes), and the SGD update in place
 * (torch.optim.SGD, in float32). Every value is computed by one thread in a fixed order. The loops
 * are vectorised for the CPU (VECTOR_CLONES) through restrict pointers; below ~1M values a kernel
 * runs on the calling thread (threads_for_values).
 */
#include "convstack.h"

/* Values per job: a few tens of microseconds of memory traffic. */
#define RANGE 65536

static long min_l(long a, long b) { return a < b ? a : b; }
static long ceil_div(long a, long b) { return (a + b - 1) / b; }

typedef struct {
  const float *a, *b;
  float *y, *w;
  long n;
  float lr, weight_decay, momentum, one_minus_dampening;
  int first_step, nesterov, kind;
} range_t;

enum { RELU, RELU_GRAD, ADD, SGD_PLAIN, SGD_MOMENTUM };

VECTOR_CLONES static void relu_loop(const float *restrict x, float *restrict y, long n) {
  /* NaN stays NaN (NaN < 0 is false), as the reference keeps it. */
  for (long i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i];
}

VECTOR_CLONES static void relu_grad_loop(const float *restrict dy, const float *restrict y, float *restrict dx, long n) {
  for (long i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}

VECTOR_CLONES static void add_loop(const float *restrict a, const float *restrict b, float *restrict y, long n) {
  for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

VECTOR_CLONES static void sgd_plain_loop(float *restrict w, const float *restrict grad, long n, float lr, float weight_decay) {
  for (long i = 0; i < n; i++) w[i] -= lr * (grad[i] + weight_decay * w[i]);
}

VECTOR_CLONES static void sgd_momentum_loop(float *restrict w, const float *restrict grad, float *restrict buf, long n, float lr, float weight_decay,
                                            float momentum, float keep, int first_step, int nesterov) {
  for (long i = 0; i < n; i++) {
    const float d = grad[i] + weight_decay * w[i];
    const float b = first_step ? d : momentum * buf[i] + keep * d;
    buf[i] = b;
    w[i] -= lr * (nesterov ? d + momentum * b : b);
  }
}

static void range_job(void *arg, int tid, long job, float *ws) {
  const range_t *r = arg;
  const long i0 = job * RANGE, n = min_l(r->n, i0 + RANGE) - i0;
  (void)tid;
  (void)ws;
  switch (r->kind) {
    case RELU:
      relu_loop(r->a + i0, r->y + i0, n);
      break;
    case RELU_GRAD:
      relu_grad_loop(r->a + i0, r->b + i0, r->y + i0, n);
      break;
    case ADD:
      add_loop(r->a + i0, r->b + i0, r->y + i0, n);
      break;
    case SGD_PLAIN:
      sgd_plain_loop(r->w + i0, r->a + i0, n, r->lr, r->weight_decay);
      break;
    default:
      sgd_momentum_loop(r->w + i0, r->a + i0, r->y + i0, n, r->lr, r->weight_decay, r->momentum, r->one_minus_dampening, r->first_step, r->nesterov);
  }
}

static void run_ranges(context_t *ctx, range_t *r) {
  parallel_jobs(threads_for_values(ctx, (double)r->n), ceil_div(r->n, RANGE), range_job, r, NULL, 0);
}

void relu(context_t *ctx, const float *x, float *y, long n) {
  range_t r = {x, NULL, y, NULL, n, 0, 0, 0, 0, 0, 0, RELU};
  run_ranges(ctx, &r);
}

void relu_grad(context_t *ctx, const float *dy, const float *y, float *dx, long n) {
  range_t r = {dy, y, dx, NULL, n, 0, 0, 0, 0, 0, 0, RELU_GRAD};
  run_ranges(ctx, &r);
}

void add(context_t *ctx, const float *a, const float *b, float *y, long n) {
  range_t r = {a, b, y, NULL, n, 0, 0, 0, 0, 0, 0, ADD};
  run_ranges(ctx, &r);
}

void sgd_update(context_t *ctx, float *w, const float *grad, float *buf, long n, float lr, float weight_decay, float momentum,
                float one_minus_dampening, int first_step, int nesterov) {
  range_t r = {grad, NULL, buf, w, n, lr, weight_decay, momentum, one_minus_dampening, first_step, nesterov, buf == NULL ? SGD_PLAIN : SGD_MOMENTUM};
  run_ranges(ctx, &r);
}

typedef struct {
  const float *dy;
  float *db;
  long n, c, rest;
} bias_grad_t;

/* Lanes of a channel's double sum: value j of each image's plane goes to lane j % SUM_LANES, the lanes added in order at the end. */
#define SUM_LANES 8

VECTOR_CLONES static void add_lanes(const float *restrict src, long len, double *restrict lanes) {
  long j = 0;
  for (; j + SUM_LANES <= len; j += SUM_LANES) {
    for (int l = 0; l < SUM_LANES; l++) lanes[l] += src[j + l];
  }
  for (; j < len; j++) lanes[j % SUM_LANES] += src[j];
}

static void bias_grad_job(void *arg, int tid, long ch, float *ws) {
  const bias_grad_t *b = arg;
  double lanes[SUM_LANES] = {0};
  (void)tid;
  (void)ws;
  for (long i = 0; i < b->n; i++) add_lanes(b->dy + (i * b->c + ch) * b->rest, b->rest, lanes);
  double sum = 0;
  for (int l = 0; l < SUM_LANES; l++) sum += lanes[l];
  b->db[ch] = (float)sum;
}

void bias_grad(context_t *ctx, const float *dy, float *db, long n, long c, long rest) {
  bias_grad_t b = {dy, db, n, c, rest};
  parallel_jobs(threads_for_values(ctx, (double)n * c * rest), c, bias_grad_job, &b, NULL, 0);
}
