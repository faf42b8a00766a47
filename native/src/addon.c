/*
 * The Node-API addon: one binding per kernel. Tensors arrive as Float32Arrays whose memory the
 * kernels read and write in place (no copies at the boundary); the JavaScript side
 * (src/backends/native/) checks shapes and hands over the sizes. Conv and GEMM bindings return the
 * workspace bytes the call used, for the backend's memory tracker.
 */
#include <stdlib.h>
#include <string.h>
#include "napi_args.h"

#define BINDING(name) static napi_value name(napi_env env, napi_callback_info info)
#define ARGS()                          \
  args_t a = args_read(env, info);      \
  context_t *ctx = args_context(&a, 0); \
  if (a.failed) return NULL;

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  workspace_release(data);
  free(data);
}

static const microkernel_t *kernel_named(const char *name) {
  const microkernel_t *best = cpu_pick_kernel(NULL);
  if (strcmp(name, "avx2") == 0 && best != &microkernel_scalar) return &microkernel_avx2;
  if (strcmp(name, "scalar") == 0) return &microkernel_scalar;
  return best;
}

/* createContext(threads, serialBelow, kernel: 'best' | 'avx2' | 'scalar') */
BINDING(create_context) {
  args_t a = args_read(env, info);
  char name[16] = "best";
  size_t length = 0;
  if (a.argc > 2) napi_get_value_string_utf8(env, a.argv[2], name, sizeof name, &length);
  context_t *ctx = calloc(1, sizeof(context_t));
  if (ctx == NULL) return NULL;
  ctx->threads = (int)args_long(&a, 0);
  ctx->serial_below = args_double(&a, 1);
  ctx->kernel = kernel_named(name);
  if (a.failed || ctx->threads < 1) {
    free(ctx);
    if (!a.failed) napi_throw_range_error(env, NULL, "convstack native: threads must be at least 1");
    return NULL;
  }
  napi_value out;
  napi_create_external(env, ctx, free_context, NULL, &out);
  return out;
}

