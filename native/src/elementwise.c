/*
 * Memory-bound kernels, split over threads by ranges of values (or of channels): relu, reluGrad,
 * add, biasGrad (double sums per channel, as the reference), and the SGD update in place
 * (torch.optim.SGD, in float32). Every value is computed by one thread in a fixed order.
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

static void range_job(void *arg, int tid, long job, float *ws) {
  const range_t *r = arg;
  const long i0 = job * RANGE, i1 = min_l(r->n, i0 + RANGE);
  (void)tid;
  (void)ws;
  switch (r->kind) {
    case RELU:
      /* NaN stays NaN (NaN < 0 is false), as the reference keeps it. */
      for (long i = i0; i < i1; i++) r->y[i] = r->a[i] < 0 ? 0.0f : r->a[i];
      break;
    case RELU_GRAD:
      for (long i = i0; i < i1; i++) r->y[i] = r->b[i] > 0 ? r->a[i] : 0.0f;
      break;
    case ADD:
      for (long i = i0; i < i1; i++) r->y[i] = r->a[i] + r->b[i];
      break;
    case SGD_PLAIN:
      for (long i = i0; i < i1; i++) r->w[i] -= r->lr * (r->a[i] + r->weight_decay * r->w[i]);
      break;
    default:
      for (long i = i0; i < i1; i++) {
        const float d = r->a[i] + r->weight_decay * r->w[i];
        const float buf = r->first_step ? d : r->momentum * r->y[i] + r->one_minus_dampening * d;
        r->y[i] = buf;
        r->w[i] -= r->lr * (r->nesterov ? d + r->momentum * buf : buf);
      }
  }
}

static void run_ranges(context_t *ctx, range_t *r) {
  parallel_jobs(threads_for(ctx, (double)r->n), ceil_div(r->n, RANGE), range_job, r, NULL, 0);
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

static void bias_grad_job(void *arg, int tid, long ch, float *ws) {
  const bias_grad_t *b = arg;
  double sum = 0;
  (void)tid;
  (void)ws;
  for (long i = 0; i < b->n; i++) {
    const float *src = b->dy + (i * b->c + ch) * b->rest;
    for (long j = 0; j < b->rest; j++) sum += src[j];
  }
  b->db[ch] = (float)sum;
}

void bias_grad(context_t *ctx, const float *dy, float *db, long n, long c, long rest) {
  bias_grad_t b = {dy, db, n, c, rest};
  parallel_jobs(threads_for(ctx, (double)n * c * rest), c, bias_grad_job, &b, NULL, 0);
}
