/* Reading a call's arguments in the addon's bindings: typed arrays as pointers, numbers, the context. */
#ifndef NAPI_ARGS_H
#define NAPI_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include "convstack.h"

#define MAX_ARGS 24

/* One call's arguments; `failed` is set (and a JavaScript error thrown) at the first bad one. */
typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
} args_t;

/* Reads the call's arguments; the caller checks `failed`. */
args_t args_read(napi_env env, napi_callback_info info);
/* The data of a typed array (Float32Array or Int32Array), or NULL for null. */
void *args_array(args_t *a, size_t i);
/* An integer argument. */
long args_long(args_t *a, size_t i);
/* A number argument. */
double args_double(args_t *a, size_t i);
/* The context made by createContext, with the global micro-kernel switched to its own. */
context_t *args_context(args_t *a, size_t i);
/* A conv_geometry_t from 14 integer arguments starting at i: n c h w o oh ow kh kw sh sw ph pw groups. */
conv_geometry_t args_conv(args_t *a, size_t i);
/* A pool_geometry_t from 12 integer arguments at i: planes h w oh ow kh kw sh sw ph pw includePad. */
pool_geometry_t args_pool(args_t *a, size_t i);
/* A JavaScript number. */
napi_value number(napi_env env, double v);
/* The workspace bytes a kernel returned, or a thrown error when it could not allocate them. */
napi_value workspace_result(napi_env env, long bytes);

#endif
