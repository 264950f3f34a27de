/* Freed allocate() mappings kept for reuse, a small allocator cache (tensio_kept.c). */
#ifndef TENSIO_KEPT_H
#define TENSIO_KEPT_H

#include <node_api.h>
#include <stddef.h>

/*
 * A kept range of exactly `total` bytes (a multiple of 2 MiB), cut from the smallest kept
 * range that holds it (the rest stays kept), or NULL when none does. Its bytes are stale:
 * the caller zeroes them if it promised zeros. Counts a live buffer when it answers one.
 */
void *tensio_kept_take(size_t total);

/* A fresh range of `total` bytes was handed out: counts a live buffer. */
void tensio_kept_note_fresh(void);

/*
 * A buffer's range is no longer referenced (its finalizer): keeps it for reuse while the
 * kept bytes stay under the limit (the ranges freed longest ago are unmapped to make
 * room), unmaps it otherwise.
 */
void tensio_kept_give(void *base, size_t total);

/*
 * trimAllocations(idleMs) -> [keptBytes, keptRanges, liveBuffers]: unmaps the ranges kept
 * for idleMs or longer (0: all), then answers what is still kept and how many allocate()
 * buffers are alive.
 */
napi_value tensio_kept_trim(napi_env env, napi_callback_info info);

/* setAllocationCacheLimit(bytes) -> the previous limit: most bytes kept (0 keeps nothing). */
napi_value tensio_kept_set_limit(napi_env env, napi_callback_info info);

#endif
