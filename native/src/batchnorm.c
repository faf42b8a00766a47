/*
 * Batch normalisation (reference/batchnorm.ts): statistics per channel over N and the spatial
 * positions, two passes in double (mean, then squared deviations), biased variance. One channel
 * per job, summed whole by one thread: the same bits on every thread count.
 */
#include <math.h>
#include "convstack.h"

typedef struct {
  const float *x, *dy, *gamma, *beta, *mean, *inv_std, *variance;
  float *y, *out_mean, *out_inv_std, *dgamma, *dbeta;
  double eps;
  long n, c, spatial;
} bn_t;

#define FOR_CHANNEL(b, ch, ...)                                   \
  for (long i = 0; i < (b)->n; i++) {                             \
    const long start = (i * (b)->c + (ch)) * (b)->spatial;        \
    for (long j = start; j < start + (b)->spatial; j++) __VA_ARGS__   \
  }

static void train_job(void *arg, int tid, long ch, float *ws) {
  const bn_t *b = arg;
  const double count = (double)(b->n * b->spatial);
  double sum = 0, squares = 0;
  (void)tid;
  (void)ws;
  FOR_CHANNEL(b, ch, { sum += b->x[j]; })
  const double mu = sum / count;
  FOR_CHANNEL(b, ch, {
    const double d = b->x[j] - mu;
    squares += d * d;
  })
  const double inv = 1 / sqrt(squares / count + b->eps);
  const double scale = b->gamma[ch] * inv, shift = b->beta[ch];
  FOR_CHANNEL(b, ch, { b->y[j] = (float)((b->x[j] - mu) * scale + shift); })
  b->out_mean[ch] = (float)mu;
  b->out_inv_std[ch] = (float)inv;
}

void batch_norm_train(context_t *ctx, const float *x, const float *gamma, const float *beta, float *y, float *mean, float *inv_std,
                      double eps, long n, long c, long spatial) {
  bn_t b = {x, NULL, gamma, beta, NULL, NULL, NULL, y, mean, inv_std, NULL, NULL, eps, n, c, spatial};
  parallel_jobs(threads_for(ctx, (double)n * c * spatial), c, train_job, &b, NULL, 0);
}

static void grad_job(void *arg, int tid, long ch, float *ws) {
  const bn_t *b = arg;
  const double count = (double)(b->n * b->spatial);
  const double mu = b->mean[ch], inv = b->inv_std[ch];
  double sum_dy = 0, sum_dy_xhat = 0;
  (void)tid;
  (void)ws;
  FOR_CHANNEL(b, ch, {
    sum_dy += b->dy[j];
    sum_dy_xhat += (double)b->dy[j] * ((b->x[j] - mu) * inv);
  })
  const double k = b->gamma[ch] * inv / count;
  FOR_CHANNEL(b, ch, {
    const double xhat = (b->x[j] - mu) * inv;
    b->y[j] = (float)(k * (count * b->dy[j] - sum_dy - xhat * sum_dy_xhat));
  })
  b->dgamma[ch] = (float)sum_dy_xhat;
  b->dbeta[ch] = (float)sum_dy;
}

void batch_norm_grad(context_t *ctx, const float *dy, const float *x, const float *gamma, const float *mean, const float *inv_std,
                     float *dx, float *dgamma, float *dbeta, long n, long c, long spatial) {
  bn_t b = {x, dy, gamma, NULL, mean, inv_std, NULL, dx, NULL, NULL, dgamma, dbeta, 0, n, c, spatial};
  parallel_jobs(threads_for(ctx, (double)n * c * spatial), c, grad_job, &b, NULL, 0);
}

static void infer_job(void *arg, int tid, long ch, float *ws) {
  const bn_t *b = arg;
  const double scale = b->gamma[ch] / sqrt((double)b->variance[ch] + b->eps);
  const double mu = b->mean[ch], shift = b->beta[ch];
  (void)tid;
  (void)ws;
  FOR_CHANNEL(b, ch, { b->y[j] = (float)((b->x[j] - mu) * scale + shift); })
}

void batch_norm_infer(context_t *ctx, const float *x, const float *gamma, const float *beta, const float *mean, const float *variance,
                      double eps, float *y, long n, long c, long spatial) {
  bn_t b = {x, NULL, gamma, beta, mean, NULL, variance, y, NULL, NULL, NULL, NULL, eps, n, c, spatial};
  parallel_jobs(threads_for(ctx, (double)n * c * spatial), c, infer_job, &b, NULL, 0);
}
