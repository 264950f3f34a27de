/* Raw snappy on libuv workers (tensio_snappy.c). */
#ifndef TENSIO_SNAPPY_H
#define TENSIO_SNAPPY_H

#include <node_api.h>

/* snappyUncompressInto(input: Uint8Array, output: Uint8Array): Promise<undefined>. */
napi_value tensio_snappy_uncompress_into(napi_env env, napi_callback_info info);

/* snappyCompressInto(input, output): Promise<number>, one raw snappy block written into output. */
napi_value tensio_snappy_compress_into(napi_env env, napi_callback_info info);

/* snappyCompressBound(length): the most bytes snappyCompressInto writes for `length` bytes. */
napi_value tensio_snappy_compress_bound(napi_env env, napi_callback_info info);

#endif
