/*
 * Fully-connected layers as packed GEMMs (gemm.c), with the operands read through strides so that
 * nothing is transposed ahead: y = x W^T + b, dx = dy W, dW = dy^T x. A convolution whose window
 * covers its whole input (LeNet's C5) runs here too (the JavaScript side routes it).
 */
#include "convstack.h"

long linear_forward(context_t *ctx, const float *x, const float *w, const float *bias, float *y, long n, long k, long m, int relu) {
  bsource_t wt = {pack_b_strided, w, 1, k, NULL};
  return gemm_run(ctx, n, m, k, x, k, 1, wt, y, m, NULL, bias, relu);
}

long linear_grad_input(context_t *ctx, const float *dy, const float *w, float *dx, long n, long k, long m) {
  bsource_t weights = {pack_b_strided, w, k, 1, NULL};
  return gemm_run(ctx, n, k, m, dy, m, 1, weights, dx, k, NULL, NULL, 0);
}

long linear_grad_weight(context_t *ctx, const float *dy, const float *x, float *dw, long n, long k, long m) {
  bsource_t inputs = {pack_b_strided, x, k, 1, NULL};
  return gemm_run(ctx, m, k, n, dy, 1, m, inputs, dw, k, NULL, NULL, 0);
}
