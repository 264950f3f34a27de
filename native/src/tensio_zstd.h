/* zstd decoding through the system's libzstd on libuv workers (tensio_zstd.c). */
#ifndef TENSIO_ZSTD_H
#define TENSIO_ZSTD_H

#include <node_api.h>

/* zstdDecompressInto(input: Uint8Array, output: Uint8Array): Promise<number>, the bytes written. */
napi_value tensio_zstd_decompress_into(napi_env env, napi_callback_info info);

/* zstdLibraryVersion(): the loaded libzstd's version ("1.5.4"), or null when there is none. */
napi_value tensio_zstd_library_version(napi_env env, napi_callback_info info);

#endif
