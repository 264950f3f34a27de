/* Parquet's dictionary gather on libuv workers (tensio_gather.c). */
#ifndef TENSIO_GATHER_H
#define TENSIO_GATHER_H

#include <node_api.h>

/* parquetGatherBand(sections, dictionaries, params: Float64Array, out: Uint8Array): Promise<undefined>. */
napi_value tensio_parquet_gather_band(napi_env env, napi_callback_info info);

#endif
