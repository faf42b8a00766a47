/* Argument reading for the addon's bindings (napi_args.h). */
#include <stdio.h>
#include "napi_args.h"

static void fail(args_t *a, size_t i, const char *what) {
  char message[96];
  if (a->failed) return;
  snprintf(message, sizeof message, "convstack native: argument %zu: expected %s", i, what);
  napi_throw_type_error(a->env, NULL, message);
  a->failed = 1;
}

args_t args_read(napi_env env, napi_callback_info info) {
  args_t a;
  a.env = env;
  a.argc = MAX_ARGS;
  a.failed = napi_get_cb_info(env, info, &a.argc, a.argv, NULL, NULL) != napi_ok;
  return a;
}

void *args_array(args_t *a, size_t i) {
  napi_valuetype type;
  if (i >= a->argc || napi_typeof(a->env, a->argv[i], &type) != napi_ok) {
    fail(a, i, "a typed array");
    return NULL;
  }
  if (type == napi_null) return NULL;
  napi_typedarray_type kind;
  size_t length;
  void *data = NULL;
  if (napi_get_typedarray_info(a->env, a->argv[i], &kind, &length, &data, NULL, NULL) != napi_ok ||
      (kind != napi_float32_array && kind != napi_int32_array)) {
    fail(a, i, "a Float32Array or Int32Array");
    return NULL;
  }
  return data;
}

long args_long(args_t *a, size_t i) {
  int64_t v = 0;
  if (i >= a->argc || napi_get_value_int64(a->env, a->argv[i], &v) != napi_ok) fail(a, i, "an integer");
  return (long)v;
}

double args_double(args_t *a, size_t i) {
  double v = 0;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) fail(a, i, "a number");
  return v;
}

context_t *args_context(args_t *a, size_t i) {
  void *ctx = NULL;
  if (i >= a->argc || napi_get_value_external(a->env, a->argv[i], &ctx) != napi_ok || ctx == NULL) {
    fail(a, i, "a context from createContext");
    return NULL;
  }
  kernel = ((context_t *)ctx)->kernel;
  return ctx;
}

conv_geometry_t args_conv(args_t *a, size_t i) {
  conv_geometry_t g = {
      args_long(a, i),      args_long(a, i + 1),  args_long(a, i + 2),  args_long(a, i + 3),  args_long(a, i + 4),
      args_long(a, i + 5),  args_long(a, i + 6),  args_long(a, i + 7),  args_long(a, i + 8),  args_long(a, i + 9),
      args_long(a, i + 10), args_long(a, i + 11), args_long(a, i + 12), args_long(a, i + 13),
  };
  return g;
}

pool_geometry_t args_pool(args_t *a, size_t i) {
  pool_geometry_t g = {
      args_long(a, i),     args_long(a, i + 1), args_long(a, i + 2), args_long(a, i + 3),  args_long(a, i + 4),  args_long(a, i + 5),
      args_long(a, i + 6), args_long(a, i + 7), args_long(a, i + 8), args_long(a, i + 9), args_long(a, i + 10), (int)args_long(a, i + 11),
  };
  return g;
}

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

napi_value workspace_result(napi_env env, long bytes) {
  if (bytes < 0) {
    napi_throw_range_error(env, NULL, "convstack native: out of memory for the kernel's workspace");
    return NULL;
  }
  return number(env, (double)bytes);
}
