/*
 * zstd decoding on libuv worker threads, into a buffer the caller owns:
 * - zstdDecompressInto(input, output) -> Promise<number>: decodes the zstd frame(s) of
 *   `input` into `output` (never past its end) and resolves to the bytes written;
 * - zstdLibraryVersion() -> string | null: the version of the zstd library in use
 *   ("1.5.4"), or null when none could be loaded (then zstdDecompressInto throws).
 *
 * The decoder is the reference zstd library itself, libzstd, as the system ships it
 * (libzstd.so.1 on Linux: a dependency of the package manager, systemd, curl, so
 * nearly always present), opened with dlopen at the first call. Nothing of zstd is
 * compiled here and no zstd header is needed: the few functions called are declared
 * below as libzstd's stable API (zstd.h, unchanged since 1.3) defines them.
 *
 * Why not the npm bindings: @mongodb-js/zstd 1.2.2 (and @toondepauw/node-zstd 2.0.0)
 * decode through the Rust crate's streaming reader into a growing Vec, about 0.37 GB/s
 * here on a 400 KB page where libzstd's one-shot ZSTD_decompressDCtx makes ~1.1 GB/s,
 * and the result is a fresh buffer that must be copied into the column; zstd-napi has
 * the one-shot call but compiles all of zstd (144 s) at every install and decodes on
 * the JavaScript thread only. Without libzstd, tensio keeps using @mongodb-js/zstd.
 *
 * Bounds: ZSTD_decompressDCtx never writes past dstCapacity (a frame declaring more
 * fails with "Destination buffer is too small" before decoding), and a flat output
 * buffer needs no window allocation, so a hostile frame costs at most the decoder
 * context (about 100 KiB, one per worker thread, kept for the process's life).
 */
#include <node_api.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tensio_buffer_job.h"
#include "tensio_zstd.h"

/* libzstd's API as zstd.h declares it (ZSTD_DCtx is opaque). */
typedef struct zstd_dctx zstd_dctx;
typedef zstd_dctx *(*create_dctx_fn)(void);
typedef size_t (*decompress_dctx_fn)(zstd_dctx *dctx, void *dst, size_t dst_capacity, const void *src, size_t src_size);
typedef unsigned (*is_error_fn)(size_t code);
typedef const char *(*error_name_fn)(size_t code);
typedef unsigned (*version_number_fn)(void);

static struct {
  void *handle;
  create_dctx_fn create_dctx;
  decompress_dctx_fn decompress_dctx;
  is_error_fn is_error;
  error_name_fn error_name;
  unsigned version;
} zstd;

/* Versions before 1.4.0 predate the current stable decoder API and its fixes. */
#define ZSTD_OLDEST_VERSION 10400

/* Opens libzstd and fills the table (once per process, see zstd_load). */
static void zstd_open(void) {
  const char *names[] = {"libzstd.so.1", "libzstd.1.dylib", "libzstd.so"};
  void *handle = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !handle; i++) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!handle) return;
  zstd.create_dctx = (create_dctx_fn)dlsym(handle, "ZSTD_createDCtx");
  zstd.decompress_dctx = (decompress_dctx_fn)dlsym(handle, "ZSTD_decompressDCtx");
  zstd.is_error = (is_error_fn)dlsym(handle, "ZSTD_isError");
  zstd.error_name = (error_name_fn)dlsym(handle, "ZSTD_getErrorName");
  version_number_fn version = (version_number_fn)dlsym(handle, "ZSTD_versionNumber");
  zstd.version = version ? version() : 0;
  if (!zstd.create_dctx || !zstd.decompress_dctx || !zstd.is_error || !zstd.error_name || zstd.version < ZSTD_OLDEST_VERSION) {
    dlclose(handle);
    return;
  }
  zstd.handle = handle;
}

static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;

/*
 * 1 when libzstd is loaded and usable. Both exports call it before any work is queued
 * (so the worker threads only read the table); pthread_once covers JavaScript threads
 * (worker_threads) asking at the same time.
 */
static int zstd_load(void) {
  pthread_once(&zstd_once, zstd_open);
  return zstd.handle != NULL;
}

/* One decoder context per worker thread, made on its first job and reused (never freed: the pool's threads live as long as the process). */
static _Thread_local zstd_dctx *thread_dctx;

/* The work of one job on a libuv worker (tensio_buffer_job.c runs it and settles the promise). */
static const char *decompress_work(const uint8_t *input, size_t input_length, uint8_t *output, size_t output_length, size_t *written) {
  if (!thread_dctx) thread_dctx = zstd.create_dctx();
  if (!thread_dctx) return "out of memory for a zstd decoder context";
  size_t result = zstd.decompress_dctx(thread_dctx, output, output_length, input, input_length);
  if (zstd.is_error(result)) return zstd.error_name(result);
  *written = result;
  return NULL;
}

napi_value tensio_zstd_decompress_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "zstdDecompressInto(input, output) takes two Uint8Arrays");
    return NULL;
  }
  if (!zstd_load()) {
    napi_throw_error(env, "ENOSYS", "zstdDecompressInto: no zstd library (libzstd.so.1) could be loaded");
    return NULL;
  }
  return tensio_queue_buffer_job(env, argv[0], argv[1], decompress_work, TENSIO_RESOLVE_WRITTEN, "zstdDecompressInto");
}

napi_value tensio_zstd_library_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (!zstd_load()) {
    napi_get_null(env, &result);
    return result;
  }
  char text[32];
  snprintf(text, sizeof text, "%u.%u.%u", zstd.version / 10000, zstd.version / 100 % 100, zstd.version % 100);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}