static void free_block(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* alloc(bytes): an ArrayBuffer over 64-byte-aligned memory, freed when the buffer is collected. */
BINDING(alloc) {
  args_t a = args_read(env, info);
  const long bytes = args_long(&a, 0);
  if (a.failed) return NULL;
  void *data = aligned_block(bytes > 0 ? (size_t)bytes : 1);
  if (data == NULL) {
    napi_throw_range_error(env, NULL, "convstack native: out of memory");
    return NULL;
  }
  napi_value out;
  if (napi_create_external_arraybuffer(env, data, (size_t)bytes, free_block, NULL, &out) != napi_ok) {
    free(data);
    napi_throw_error(env, NULL, "convstack native: cannot wrap memory in an ArrayBuffer");
    return NULL;
  }
  return out;
}

/* conv2d(ctx, x, w, scale | null, bias | null, residual | null, y, relu, ...geometry) */
BINDING(conv2d) {
  ARGS();
  float *x = args_array(&a, 1), *w = args_array(&a, 2), *scale = args_array(&a, 3), *bias = args_array(&a, 4), *residual = args_array(&a, 5);
  float *y = args_array(&a, 6);
  const int relu_flag = (int)args_long(&a, 7);
  conv_geometry_t g = args_conv(&a, 8);
  if (a.failed) return NULL;
  const conv_epilogue_t epilogue = {scale, bias, residual, relu_flag};
  return workspace_result(env, conv_forward(ctx, &g, x, w, &epilogue, y));
}

/* conv2dGradInput(ctx, dy, w, dx, ...geometry) */
BINDING(conv2d_grad_input) {
  ARGS();
  float *dy = args_array(&a, 1), *w = args_array(&a, 2), *dx = args_array(&a, 3);
  conv_geometry_t g = args_conv(&a, 4);
  if (a.failed) return NULL;
  return workspace_result(env, conv_grad_input(ctx, &g, dy, w, dx));
}

/* conv2dGradWeight(ctx, x, dy, dw, ...geometry) */
BINDING(conv2d_grad_weight) {
  ARGS();
  float *x = args_array(&a, 1), *dy = args_array(&a, 2), *dw = args_array(&a, 3);
  conv_geometry_t g = args_conv(&a, 4);
  if (a.failed) return NULL;
  return workspace_result(env, conv_grad_weight(ctx, &g, x, dy, dw));
}

/* linear(ctx, x, w, bias | null, y, n, k, m, relu) */
BINDING(linear) {
  ARGS();
  float *x = args_array(&a, 1), *w = args_array(&a, 2), *bias = args_array(&a, 3), *y = args_array(&a, 4);
  const long n = args_long(&a, 5), k = args_long(&a, 6), m = args_long(&a, 7);
  const int relu_flag = (int)args_long(&a, 8);
  if (a.failed) return NULL;
  return workspace_result(env, linear_forward(ctx, x, w, bias, y, n, k, m, relu_flag));
}

/* linearGradInput(ctx, dy, w, dx, n, k, m) and linearGradWeight(ctx, dy, x, dw, n, k, m) */
BINDING(linear_grad) {
  ARGS();
  float *dy = args_array(&a, 1), *other = args_array(&a, 2), *out = args_array(&a, 3);
  const long n = args_long(&a, 4), k = args_long(&a, 5), m = args_long(&a, 6), weight = args_long(&a, 7);
  if (a.failed) return NULL;
  return workspace_result(env, weight ? linear_grad_weight(ctx, dy, other, out, n, k, m) : linear_grad_input(ctx, dy, other, out, n, k, m));
}

/* maxPool(ctx, x, y, argmax | null (the values alone), ...pool geometry) */
BINDING(max_pool_binding) {
  ARGS();
  float *x = args_array(&a, 1), *y = args_array(&a, 2);
  int32_t *argmax = args_array(&a, 3);
  pool_geometry_t g = args_pool(&a, 4);
  if (a.failed) return NULL;
  max_pool(ctx, &g, x, y, argmax);
  return NULL;
}

/* maxPoolGrad(ctx, dy, argmax, dx, planes, plane, outPerPlane) */
BINDING(max_pool_grad_binding) {
  ARGS();
  float *dy = args_array(&a, 1), *dx = args_array(&a, 3);
  int32_t *argmax = args_array(&a, 2);
  const long planes = args_long(&a, 4), plane = args_long(&a, 5), out_per_plane = args_long(&a, 6);
  if (a.failed) return NULL;
  max_pool_grad(ctx, planes, plane, out_per_plane, dy, argmax, dx);
  return NULL;
}

/* avgPool(ctx, x, y, ...pool geometry) and avgPoolGrad(ctx, dy, dx, ...pool geometry) */
BINDING(avg_pool_binding) {
  ARGS();
  float *in = args_array(&a, 1), *out = args_array(&a, 2);
  pool_geometry_t g = args_pool(&a, 3);
  const long grad = args_long(&a, 15);
  if (a.failed) return NULL;
  if (grad) avg_pool_grad(ctx, &g, in, out);
  else avg_pool(ctx, &g, in, out);
  return NULL;
}

/* elementwise(ctx, op, a, b | null, y, n): op 0 relu(a), 1 reluGrad(dy = a, y = b), 2 add */
BINDING(elementwise) {
  ARGS();
  const long op = args_long(&a, 1);
  float *x = args_array(&a, 2), *b = args_array(&a, 3), *y = args_array(&a, 4);
  const long n = args_long(&a, 5);
  if (a.failed) return NULL;
  if (op == 0) relu(ctx, x, y, n);
  else if (op == 1) relu_grad(ctx, x, b, y, n);
  else add(ctx, x, b, y, n);
  return NULL;
}

/* biasGrad(ctx, dy, db, n, c, rest) */
BINDING(bias_grad_binding) {
  ARGS();
  float *dy = args_array(&a, 1), *db = args_array(&a, 2);
  const long n = args_long(&a, 3), c = args_long(&a, 4), rest = args_long(&a, 5);
  if (a.failed) return NULL;
  bias_grad(ctx, dy, db, n, c, rest);
  return NULL;
}

/* sgdUpdate(ctx, w, grad, buf | null, n, lr, weightDecay, momentum, 1 - dampening, firstStep, nesterov) */
BINDING(sgd_update_binding) {
  ARGS();
  float *w = args_array(&a, 1), *grad = args_array(&a, 2), *buf = args_array(&a, 3);
  const long n = args_long(&a, 4);
  const float lr = (float)args_double(&a, 5), wd = (float)args_double(&a, 6), momentum = (float)args_double(&a, 7);
  const float keep = (float)args_double(&a, 8);
  const int first = (int)args_long(&a, 9), nesterov = (int)args_long(&a, 10);
  if (a.failed) return NULL;
  sgd_update(ctx, w, grad, buf, n, lr, wd, momentum, keep, first, nesterov);
  return NULL;
}

/* Element i of a JavaScript array as a Float32Array's data and length; NULL (length 0) for null; sets *bad otherwise. */
static float *element_f32(napi_env env, napi_value array, uint32_t i, size_t *length, int *bad) {
  napi_value v;
  napi_valuetype type;
  napi_typedarray_type kind;
  void *data = NULL;
  *length = 0;
  if (napi_get_element(env, array, i, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok) {
    *bad = 1;
    return NULL;
  }
  if (type == napi_null) return NULL;
  if (napi_get_typedarray_info(env, v, &kind, length, &data, NULL, NULL) != napi_ok || kind != napi_float32_array) *bad = 1;
  return data;
}

/*
 * sgdUpdateMany(ctx, tensors, first, lr, weightDecay, momentum, 1 - dampening, nesterov): tensors is
 * [w, grad, buf | null] per parameter, first an Int32Array of each parameter's firstStep. One call
 * for the optimizer's whole step; each parameter runs as sgdUpdate (on the calling thread unless it
 * is large).
 */
BINDING(sgd_update_many) {
  ARGS();
  int32_t *first = args_array(&a, 2);
  const float lr = (float)args_double(&a, 3), wd = (float)args_double(&a, 4), momentum = (float)args_double(&a, 5);
  const float keep = (float)args_double(&a, 6);
  const int nesterov = (int)args_long(&a, 7);
  uint32_t length = 0;
  if (a.failed) return NULL;
  if (napi_get_array_length(env, a.argv[1], &length) != napi_ok || length % 3 != 0) {
    napi_throw_type_error(env, NULL, "convstack native: argument 1: expected an array of [w, grad, buf | null] per parameter");
    return NULL;
  }
  for (uint32_t p = 0; p < length / 3; p++) {
    size_t n, grad_n, buf_n;
    int bad = 0;
    float *w = element_f32(env, a.argv[1], 3 * p, &n, &bad), *grad = element_f32(env, a.argv[1], 3 * p + 1, &grad_n, &bad);
    float *buf = element_f32(env, a.argv[1], 3 * p + 2, &buf_n, &bad);
    if (bad || w == NULL || grad == NULL || grad_n != n || (buf != NULL && buf_n != n)) {
      napi_throw_type_error(env, NULL, "convstack native: sgdUpdateMany: each parameter needs w and grad (and buf, or null) as Float32Arrays of one size");
      return NULL;
    }
    sgd_update(ctx, w, grad, buf, (long)n, lr, wd, momentum, keep, first[p], nesterov);
  }
  return NULL;
}

/* batchNormTrain(ctx, x, gamma, beta, y, mean, invStd, eps, n, c, spatial) */
BINDING(batch_norm_train_binding) {
  ARGS();
  float *x = args_array(&a, 1), *gamma = args_array(&a, 2), *beta = args_array(&a, 3), *y = args_array(&a, 4);
  float *mean = args_array(&a, 5), *inv_std = args_array(&a, 6);
  const double eps = args_double(&a, 7);
  const long n = args_long(&a, 8), c = args_long(&a, 9), spatial = args_long(&a, 10);
  if (a.failed) return NULL;
  batch_norm_train(ctx, x, gamma, beta, y, mean, inv_std, eps, n, c, spatial);
  return NULL;
}

/* batchNormGrad(ctx, dy, x, gamma, mean, invStd, dx, dgamma, dbeta, n, c, spatial) */
BINDING(batch_norm_grad_binding) {
  ARGS();
  float *dy = args_array(&a, 1), *x = args_array(&a, 2), *gamma = args_array(&a, 3), *mean = args_array(&a, 4);
  float *inv_std = args_array(&a, 5), *dx = args_array(&a, 6), *dgamma = args_array(&a, 7), *dbeta = args_array(&a, 8);
  const long n = args_long(&a, 9), c = args_long(&a, 10), spatial = args_long(&a, 11);
  if (a.failed) return NULL;
  batch_norm_grad(ctx, dy, x, gamma, mean, inv_std, dx, dgamma, dbeta, n, c, spatial);
  return NULL;
}

/* batchNormInfer(ctx, x, gamma, beta, mean, variance, eps, y, n, c, spatial) */
BINDING(batch_norm_infer_binding) {
  ARGS();
  float *x = args_array(&a, 1), *gamma = args_array(&a, 2), *beta = args_array(&a, 3), *mean = args_array(&a, 4);
  float *variance = args_array(&a, 5), *y = args_array(&a, 7);
  const double eps = args_double(&a, 6);
  const long n = args_long(&a, 8), c = args_long(&a, 9), spatial = args_long(&a, 10);
  if (a.failed) return NULL;
  batch_norm_infer(ctx, x, gamma, beta, mean, variance, eps, y, n, c, spatial);
  return NULL;
}

/* workspace(ctx, kind, ...): kind 0 conv2d, 1 conv2dGradInput, 2 conv2dGradWeight (then 14 geometry
 * integers), 3 GEMM (then m, n, k), 4 linear forward (then n, k, m): the bytes the kernel's call uses
 * on ctx's threads. */
BINDING(workspace) {
  ARGS();
  const long kind = args_long(&a, 1);
  if (kind == 3) {
    const long m = args_long(&a, 2), n = args_long(&a, 3), k = args_long(&a, 4);
    return a.failed ? NULL : number(env, (double)gemm_workspace(m, n, k, ctx->threads));
  }
  if (kind == 4) {
    const long n = args_long(&a, 2), k = args_long(&a, 3), m = args_long(&a, 4);
    return a.failed ? NULL : number(env, (double)linear_forward_workspace(n, k, m, ctx->threads));
  }
  conv_geometry_t g = args_conv(&a, 2);
  if (a.failed) return NULL;
  const size_t bytes = kind == 0 ? conv_forward_workspace(&g, ctx->threads)
                       : kind == 1 ? conv_grad_input_workspace(&g, ctx->threads)
                                   : conv_grad_weight_workspace(&g, ctx->threads);
  return number(env, (double)bytes);
}

/* fmaPeak(ctx): the fp32 FMA peak in GFLOP/s on ctx's threads. */
BINDING(fma_peak) {
  ARGS();
  return number(env, cpu_fma_peak(ctx->threads));
}

/* info(): { kernel, features } for the best micro-kernel of this CPU. */
BINDING(info_binding) {
  (void)info;
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, cpu_pick_kernel(NULL)->name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "kernel", v);
  napi_create_string_utf8(env, cpu_features(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "features", v);
  return out;
}

/* contextKernel(ctx): the name of the micro-kernel ctx runs. */
BINDING(context_kernel) {
  ARGS();
  napi_value out;
  napi_create_string_utf8(env, ctx->kernel->name, NAPI_AUTO_LENGTH, &out);
  return out;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor methods[] = {
      {"createContext", NULL, create_context, NULL, NULL, NULL, napi_default, NULL},
      {"contextKernel", NULL, context_kernel, NULL, NULL, NULL, napi_default, NULL},
      {"alloc", NULL, alloc, NULL, NULL, NULL, napi_default, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dGradInput", NULL, conv2d_grad_input, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dGradWeight", NULL, conv2d_grad_weight, NULL, NULL, NULL, napi_default, NULL},
      {"linear", NULL, linear, NULL, NULL, NULL, napi_default, NULL},
      {"linearGrad", NULL, linear_grad, NULL, NULL, NULL, napi_default, NULL},
      {"maxPool", NULL, max_pool_binding, NULL, NULL, NULL, napi_default, NULL},
      {"maxPoolGrad", NULL, max_pool_grad_binding, NULL, NULL, NULL, napi_default, NULL},
      {"avgPool", NULL, avg_pool_binding, NULL, NULL, NULL, napi_default, NULL},
      {"elementwise", NULL, elementwise, NULL, NULL, NULL, napi_default, NULL},
      {"biasGrad", NULL, bias_grad_binding, NULL, NULL, NULL, napi_default, NULL},
      {"sgdUpdate", NULL, sgd_update_binding, NULL, NULL, NULL, napi_default, NULL},
      {"sgdUpdateMany", NULL, sgd_update_many, NULL, NULL, NULL, napi_default, NULL},
      {"batchNormTrain", NULL, batch_norm_train_binding, NULL, NULL, NULL, napi_default, NULL},
      {"batchNormGrad", NULL, batch_norm_grad_binding, NULL, NULL, NULL, napi_default, NULL},
      {"batchNormInfer", NULL, batch_norm_infer_binding, NULL, NULL, NULL, napi_default, NULL},
      {"workspace", NULL, workspace, NULL, NULL, NULL, napi_default, NULL},
      {"fmaPeak", NULL, fma_peak, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, info_binding, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  cpu_pick_kernel(NULL);
  return exports;
}
