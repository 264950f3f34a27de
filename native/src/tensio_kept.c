/*
 * Freed allocate() mappings kept for reuse: what malloc implementations (jemalloc's
 * decay, mimalloc's delayed purge) do for their large blocks.
 *
 * Why: a read result or a table read's scratch is an anonymous huge-page mapping
 * (tensio_mmap.c, allocate_anonymous). When JavaScript drops it, the mapping used to be
 * unmapped, and the next read of a script that reads files in turn mapped fresh memory
 * and had the kernel zero every 2 MiB page of it again at first touch; on a VM with
 * free-page reporting those pages are often ones the host took back, so the zeroing also
 * takes host faults. A Parquet read in a new process (one read, gc, the read timed) spent
 * 43% of its samples in clear_page under huge-page faults. pyarrow's allocator reuses the
 * memory the last read freed. Kept ranges are resident memory nobody uses, so they are
 * bounded: at most `limit` bytes (1 GiB by default) and KEPT_MAX ranges, and JavaScript
 * trims the ranges kept for a second or more (huge-pages.ts' timer).
 *
 * Threads: finalizers run on the JavaScript thread of the buffer's environment and
 * allocate() on the caller's, and worker threads share this process-wide list, so every
 * access holds `lock`. munmap is called outside it.
 */
#define _GNU_SOURCE
#include "tensio_kept.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

/* Most ranges kept: a whole Parquet read frees a result, an arena and a few dozen 4 MiB slabs. */
#define KEPT_MAX 64

typedef struct {
  char *base;
  size_t total;
  uint64_t kept_at_ms;
} kept_range_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kept_range_t kept[KEPT_MAX]; /* oldest first */
static size_t kept_count;
static size_t kept_bytes;
static size_t limit = (size_t)1 << 30;
static size_t live_buffers;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Removes entry i, keeping the order (oldest first). Caller holds the lock. */
static void remove_at(size_t i) {
  kept_bytes -= kept[i].total;
  for (size_t k = i + 1; k < kept_count; k++) kept[k - 1] = kept[k];
  kept_count--;
}

/*
 * Ranges taken off the list under the lock and unmapped once it is released (munmap of a
 * large range takes a while; other threads' allocate() and finalizers wait for the lock).
 */
typedef struct {
  kept_range_t range[KEPT_MAX + 1];
  size_t count;
} drop_list_t;

/* Moves the oldest kept range to `drop`. Caller holds the lock; kept_count > 0. */
static void drop_oldest(drop_list_t *drop) {
  drop->range[drop->count++] = kept[0];
  remove_at(0);
}

/* Unmaps what `drop` holds. Called without the lock. */
static void unmap_dropped(const drop_list_t *drop) {
  for (size_t i = 0; i < drop->count; i++) munmap(drop->range[i].base, drop->range[i].total);
}

void *tensio_kept_take(size_t total) {
  pthread_mutex_lock(&lock);
  size_t best = kept_count;
  for (size_t i = 0; i < kept_count; i++) {
    if (kept[i].total >= total && (best == kept_count || kept[i].total < kept[best].total)) best = i;
  }
  char *base = NULL;
  if (best < kept_count) {
    base = kept[best].base;
    if (kept[best].total == total) {
      remove_at(best);
    } else {
      /* Hand out the head; the tail (whole 2 MiB pages: both sizes are multiples) stays kept, a range of its own. */
      kept[best].base += total;
      kept[best].total -= total;
      kept_bytes -= total;
    }
    live_buffers++;
  }
  pthread_mutex_unlock(&lock);
  return base;
}

void tensio_kept_note_fresh(void) {
  pthread_mutex_lock(&lock);
  live_buffers++;
  pthread_mutex_unlock(&lock);
}

void tensio_kept_give(void *base, size_t total) {
  /* The evicted ranges and, when it does not fit, this one. */
  drop_list_t drop = {.count = 0};
  pthread_mutex_lock(&lock);
  if (live_buffers > 0) live_buffers--;
  if (total > limit) {
    drop.range[drop.count++] = (kept_range_t){(char *)base, total, 0};
  } else {
    while (kept_count > 0 && (kept_count == KEPT_MAX || kept_bytes + total > limit)) drop_oldest(&drop);
    kept[kept_count++] = (kept_range_t){(char *)base, total, now_ms()};
    kept_bytes += total;
  }
  pthread_mutex_unlock(&lock);
  unmap_dropped(&drop);
}

/* Unmaps the ranges kept since `idle_ms` ago or longer; writes what stays. */
static void trim(uint64_t idle_ms, size_t *bytes, size_t *ranges, size_t *live) {
  drop_list_t drop = {.count = 0};
  uint64_t now = now_ms();
  pthread_mutex_lock(&lock);
  /* Oldest first: the ranges to drop are a prefix. */
  while (kept_count > 0 && now - kept[0].kept_at_ms >= idle_ms) drop_oldest(&drop);
  *bytes = kept_bytes;
  *ranges = kept_count;
  *live = live_buffers;
  pthread_mutex_unlock(&lock);
  unmap_dropped(&drop);
}

napi_value tensio_kept_trim(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double idle = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_double(env, argv[0], &idle) != napi_ok ||
      !(idle >= 0)) {
    napi_throw_type_error(env, "EINVAL", "trimAllocations(idleMs) takes a non-negative number");
    return NULL;
  }
  size_t bytes, ranges, live;
  trim(idle >= 9e15 ? UINT64_MAX : (uint64_t)idle, &bytes, &ranges, &live);
  napi_value result, value;
  if (napi_create_array_with_length(env, 3, &result) != napi_ok) return NULL;
  size_t numbers[3] = {bytes, ranges, live};
  for (uint32_t i = 0; i < 3; i++) {
    if (napi_create_double(env, (double)numbers[i], &value) != napi_ok || napi_set_element(env, result, i, value) != napi_ok) return NULL;
  }
  return result;
}

napi_value tensio_kept_set_limit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_double(env, argv[0], &bytes) != napi_ok ||
      !(bytes >= 0 && bytes <= 9e15)) {
    napi_throw_type_error(env, "EINVAL", "setAllocationCacheLimit(bytes) takes a non-negative safe integer");
    return NULL;
  }
  drop_list_t drop = {.count = 0};
  pthread_mutex_lock(&lock);
  size_t previous = limit;
  limit = (size_t)bytes;
  while (kept_count > 0 && kept_bytes > limit) drop_oldest(&drop);
  pthread_mutex_unlock(&lock);
  unmap_dropped(&drop);
  napi_value result;
  if (napi_create_double(env, (double)previous, &result) != napi_ok) return NULL;
  return result;
}
