/* Raw snappy decompression into a caller's buffer on a libuv worker (tensio_snappy.c). */
#ifndef TENSIO_SNAPPY_H
#define TENSIO_SNAPPY_H

#include <node_api.h>

/* snappyUncompressInto(input: Uint8Array, output: Uint8Array): Promise<undefined>. */
napi_value tensio_snappy_uncompress_into(napi_env env, napi_callback_info info);

#endif
