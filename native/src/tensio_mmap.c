/*
 * tensio_mmap: maps a byte range of an open file and hands it to JavaScript as an
 * external ArrayBuffer. Plain C on node_api.h only (no node-addon-api, no V8 headers),
 * so it builds against any Node >= 18 with the headers Debian's nodejs ships.
 *
 * Rules this file keeps (docs/architecture.md, "Memory-mapped reads"):
 * - The mapping is MAP_PRIVATE with PROT_READ | PROT_WRITE: copy-on-write. JavaScript
 *   may write into a tensor it was given (typed arrays cannot be made read-only); the
 *   write lands in private pages of this process and never reaches the file.
 * - The ArrayBuffer's backing store owns its mapping: it is unmapped when V8 frees the
 *   store (the buffer was garbage collected; a detached buffer's store moves with its
 *   bytes). There is no explicit unmap (a view still held would then point at unmapped
 *   memory and crash the process). By default (hand_out_store_owned) the store is one V8
 *   does not count as external memory (tensio_mmap_v8.cc), charged charge_for() instead;
 *   with TENSIO_MMAP_COUNTED=1, or an addon without its C++ part or run by another Node
 *   major, a Node-API external buffer, counted at its length.
 * - The file's size is checked with fstat() at every map: a range past the current end
 *   is refused (code "ESTALE"), so a file shortened since it was opened is never mapped.
 * - A file shortened *while* mapped makes the kernel raise SIGBUS on the pages past the
 *   new end. A SIGBUS handler looks the address up in a table of live mappings; when it
 *   is one of ours, it maps anonymous zero pages over the rest of that mapping (the
 *   faulting access then reads zeros instead of killing the process) and marks the
 *   mapping as faulted, which JavaScript can ask about (faulted(buffer)). Any other
 *   SIGBUS goes to the handler that was installed before ours, or the default action.
 * - allocate() hands out anonymous, huge-page-advised memory for read results (see there);
 *   it shares the external-ArrayBuffer rules but is not a file mapping.
 * - Trap recorded in ../shared/reference/ecosystem.md section 10: when
 *   napi_create_external_arraybuffer fails, Node has already called the finalizer, so
 *   the failure path must not unmap or free again.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensio_snappy.h"
#include "tensio_gather.h"
#include "tensio_kept.h"
#include "tensio_zstd.h"

/* tensio_mmap_v8.cc; left out (TENSIO_NO_V8_BUFFERS) when no C++ compiler built it: map() then makes Node-API buffers only. */
#ifdef TENSIO_NO_V8_BUFFERS
static int tensio_v8_node_major(void) { return -1; }
static napi_value tensio_v8_store_owned_arraybuffer(napi_env env, void *data, size_t length, void (*release)(void *),
                                                    void *cookie) {
  (void)env;
  (void)data;
  (void)length;
  (void)release;
  (void)cookie;
  return NULL;
}
static void *tensio_v8_hold_store(napi_value arraybuffer) {
  (void)arraybuffer;
  return NULL;
}
static void tensio_v8_drop_store(void *held) { (void)held; }
#else
int tensio_v8_node_major(void);
napi_value tensio_v8_store_owned_arraybuffer(napi_env env, void *data, size_t length, void (*release)(void *), void *cookie);
void *tensio_v8_hold_store(napi_value arraybuffer);
void tensio_v8_drop_store(void *held);
#endif

/* Live mappings the SIGBUS handler can recognise. When the table is full, map() refuses
 * ("EFULL") and JavaScript reads the bytes instead: an unregistered mapping could crash. */
#define SLOT_COUNT 65536

/* One window at most: V8 on Node 20 refuses ArrayBuffers over 2^32 bytes. */
#define MAX_WINDOW_BYTES ((uint64_t)1 << 32)

/* What a mapping is charged to V8's external-memory counter (see charge_for). */
#define CHARGE_FIXED_BYTES ((int64_t)1 << 20)
#define CHARGE_PAGE_TABLE_DIVISOR 512

typedef struct {
  /* Seqlock: odd while a writer changes start/end, so the handler never trusts a torn pair. */
  atomic_uint sequence;
  atomic_uintptr_t start;
  atomic_uintptr_t end;
  atomic_int faulted;
} slot_t;

typedef struct {
  void *base;
  size_t total;
  int slot;
  /* Bytes taken off V8's external-memory counter at map time, given back at unmap (Node-API buffers only). */
  int64_t uncharged;
} mapping_t;

static slot_t slots[SLOT_COUNT];
static atomic_int slots_in_use_high = 0; /* scan bound for the handler */
static int live_mappings = 0;            /* guarded by registry_lock */
/* Lowest slot that may be free (guarded by registry_lock). New mappings take the lowest
 * free slot, so the handler's scan bound stays near the most mappings ever alive at once
 * instead of creeping up to SLOT_COUNT as slots are reused round-robin. */
static int next_free_hint = 0;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong fault_count = 0;
static struct sigaction previous_sigbus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_installed = 0;
static size_t page_size = 4096;

static void slot_write(int index, uintptr_t start, uintptr_t end) {
  slot_t *slot = &slots[index];
  atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_acq_rel);
  atomic_store_explicit(&slot->start, start, memory_order_relaxed);
  atomic_store_explicit(&slot->end, end, memory_order_relaxed);
  atomic_store_explicit(&slot->faulted, 0, memory_order_relaxed);
  atomic_fetch_add_explicit(&slot->sequence, 1, memory_order_release);
}

/* The slot holding addr, or -1. Safe in a signal handler: atomics only, no locks. */
static int slot_find(uintptr_t addr, uintptr_t *end_out) {
  int high = atomic_load_explicit(&slots_in_use_high, memory_order_acquire);
  for (int i = 0; i < high; i++) {
    slot_t *slot = &slots[i];
    unsigned before = atomic_load_explicit(&slot->sequence, memory_order_acquire);
    if (before & 1u) continue;
    uintptr_t start = atomic_load_explicit(&slot->start, memory_order_relaxed);
    uintptr_t end = atomic_load_explicit(&slot->end, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    unsigned after = atomic_load_explicit(&slot->sequence, memory_order_relaxed);
    if (before != after || end == 0) continue;
    if (addr >= start && addr < end) {
      if (end_out) *end_out = end;
      return i;
    }
  }
  return -1;
}

static void on_sigbus(int signal_number, siginfo_t *info, void *context) {
  int saved_errno = errno;
  uintptr_t addr = (uintptr_t)info->si_addr;
  uintptr_t end = 0;
  int index = slot_find(addr, &end);
  if (index >= 0) {
    uintptr_t page = addr & ~(uintptr_t)(page_size - 1);
    /* Zero pages over the rest of the mapping: one signal per truncation, not one per page. */
    void *replaced = mmap((void *)page, end - page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (replaced != MAP_FAILED) {
      atomic_store_explicit(&slots[index].faulted, 1, memory_order_release);
      atomic_fetch_add_explicit(&fault_count, 1, memory_order_release);
      errno = saved_errno;
      return;
    }
  }
  errno = saved_errno;
  /* Not ours (or the repair failed): behave as if this handler did not exist. */
  if ((previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_sigaction) {
    previous_sigbus.sa_sigaction(signal_number, info, context);
    return;
  }
  if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(signal_number);
    return;
  }
  /* Default action: restore it; the faulting instruction runs again and the kernel kills. */
  signal(SIGBUS, SIG_DFL);
}

static void install_handler(void) {
  long size = sysconf(_SC_PAGESIZE);
  if (size > 0) page_size = (size_t)size;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  handler_installed = sigaction(SIGBUS, &action, &previous_sigbus) == 0;
}

/* Registers [start, end) and returns its slot, or -1 when the table is full. */
static int registry_add(uintptr_t start, uintptr_t end) {
  pthread_mutex_lock(&registry_lock);
  int found = -1;
  for (int n = 0; n < SLOT_COUNT; n++) {
    int i = next_free_hint + n;
    if (i >= SLOT_COUNT) break;
    if (atomic_load_explicit(&slots[i].end, memory_order_relaxed) == 0) {
      found = i;
      break;
    }
  }
  if (found >= 0) {
    slot_write(found, start, end);
    next_free_hint = found + 1;
    live_mappings++;
    if (found + 1 > atomic_load_explicit(&slots_in_use_high, memory_order_relaxed)) {
      atomic_store_explicit(&slots_in_use_high, found + 1, memory_order_release);
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return found;
}

static void registry_remove(int index) {
  pthread_mutex_lock(&registry_lock);
  slot_write(index, 0, 0);
  live_mappings--;
  if (index < next_free_hint) next_free_hint = index;
  pthread_mutex_unlock(&registry_lock);
}

/*
 * V8 counts an external ArrayBuffer's whole length as external memory and starts a
 * garbage collection (incremental marking) for every ~64 MiB of new external memory. A
 * mapping of a cached file is not private memory: its pages belong to the page cache and
 * are reclaimable. What it does cost is a kernel mapping (the map count is limited) and,
 * once touched, page tables (8 bytes per 4 KiB page). So a mapping is charged 1 MiB plus
 * its page tables: reading 1 GiB as 64 tensors costs about one collection instead of 16,
 * and unreferenced mappings still cannot pile up (about 64 of them start a collection).
 */
static int64_t charge_for(int64_t length) {
  int64_t fixed = length < CHARGE_FIXED_BYTES ? length : CHARGE_FIXED_BYTES;
  int64_t charge = fixed + length / CHARGE_PAGE_TABLE_DIVISOR;
  return charge < length ? charge : length;
}

/*
 * What collected mappings still owe V8's external-memory counter, per Node environment
 * (each worker has its own isolate and counter). V8's sweeper subtracts a collected
 * buffer's full length, so what map() took off must be added back. Adding it back in
 * each finalizer made every few finalizers cross V8's external-memory limit (reset low
 * by the collection) and start another collection: about seven per 64 tensors dropped.
 * The debt is paid in one adjustment at the next map() or stats() instead: at most one.
 */
typedef struct {
  int64_t owed;
  /* JavaScript's markAsUntransferable, given by setUntransferableMarker(); store-owned buffers are made only once it is. */
  napi_ref marker;
} env_state_t;

static env_state_t *env_state(napi_env env) {
  void *data = NULL;
  return napi_get_instance_data(env, &data) == napi_ok ? (env_state_t *)data : NULL;
}

static void pay_owed(napi_env env) {
  env_state_t *state = env_state(env);
  if (!state || state->owed == 0) return;
  int64_t ignored;
  napi_adjust_external_memory(env, state->owed, &ignored);
  state->owed = 0;
}

static void finalize_env_state(napi_env env, void *data, void *hint) {
  (void)hint;
  env_state_t *state = (env_state_t *)data;
  if (state->marker) napi_delete_reference(env, state->marker);
  free(state);
}

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)data;
  mapping_t *mapping = (mapping_t *)hint;
  if (mapping->uncharged > 0) {
    env_state_t *state = env_state(env);
    int64_t ignored;
    if (state) state->owed += mapping->uncharged;
    else napi_adjust_external_memory(env, mapping->uncharged, &ignored);
  }
  /* Unregister first: once unmapped, the address range may be reused by anyone. */
  registry_remove(mapping->slot);
  munmap(mapping->base, mapping->total);
  free(mapping);
}

/*
 * Release of a mapping handed out as a store-owned buffer (tensio_mmap_v8.cc): called
 * once, when V8 frees the backing store, possibly on a V8 sweeper thread or at isolate
 * teardown, so it touches no Node-API or V8 state: the registry has its own lock, munmap
 * and free are thread-safe. The charge is given back apart (give_back_charge).
 */
static void release_store_owned(void *cookie) {
  mapping_t *mapping = (mapping_t *)cookie;
  /* Unregister first: once unmapped, the address range may be reused by anyone. */
  registry_remove(mapping->slot);
  munmap(mapping->base, mapping->total);
  free(mapping);
}

/*
 * Finalizer on a store-owned buffer's object (the JavaScript thread): gives back what
 * hand_out_store_owned charged, carried in the hint. The object, not the store, carries
 * the charge because only this thread may adjust the counter; a buffer detached by a byte
 * stream gives its charge back when the emptied object is collected, and the bytes' new
 * buffer is then uncharged (a mapping moved through a byte stream is the rare case).
 */
static void give_back_charge(napi_env env, void *data, void *hint) {
  (void)data;
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)(intptr_t)hint, &ignored);
}

/* 1 when this process's Node is the major tensio_mmap_v8.cc was compiled against (its V8 API is then safe to call). */
static int same_node_major(napi_env env) {
  static int same_major = -1;
  if (same_major < 0) {
    const napi_node_version *version = NULL;
    same_major = napi_get_node_version(env, &version) == napi_ok && version && (int)version->major == tensio_v8_node_major();
  }
  return same_major;
}

/* 1 when store-owned buffers may be made now: the same Node major, and TENSIO_MMAP_COUNTED (read at every map) not set. */
static int store_owned_usable(napi_env env) {
  const char *counted = getenv("TENSIO_MMAP_COUNTED");
  return same_node_major(env) && !(counted && *counted && strcmp(counted, "0") != 0);
}

/*
 * The mapping as an ArrayBuffer V8 does not count as external memory and whose backing
 * store unmaps it (tensio_mmap_v8.cc), charged charge_for(length) instead; NULL (nothing
 * created, the caller still owns the mapping) when that is not possible here. Once the
 * buffer exists it is returned whatever else fails: its store owns the mapping from then on.
 */
static napi_value hand_out_store_owned(napi_env env, mapping_t *mapping, size_t delta, size_t length) {
  env_state_t *state = env_state(env);
  napi_value marker = NULL;
  if (!state || !state->marker || napi_get_reference_value(env, state->marker, &marker) != napi_ok || !marker ||
      !store_owned_usable(env)) {
    return NULL;
  }
  napi_value buffer =
      tensio_v8_store_owned_arraybuffer(env, (char *)mapping->base + delta, length, release_store_owned, mapping);
  if (!buffer) return NULL;
  /*
   * Untransferable: postMessage and structuredClone copy it instead of moving its store
   * to another thread, as Node does with its external buffers (moving would be safe, the
   * store owns the mapping; copying keeps both kinds alike). A failure leaves it
   * transferable, nothing worse.
   */
  napi_value global, ignored_result;
  if (napi_get_global(env, &global) != napi_ok ||
      napi_call_function(env, global, marker, 1, &buffer, &ignored_result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored_error;
      napi_get_and_clear_last_exception(env, &ignored_error);
    }
  }
  int64_t charge = charge_for((int64_t)length);
  int64_t ignored;
  if (napi_add_finalizer(env, buffer, NULL, give_back_charge, (void *)(intptr_t)charge, NULL) == napi_ok) {
    napi_adjust_external_memory(env, charge, &ignored);
  }
  return buffer;
}

/* Throws an Error whose `code` JavaScript switches on (ESTALE, EFULL, EINVAL, errno names). */
static napi_value throw_coded(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/*
 * The failure path of napi_create_external_arraybuffer (a runtime that does not allow
 * external buffers, for one): Node has already run the finalizer, so the caller releases
 * nothing. An exception the call left pending is cleared, so the coded "EEXTERNAL" error
 * is the one JavaScript sees.
 */
static napi_value refuse_external(napi_env env, const char *message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return throw_coded(env, "EEXTERNAL", message);
}

static int read_int64(napi_env env, napi_value value, int64_t *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return 0;
  if (!(number >= 0 && number <= 9007199254740991.0) || number != (double)(int64_t)number) return 0;
  *out = (int64_t)number;
  return 1;
}

/*
 * Registers the mapping [base, base + total) with the SIGBUS handler and wraps its bytes
 * [delta, delta + length) as an external ArrayBuffer that unmaps the whole range once,
 * when collected. On any failure the range is unmapped here (or by Node's finalizer) and
 * a coded error is thrown. `total` is page-rounded.
 */
static napi_value hand_out(napi_env env, void *base, size_t total, size_t delta, size_t length) {
  pay_owed(env);
  int slot = registry_add((uintptr_t)base, (uintptr_t)base + total);
  if (slot < 0) {
    munmap(base, total);
    return throw_coded(env, "EFULL", "map: too many live mappings");
  }
  mapping_t *mapping = (mapping_t *)malloc(sizeof *mapping);
  if (!mapping) {
    registry_remove(slot);
    munmap(base, total);
    return throw_coded(env, "ENOMEM", "map: out of memory");
  }
  mapping->base = base;
  mapping->total = total;
  mapping->slot = slot;
  mapping->uncharged = 0;

  napi_value store_owned = hand_out_store_owned(env, mapping, delta, length);
  if (store_owned) return store_owned;

  /*
   * The Node-API buffer, when the store-owned one is not asked for (TENSIO_MMAP_COUNTED=1)
   * or cannot be made (another Node major, no C++ part, no marker).
   * Session 25 (--trace-incremental-marking, 1 GiB maps): V8 11 starts incremental
   * marking ("external memory pressure") at the creation of every buffer over 64 MiB in
   * every variant tried: uncharged after it (as here) or before it, the debt paid apart or
   * in the same adjustment, or in each finalizer. Its limit appears to follow the
   * counter's low-water mark (lowest amount + 64 MiB), so an uncharge made first lowers
   * the limit with the counter. The marking and its finalizing mark-compact (1-4 ms, in a
   * task) are the cost of a large mapping this way; nothing here changes them (the
   * store-owned buffer above does: V8's limit is the lowest amount since the last
   * mark-compact + 64 MiB, ExternalMemoryAccounting::Update, so any uncharge lowers it).
   */
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(env, (char *)base + delta, length, finalize_mapping,
                                                        mapping, &buffer);
  if (status != napi_ok) {
    /* Node already ran finalize_mapping (unmapped and freed): nothing more to release. */
    return refuse_external(env, "map: this runtime refuses external ArrayBuffers");
  }
  int64_t uncharged = (int64_t)length - charge_for((int64_t)length);
  int64_t ignored;
  if (uncharged > 0 && napi_adjust_external_memory(env, -uncharged, &ignored) == napi_ok) mapping->uncharged = uncharged;
  return buffer;
}

/* map(fd, offset, length) -> ArrayBuffer of `length` bytes at `offset` of the file. */
static napi_value map_range(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    return throw_coded(env, "EINVAL", "map(fd, offset, length) takes three numbers");
  }
  int32_t fd;
  int64_t offset, length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || !read_int64(env, argv[1], &offset) ||
      !read_int64(env, argv[2], &length)) {
    return throw_coded(env, "EINVAL", "map: fd, offset and length must be non-negative safe integers");
  }
  if (length == 0 || (uint64_t)length > MAX_WINDOW_BYTES) {
    return throw_coded(env, "EINVAL", "map: length must be between 1 byte and 4 GiB");
  }
  pthread_once(&handler_once, install_handler);
  if (!handler_installed) return throw_coded(env, "ENOHANDLER", "map: could not install the SIGBUS handler");

  struct stat stats;
  if (fstat(fd, &stats) != 0) return throw_coded(env, "EBADF", strerror(errno));
  if (!S_ISREG(stats.st_mode)) return throw_coded(env, "EINVAL", "map: not a regular file");
  if ((uint64_t)stats.st_size < (uint64_t)offset + (uint64_t)length) {
    return throw_coded(env, "ESTALE", "map: the range runs past the file's current end (was the file shortened?)");
  }

  int64_t aligned = offset - offset % (int64_t)page_size;
  size_t delta = (size_t)(offset - aligned);
  size_t total = delta + (size_t)length;
  void *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)aligned);
  if (base == MAP_FAILED) {
    int error = errno;
    return throw_coded(env, error == ENOMEM ? "ENOMEM" : "EMMAP", strerror(error));
  }
  /* The handler must know the whole page-rounded range: the last page's tail faults too. */
  size_t rounded = (total + page_size - 1) & ~(page_size - 1);
  return hand_out(env, base, rounded, delta, (size_t)length);
}

/*
 * allocate(length) -> a zeroed ArrayBuffer of `length` bytes in its own anonymous mapping,
 * 2 MiB-aligned and advised MADV_HUGEPAGE: the memory a read result is written into.
 *
 * Why: with transparent huge pages in "madvise" mode (the common distribution default),
 * fresh memory from malloc is faulted in 4 KiB at a time, and that first touch costs
 * about three times as much as copying the page cache into it. A 2 MiB page is one
 * fault and one zeroing pass per 512 small pages. NumPy advises the same for arrays of
 * 4 MiB and more. The kernel only uses a huge page for a whole aligned 2 MiB range, so
 * the range is over-mapped by 2 MiB, trimmed to an aligned start, and its length rounded
 * up to a whole 2 MiB (the tail would otherwise be small pages).
 *
 * Memory accounting: unlike a file mapping this is private memory. V8 already counts an
 * external ArrayBuffer's byte length as external memory (and takes it off when the buffer
 * is collected); the rounding padding is charged here on top and given back by the
 * finalizer, so the counter sees every byte the mapping can hold.
 *
 * Reuse: a buffer's range is not unmapped when it is collected but kept for the next
 * allocate() (tensio_kept.c, bounded in bytes and time); allocate(length, false) takes
 * such a range as it is (stale bytes: the caller overwrites them all), allocate(length)
 * zeroes the `length` bytes first.
 *
 * Not registered with the SIGBUS handler: anonymous memory cannot be truncated.
 */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)

typedef struct {
  void *base;
  size_t total;
  int64_t padding;
} anonymous_t;

static void finalize_anonymous(napi_env env, void *data, void *hint) {
  (void)data;
  anonymous_t *block = (anonymous_t *)hint;
  int64_t ignored;
  if (block->padding > 0) napi_adjust_external_memory(env, -block->padding, &ignored);
  tensio_kept_give(block->base, block->total);
  free(block);
}

static napi_value hand_out_anonymous(napi_env env, char *base, size_t total, size_t length);

static napi_value allocate_anonymous(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !read_int64(env, argv[0], &length)) {
    return throw_coded(env, "EINVAL", "allocate(length) takes one non-negative safe integer");
  }
  if (length == 0 || (uint64_t)length > MAX_WINDOW_BYTES) {
    return throw_coded(env, "EINVAL", "allocate: length must be between 1 byte and 4 GiB");
  }
  /* Zeroed unless the second argument is false. */
  bool zeroed = true;
  napi_valuetype kind;
  if (argc >= 2 && napi_typeof(env, argv[1], &kind) == napi_ok && kind == napi_boolean) napi_get_value_bool(env, argv[1], &zeroed);
  size_t total = ((size_t)length + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
  char *base = (char *)tensio_kept_take(total);
  if (base) {
    /* Resident already (no fault, no kernel zeroing); only a zeroed request pays a memset. */
    if (zeroed) memset(base, 0, (size_t)length);
    return hand_out_anonymous(env, base, total, (size_t)length);
  }
  size_t reserved = total + HUGE_PAGE_BYTES;
  char *raw = (char *)mmap(NULL, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    int error = errno;
    return throw_coded(env, error == ENOMEM ? "ENOMEM" : "EMMAP", strerror(error));
  }
  /* Trim to a 2 MiB-aligned start: nothing was touched yet, so the trimmed ends cost nothing. */
  base = (char *)(((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
  size_t head = (size_t)(base - raw);
  if (head > 0) munmap(raw, head);
  size_t tail = reserved - head - total;
  if (tail > 0) munmap(base + total, tail);
#ifdef MADV_HUGEPAGE
  /* Advice only: a kernel without THP (or with it off) keeps small pages, still correct. */
  madvise(base, total, MADV_HUGEPAGE);
#endif
  tensio_kept_note_fresh();
  return hand_out_anonymous(env, base, total, (size_t)length);
}

/* Wraps `length` bytes of the range [base, base + total) (fresh or kept) in an external ArrayBuffer that gives the range back when collected. */
static napi_value hand_out_anonymous(napi_env env, char *base, size_t total, size_t length) {
  anonymous_t *block = (anonymous_t *)malloc(sizeof *block);
  if (!block) {
    tensio_kept_give(base, total);
    return throw_coded(env, "ENOMEM", "allocate: out of memory");
  }
  block->base = base;
  block->total = total;
  block->padding = 0;
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, base, (size_t)length, finalize_anonymous, block, &buffer) != napi_ok) {
    /* Node already ran finalize_anonymous (the range given back, the block freed, nothing was charged yet). */
    return refuse_external(env, "allocate: this runtime refuses external ArrayBuffers");
  }
  int64_t padding = (int64_t)(total - (size_t)length);
  int64_t ignored;
  if (padding > 0 && napi_adjust_external_memory(env, padding, &ignored) == napi_ok) block->padding = padding;
  return buffer;
}

/* Most pieces one joined mapping takes (each is one mmap call and one kernel mapping). */
#define MAX_JOINED_PIECES 4096

/*
 * mapJoined([fd0, offset0, length0, fd1, offset1, length1, ...]) -> one ArrayBuffer
 * holding the pieces end to end: NumPack's segment files as one array. One address range
 * is reserved (PROT_NONE) and each piece is mapped into it with MAP_FIXED, private and
 * copy-on-write like map(). A piece can only sit right after the previous one when that
 * boundary falls on a page in memory and on a page in the file: every piece after the
 * first must start at a page-aligned file offset, and every piece before the last must
 * end on a page boundary of the joined range. Otherwise "EALIGN" (the caller reads).
 * On any failure the whole range is unmapped before the error is thrown.
 */
static napi_value map_joined(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_array = false;
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || count == 0 || count % 3 != 0 ||
      count / 3 > MAX_JOINED_PIECES) {
    return throw_coded(env, "EINVAL", "mapJoined takes one array of (fd, offset, length) triples, 1 to 4096 of them");
  }
  size_t pieces = count / 3;
  int32_t *fds = (int32_t *)malloc(pieces * sizeof *fds);
  int64_t *numbers = (int64_t *)malloc(pieces * 2 * sizeof *numbers); /* offset, length per piece */
  if (!fds || !numbers) {
    free(fds);
    free(numbers);
    return throw_coded(env, "ENOMEM", "mapJoined: out of memory");
  }
  const char *code = NULL;
  const char *message = NULL;
  uint64_t total = 0;
  for (size_t i = 0; i < pieces && !code; i++) {
    napi_value value;
    int64_t *offset = &numbers[2 * i], *length = &numbers[2 * i + 1];
    if (napi_get_element(env, argv[0], (uint32_t)(3 * i), &value) != napi_ok || napi_get_value_int32(env, value, &fds[i]) != napi_ok ||
        fds[i] < 0 || napi_get_element(env, argv[0], (uint32_t)(3 * i + 1), &value) != napi_ok || !read_int64(env, value, offset) ||
        napi_get_element(env, argv[0], (uint32_t)(3 * i + 2), &value) != napi_ok || !read_int64(env, value, length) || *length == 0) {
      code = "EINVAL", message = "mapJoined: fds, offsets and lengths must be non-negative safe integers, lengths at least 1";
      break;
    }
    /* Where this piece starts in the joined range: the first one keeps its offset within its page. */
    uint64_t at = i == 0 ? (uint64_t)*offset % page_size : total;
    if (i > 0 && ((uint64_t)*offset % page_size != 0 || at % page_size != 0)) {
      code = "EALIGN", message = "mapJoined: a piece boundary is not on a page boundary in memory and in its file";
      break;
    }
    total = at + (uint64_t)*length;
    if (total > MAX_WINDOW_BYTES) code = "EINVAL", message = "mapJoined: the joined length must be at most 4 GiB";
    struct stat stats;
    if (!code && fstat(fds[i], &stats) != 0) code = "EBADF", message = strerror(errno);
    else if (!code && !S_ISREG(stats.st_mode)) code = "EINVAL", message = "mapJoined: not a regular file";
    else if (!code && (uint64_t)stats.st_size < (uint64_t)*offset + (uint64_t)*length) {
      code = "ESTALE", message = "mapJoined: a range runs past its file's current end (was the file shortened?)";
    }
  }
  if (code) {
    free(fds);
    free(numbers);
    return throw_coded(env, code, message);
  }
  pthread_once(&handler_once, install_handler);
  if (!handler_installed) {
    free(fds);
    free(numbers);
    return throw_coded(env, "ENOHANDLER", "mapJoined: could not install the SIGBUS handler");
  }
  size_t delta = (size_t)((uint64_t)numbers[0] % page_size);
  size_t rounded = ((size_t)total + page_size - 1) & ~(page_size - 1);
  /* Reserve the whole range first, so the pieces land side by side and nothing else lands between. */
  char *base = (char *)mmap(NULL, rounded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    int error = errno;
    free(fds);
    free(numbers);
    return throw_coded(env, error == ENOMEM ? "ENOMEM" : "EMMAP", strerror(error));
  }
  size_t at = 0;
  for (size_t i = 0; i < pieces; i++) {
    size_t lead = i == 0 ? delta : 0;
    size_t span = lead + (size_t)numbers[2 * i + 1];
    void *placed = mmap(base + at, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fds[i], (off_t)(numbers[2 * i] - (int64_t)lead));
    if (placed == MAP_FAILED) {
      int error = errno;
      munmap(base, rounded);
      free(fds);
      free(numbers);
      return throw_coded(env, error == ENOMEM ? "ENOMEM" : "EMMAP", strerror(error));
    }
    at += span;
  }
  free(fds);
  free(numbers);
  return hand_out(env, base, rounded, delta, (size_t)total - delta);
}

/*
 * Mapping a file range INTO a WebAssembly.Memory (zero-copy tensors for wasm code).
 *
 * WebAssembly can only address its own memory, so a tensor for wasm code is normally
 * copied in. mapInto() instead maps the file's pages with MAP_FIXED | MAP_PRIVATE over
 * page-aligned pages the memory already has (committed, inside memory.buffer): wasm then
 * reads the page cache in place, and writes stay copy-on-write private. unmapInto() puts
 * anonymous zero pages back (a fresh wasm page's contents), so the memory stays usable.
 *
 * Why this is safe where it is used (JavaScript only calls it on Linux x64 with V8's
 * default flags): V8 reserves every 32-bit wasm memory's whole address range plus guard
 * regions up front when its trap handler is on, and grows a memory by changing page
 * protections inside that reservation, so the pages never move while the memory lives.
 * The handle keeps a strong reference to the Memory (it cannot be collected, and its
 * reservation freed, while a mapping is in it), and pages are put back only after the
 * memory's current buffer is checked to start at the same address as at map time.
 */
typedef struct {
  uintptr_t start;  /* first mapped page inside the memory */
  size_t total;     /* page-rounded bytes mapped */
  uintptr_t memory_base;
  int slot;
  int released;
  napi_ref memory;  /* strong: keeps the Memory and its reservation alive */
  atomic_int cancel; /* set at release: a populate job over these pages stops at its next window */
} into_t;

/* The backing store address and length of memory.buffer, or 0 when it cannot be read. */
static int memory_buffer_info(napi_env env, napi_value memory, void **data, size_t *length) {
  napi_value buffer;
  bool is_buffer = false;
  if (napi_get_named_property(env, memory, "buffer", &buffer) != napi_ok) return 0;
  if (napi_is_arraybuffer(env, buffer, &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_arraybuffer_info(env, buffer, data, length) == napi_ok && *data != NULL;
}

/* Anonymous zero pages back over the mapping, when the memory provably still owns them. */
static void into_release(napi_env env, into_t *into) {
  if (into->released) return;
  into->released = 1;
  atomic_store_explicit(&into->cancel, 1, memory_order_relaxed);
  napi_value memory;
  void *data = NULL;
  size_t length = 0;
  if (napi_get_reference_value(env, into->memory, &memory) == napi_ok && memory != NULL &&
      memory_buffer_info(env, memory, &data, &length) && (uintptr_t)data == into->memory_base) {
    /* Restoring the pages also drops the SIGBUS exposure, so it comes before unregistering. */
    mmap((void *)into->start, into->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  }
  registry_remove(into->slot);
  napi_delete_reference(env, into->memory);
  into->memory = NULL;
}

static void finalize_into(napi_env env, void *data, void *hint) {
  (void)hint;
  into_t *into = (into_t *)data;
  into_release(env, into);
  free(into);
}

/* mapInto(memory, byteOffset, fd, fileOffset, length) -> handle; offsets page-aligned. */
static napi_value map_into(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    return throw_coded(env, "EINVAL", "mapInto(memory, byteOffset, fd, fileOffset, length) takes five arguments");
  }
  int32_t fd;
  int64_t byte_offset, file_offset, length;
  if (!read_int64(env, argv[1], &byte_offset) || napi_get_value_int32(env, argv[2], &fd) != napi_ok || fd < 0 ||
      !read_int64(env, argv[3], &file_offset) || !read_int64(env, argv[4], &length) || length == 0) {
    return throw_coded(env, "EINVAL", "mapInto: byteOffset, fd, fileOffset and length must be non-negative safe integers, length > 0");
  }
  if (byte_offset % (int64_t)page_size != 0 || file_offset % (int64_t)page_size != 0) {
    return throw_coded(env, "EINVAL", "mapInto: byteOffset and fileOffset must be multiples of the page size");
  }
  void *data = NULL;
  size_t memory_length = 0;
  if (!memory_buffer_info(env, argv[0], &data, &memory_length)) {
    return throw_coded(env, "EINVAL", "mapInto: the first argument must be a WebAssembly.Memory (not shared)");
  }
  uint64_t rounded = ((uint64_t)length + page_size - 1) & ~(uint64_t)(page_size - 1);
  uintptr_t start = (uintptr_t)data + (uintptr_t)byte_offset;
  if ((uintptr_t)data % page_size != 0 || (uint64_t)byte_offset + rounded > (uint64_t)memory_length) {
    return throw_coded(env, "EINVAL", "mapInto: the pages must lie inside the memory's current buffer");
  }
  pthread_once(&handler_once, install_handler);
  if (!handler_installed) return throw_coded(env, "ENOHANDLER", "mapInto: could not install the SIGBUS handler");
  struct stat stats;
  if (fstat(fd, &stats) != 0) return throw_coded(env, "EBADF", strerror(errno));
  if (!S_ISREG(stats.st_mode)) return throw_coded(env, "EINVAL", "mapInto: not a regular file");
  if ((uint64_t)stats.st_size < (uint64_t)file_offset + (uint64_t)length) {
    return throw_coded(env, "ESTALE", "mapInto: the range runs past the file's current end (was the file shortened?)");
  }
  into_t *into = (into_t *)calloc(1, sizeof *into);
  if (!into) return throw_coded(env, "ENOMEM", "mapInto: out of memory");
  /* Registered before mapping: from the first instant, a truncation becomes zero pages. */
  into->slot = registry_add(start, start + (uintptr_t)rounded);
  if (into->slot < 0) {
    free(into);
    return throw_coded(env, "EFULL", "mapInto: too many live mappings");
  }
  void *mapped = mmap((void *)start, (size_t)rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, (off_t)file_offset);
  if (mapped == MAP_FAILED) {
    int error = errno;
    /* A failed MAP_FIXED may have unmapped the old pages: put zero pages back either way. */
    mmap((void *)start, (size_t)rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    registry_remove(into->slot);
    free(into);
    return throw_coded(env, error == ENOMEM ? "ENOMEM" : "EMMAP", strerror(error));
  }
  into->start = start;
  into->total = (size_t)rounded;
  into->memory_base = (uintptr_t)data;
  napi_value handle;
  if (napi_create_reference(env, argv[0], 1, &into->memory) != napi_ok ||
      napi_create_external(env, into, finalize_into, NULL, &handle) != napi_ok) {
    if (into->memory) {
      into_release(env, into);
    } else {
      mmap((void *)start, (size_t)rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      registry_remove(into->slot);
    }
    free(into);
    return throw_coded(env, "EEXTERNAL", "mapInto: could not create the handle");
  }
  return handle;
}

static into_t *into_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return (into_t *)data;
}

/* unmapInto(handle) -> true when this call released it (false when it already was). */
static napi_value unmap_into(napi_env env, napi_callback_info info) {
  into_t *into = into_of(env, info);
  if (!into) return throw_coded(env, "EINVAL", "unmapInto: expects a handle from mapInto");
  int was_live = !into->released;
  into_release(env, into);
  napi_value result;
  napi_get_boolean(env, was_live, &result);
  return result;
}

/* intoFaulted(handle) -> true when a truncation replaced part of that mapping with zeros. */
static napi_value into_faulted(napi_env env, napi_callback_info info) {
  into_t *into = into_of(env, info);
  int faulted = into && !into->released && atomic_load_explicit(&slots[into->slot].faulted, memory_order_acquire);
  napi_value result;
  napi_get_boolean(env, faulted != 0, &result);
  return result;
}

/*
 * baseModulo(memory, modulus) -> the address of memory.buffer's first byte modulo
 * `modulus` (a power of two, at most 1 GiB). JavaScript needs it to place a tensor so
 * that its address and its file offset agree modulo the huge-page size: only then can
 * the kernel map a file's large page-cache folios (2 MiB on ext4 with large folios,
 * tmpfs, XFS) with one page-table entry each instead of 512; mapInto's MAP_FIXED takes
 * the address as given, where mmap(NULL) would have picked an agreeing one itself.
 */
static napi_value base_modulo(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t modulus;
  void *data = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !read_int64(env, argv[1], &modulus) ||
      modulus <= 0 || modulus > ((int64_t)1 << 30) || (modulus & (modulus - 1)) != 0) {
    return throw_coded(env, "EINVAL", "baseModulo(memory, modulus) takes a memory and a power of two up to 1 GiB");
  }
  if (!memory_buffer_info(env, argv[0], &data, &length)) {
    return throw_coded(env, "EINVAL", "baseModulo: the first argument must be a WebAssembly.Memory (not shared)");
  }
  napi_value result;
  napi_create_double(env, (double)((uintptr_t)data & (uintptr_t)(modulus - 1)), &result);
  return result;
}

/*
 * Fault-ahead: populate(target[, cancelFlag]) -> Promise resolving to "populate",
 * "willneed" or "none" (what was done), rejecting with code "EFAULT" when part of the
 * range no longer has a file page behind it (the file was shortened).
 *
 * A consumer that will touch every byte of a mapping pays one page fault per folio on
 * its own thread: a fault per 64 KiB for a file cached in small folios (what small
 * writes leave), per 2 MiB for large ones, and in a VM each fault is an expensive trap.
 * This sets up the page tables instead on a libuv worker thread with MADV_POPULATE_READ
 * (Linux >= 5.14), which costs the worker a fraction of what the faults cost (1 GiB of
 * a small-folio file: 10-16 ms against ~90 ms of faults), then reads a byte of every
 * page (touch_window: the first access still costs the consumer otherwise), and on a
 * machine with a spare core overlaps the consumer's work. It never breaks copy-on-write
 * (pages are mapped read-only until written). Past a truncated file's end the kernel
 * answers EFAULT (nothing is touched there), and the consumer's own touch then meets the
 * SIGBUS handler as before. Older kernels answer EINVAL: the rest is advised
 * MADV_WILLNEED (page-cache read-ahead only).
 *
 * Why backwards: the worker starts when the consumer starts (the read returns at once),
 * at the same first byte, and populating + touching a page costs the worker about what
 * faulting and first-touching it costs the consumer, so a worker going forwards never
 * gets ahead: the consumer catches up with it at once and both take the same pages.
 * Windows are therefore done from the last one back to the first: the consumer takes
 * the front, the worker the back, and they meet where their speeds put them, each page
 * paid for once, by one of them (1 GiB .npy, WebAssembly SIMD sum: 130-143 ms of the
 * consumer's CPU alone, 69-74 ms with the worker). A consumer that does not touch every
 * byte should not ask for it. For cold files it costs nothing either: mapping faults read
 * around the faulting page (not sequential read-ahead) whichever way they go.
 *
 * Jobs run in the order they were asked for, one at a time, on ONE worker: a queue
 * drained by a single async work per environment, so a read-ahead of many tensors does
 * not occupy every thread of libuv's pool (and every core) at once, and needs no turn
 * of the event loop between tensors (a consumer awaiting already-settled promises never
 * gives one). Each job keeps its mapping alive until it is settled, so it cannot be
 * unmapped under the worker: a mapInto() handle by a reference to it (the handle holds
 * the memory), an ArrayBuffer by holding its backing store (`store`), which owns the
 * mapping and follows the bytes when a byte stream detaches the buffer.
 */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* Bytes per madvise call: small enough that a cancel flag takes effect promptly. */
#define POPULATE_WINDOW_BYTES ((size_t)4 << 20)

typedef struct populate_s {
  struct populate_s *next;
  napi_deferred deferred;
  napi_ref buffer;
  void *store;        /* the ArrayBuffer's backing store held (tensio_v8_hold_store), or NULL (see populate_buffer) */
  napi_ref flag;      /* keeps the cancel flag's array alive while the worker reads it */
  char *start;
  size_t length;
  atomic_int *cancel; /* first element of the cancel flag, or NULL */
  atomic_int *released; /* an into handle's own flag (set by its release), or NULL */
  const char *method; /* "populate", "willneed" or "none", set by the worker */
  int error;          /* errno of a failed window, 0 when none */
  size_t pending;     /* bytes still counted in populate_pending (0 once the worker is done with it) */
} populate_t;

typedef struct {
  napi_async_work work;
  populate_t *done; /* jobs finished by this drain, settled by its complete callback */
  populate_t *done_tail;
  int queue;        /* 1: drains the queue (drain_execute); 0: one job of its own (drain_single) */
} drain_t;

static atomic_int populate_method = 0; /* 0 unknown, 1 MADV_POPULATE_READ works, 2 it does not (EINVAL) */

/*
 * Bytes of populate jobs asked for and not yet done by a worker (queued or running), for
 * populatePending(): JavaScript reads it synchronously, so a default fault-ahead can be
 * skipped while the worker is behind (a caller reading and dropping tensors faster than
 * they can be populated), even in a loop that never gives the event loop a turn (a job's
 * promise only settles on one). Decremented when the worker finishes a job, or when a job
 * is settled without having run.
 */
static atomic_size_t populate_pending = 0;

static void pending_done(populate_t *job) {
  if (job->pending) atomic_fetch_sub_explicit(&populate_pending, job->pending, memory_order_relaxed);
  job->pending = 0;
}
static pthread_mutex_t populate_lock = PTHREAD_MUTEX_INITIALIZER;
static populate_t *queue_head = NULL, *queue_tail = NULL; /* guarded by populate_lock */
static napi_env drain_env = NULL; /* the environment whose drain is running, guarded by populate_lock */

/*
 * Reads one byte of every page of a window the kernel has just populated. Why: in this VM
 * (Firecracker, Linux 6.18) a mapping's FIRST access to each 4 KiB page costs the
 * accessing thread ~0.25 us even when MADV_POPULATE_READ has already mapped it (1 GiB
 * of a small-folio file: a WebAssembly SIMD sum took 100-110 ms of its thread's CPU
 * after populate and 31-35 ms after populate + this touch; the same sum over pages
 * already touched, 35-40 ms), so populate alone left most of the cost on the consumer.
 * The touch moves it to this worker. Safe: the window was just populated (every page has
 * a file page), and a truncation racing with the touch meets the SIGBUS handler, which
 * covers every mapping populate accepts (map, mapJoined and mapInto all register).
 */
static volatile unsigned touch_sink;
static void touch_window(volatile const char *at, size_t span) {
  unsigned sum = 0;
  for (size_t offset = 0; offset < span; offset += page_size) sum += (unsigned char)at[offset];
  touch_sink += sum;
}

static void populate_one(populate_t *job) {
  uintptr_t first = (uintptr_t)job->start & ~(uintptr_t)(page_size - 1);
  uintptr_t end = (uintptr_t)job->start + job->length;
  job->method = "none";
  if (end <= first) return;
  /* Windows from the LAST one back to the first (see "Why backwards" above). */
  size_t windows = (end - first + POPULATE_WINDOW_BYTES - 1) / POPULATE_WINDOW_BYTES;
  for (size_t index = windows; index-- > 0;) {
    uintptr_t at = first + index * POPULATE_WINDOW_BYTES;
    size_t span = end - at < POPULATE_WINDOW_BYTES ? end - at : POPULATE_WINDOW_BYTES;
    for (;;) {
      if (job->cancel && atomic_load_explicit(job->cancel, memory_order_relaxed)) return;
      if (job->released && atomic_load_explicit(job->released, memory_order_relaxed)) return;
      if (atomic_load_explicit(&populate_method, memory_order_relaxed) == 2) break;
      if (madvise((void *)at, span, MADV_POPULATE_READ) == 0) {
        atomic_store_explicit(&populate_method, 1, memory_order_relaxed);
        job->method = "populate";
        touch_window((volatile const char *)at, span);
        break;
      }
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno != EINVAL) {
        job->error = errno;
        return;
      }
      atomic_store_explicit(&populate_method, 2, memory_order_relaxed); /* this kernel predates it */
    }
    if (atomic_load_explicit(&populate_method, memory_order_relaxed) == 2) {
#ifdef MADV_WILLNEED
      /* The windows not yet populated, all at once: read-ahead advice only. */
      madvise((void *)first, at + span - first, MADV_WILLNEED);
      job->method = "willneed";
#endif
      return;
    }
  }
}

/* Worker: takes jobs in order until the queue is empty, then lets the next call start a drain. */
static void drain_execute(napi_env env, void *data) {
  (void)env;
  drain_t *drain = (drain_t *)data;
  for (;;) {
    pthread_mutex_lock(&populate_lock);
    populate_t *job = queue_head;
    if (job) {
      queue_head = job->next;
      if (!queue_head) queue_tail = NULL;
    } else {
      drain_env = NULL;
    }
    pthread_mutex_unlock(&populate_lock);
    if (!job) return;
    job->next = NULL;
    populate_one(job);
    pending_done(job);
    if (drain->done_tail) drain->done_tail->next = job;
    else drain->done = job;
    drain->done_tail = job;
  }
}

/* Worker for one job of an environment whose queue another environment's drain holds. */
static void drain_single(napi_env env, void *data) {
  (void)env;
  populate_one(((drain_t *)data)->done);
  pending_done(((drain_t *)data)->done);
}

static void populate_settle(napi_env env, populate_t *job) {
  napi_value value;
  pending_done(job); /* a job settled without having run (no worker, or cancelled at teardown) */
  if (job->error == 0) {
    napi_create_string_utf8(env, job->method ? job->method : "none", NAPI_AUTO_LENGTH, &value);
    napi_resolve_deferred(env, job->deferred, value);
  } else {
    const char *code = job->error == EFAULT ? "EFAULT" : job->error == ENOMEM ? "ENOMEM" : "EPOPULATE";
    napi_value code_value, message;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
    napi_create_string_utf8(env, strerror(job->error), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code_value, message, &value);
    napi_reject_deferred(env, job->deferred, value);
  }
  napi_delete_reference(env, job->buffer);
  /* Last: the worker is done with the pages (or never ran), so the store may unmap them now. */
  tensio_v8_drop_store(job->store);
  if (job->flag) napi_delete_reference(env, job->flag);
  free(job);
}

static void drain_complete(napi_env env, napi_status status, void *data) {
  drain_t *drain = (drain_t *)data;
  if (status == napi_cancelled && drain->queue) {
    /* The worker never ran (the environment is shutting down): settle its queue as "none"
     * and let the next call start a drain, instead of leaving jobs nobody will take. */
    pthread_mutex_lock(&populate_lock);
    if (drain_env == env) {
      if (drain->done_tail) drain->done_tail->next = queue_head;
      else drain->done = queue_head;
      queue_head = queue_tail = NULL;
      drain_env = NULL;
    }
    pthread_mutex_unlock(&populate_lock);
  }
  for (populate_t *job = drain->done; job;) {
    populate_t *next = job->next;
    populate_settle(env, job);
    job = next;
  }
  napi_delete_async_work(env, drain->work);
  free(drain);
}

/* populate(target[, cancelFlag]) -> Promise; see above. `target` is an ArrayBuffer from map()
 * or mapJoined(), or a handle from mapInto() (its pages inside the wasm memory; releasing
 * the handle stops the job at its next window). `cancelFlag` is an Int32Array whose
 * first element, once set to non-zero, stops the jobs given it at their next window. */
static napi_value populate_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  size_t length = 0;
  bool is_buffer = false;
  napi_valuetype type = napi_undefined;
  into_t *into = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok) {
    return throw_coded(env, "EINVAL", "populate(target[, cancelFlag]) takes an ArrayBuffer from map() or a handle from mapInto()");
  }
  if (type == napi_external) {
    void *pointer = NULL;
    if (napi_get_value_external(env, argv[0], &pointer) != napi_ok || pointer == NULL) {
      return throw_coded(env, "EINVAL", "populate: not a handle from mapInto()");
    }
    into = (into_t *)pointer;
    if (into->released) return throw_coded(env, "EINVAL", "populate: the mapInto() handle was already released");
    data = (void *)into->start;
    length = into->total;
  } else if (napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
             napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok) {
    return throw_coded(env, "EINVAL", "populate(target[, cancelFlag]) takes an ArrayBuffer from map() or a handle from mapInto()");
  }
  atomic_int *cancel = NULL;
  if (argc >= 2) {
    bool is_typed = false;
    napi_typedarray_type type;
    size_t count = 0;
    void *flag = NULL;
    if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
        napi_get_typedarray_info(env, argv[1], &type, &count, &flag, NULL, NULL) != napi_ok || type != napi_int32_array || count < 1) {
      return throw_coded(env, "EINVAL", "populate: cancelFlag must be an Int32Array");
    }
    cancel = (atomic_int *)flag;
  }
  /* Only our own live mappings: populating arbitrary memory is never what a caller means. */
  if (data == NULL || length == 0 || slot_find((uintptr_t)data, NULL) < 0) {
    return throw_coded(env, "EINVAL", "populate: the buffer is not a live mapping made by map()");
  }
  populate_t *job = (populate_t *)calloc(1, sizeof *job);
  if (!job) return throw_coded(env, "ENOMEM", "populate: out of memory");
  job->start = (char *)data;
  job->length = length;
  job->cancel = cancel;
  job->released = into ? &into->cancel : NULL; /* the reference below keeps `into` alive until settled */
  /*
   * An ArrayBuffer's mapping is owned by its backing store, which a byte stream detaching
   * the buffer moves to a new buffer: the reference below would then keep only the emptied
   * object, and the bytes' new buffer could be collected and unmap the pages under the
   * worker. So the job holds the store itself, through the V8 API, when it may be called
   * (the same Node major). Then the check above (a live mapping) is enough at creation:
   * the mapping lives until the job is settled. Without it (another Node major, or no C++
   * part) the job holds only the object, as it always did: a buffer detached while its
   * job is queued or running is then unsafe to drop.
   */
  int hold_store = !into && same_node_major(env);
  napi_value promise;
  if (napi_create_reference(env, argv[0], 1, &job->buffer) != napi_ok ||
      (hold_store && (job->store = tensio_v8_hold_store(argv[0])) == NULL) ||
      (cancel && napi_create_reference(env, argv[1], 1, &job->flag) != napi_ok) ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    if (job->buffer) napi_delete_reference(env, job->buffer);
    tensio_v8_drop_store(job->store);
    if (job->flag) napi_delete_reference(env, job->flag);
    free(job);
    return throw_coded(env, "ENOMEM", "populate: could not hold the buffer");
  }
  job->pending = length;
  atomic_fetch_add_explicit(&populate_pending, length, memory_order_relaxed);
  drain_t *drain = NULL;
  pthread_mutex_lock(&populate_lock);
  int joined = drain_env == env;
  int start_drain = drain_env == NULL;
  if (joined || start_drain) {
    if (queue_tail) queue_tail->next = job;
    else queue_head = job;
    queue_tail = job;
    if (start_drain) drain_env = env;
  }
  pthread_mutex_unlock(&populate_lock);
  if (joined) return promise;
  /* A new drain for this environment, or (another environment's drain is running) one of its own. */
  drain = (drain_t *)calloc(1, sizeof *drain);
  napi_value name;
  napi_create_string_utf8(env, "tensio.populate", NAPI_AUTO_LENGTH, &name);
  if (drain) drain->queue = start_drain;
  if (drain && napi_create_async_work(env, NULL, name, start_drain ? drain_execute : drain_single, drain_complete, drain, &drain->work) == napi_ok) {
    if (!start_drain) drain->done = drain->done_tail = job; /* drain_single populates it */
    if (napi_queue_async_work(env, drain->work) == napi_ok) return promise;
    napi_delete_async_work(env, drain->work);
  }
  free(drain);
  /* Could not start a worker: the job is settled as "none" (nothing done) instead. */
  if (start_drain) {
    pthread_mutex_lock(&populate_lock);
    /* Unqueue everything this env queued (only this job can be there: the drain never ran). */
    queue_head = queue_tail = NULL;
    drain_env = NULL;
    pthread_mutex_unlock(&populate_lock);
  }
  populate_settle(env, job);
  return promise;
}

/*
 * populateProbe() -> "populate" when this kernel has MADV_POPULATE_READ (Linux >= 5.14),
 * "willneed" when it answers EINVAL (populate() then only advises MADV_WILLNEED), "none"
 * when even the probe could not run. Tried once on one anonymous page, synchronously
 * (a few microseconds), and remembered, so memoryMapStatus() can say what populate does
 * before any job ran.
 */
static napi_value populate_probe(napi_env env, napi_callback_info info) {
  (void)info;
  int method = atomic_load_explicit(&populate_method, memory_order_relaxed);
  if (method == 0) {
    void *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) {
      int result;
      do result = madvise(page, page_size, MADV_POPULATE_READ);
      while (result != 0 && (errno == EINTR || errno == EAGAIN));
      if (result == 0) method = 1;
      else if (errno == EINVAL) method = 2;
      munmap(page, page_size);
      if (method != 0) atomic_store_explicit(&populate_method, method, memory_order_relaxed);
    }
  }
  napi_value result;
  napi_create_string_utf8(env, method == 1 ? "populate" : method == 2 ? "willneed" : "none", NAPI_AUTO_LENGTH, &result);
  return result;
}

/* faulted(buffer) -> true when a truncation replaced part of this mapping with zeros. */
static napi_value mapping_faulted(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  void *data = NULL;
  size_t length = 0;
  bool is_buffer = false;
  int faulted = 0;
  /* No truncation was ever caught (the usual case): no scan. A stream asks before every chunk. */
  if (atomic_load_explicit(&fault_count, memory_order_acquire) != 0 &&
      napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_is_arraybuffer(env, argv[0], &is_buffer) == napi_ok && is_buffer &&
      napi_get_arraybuffer_info(env, argv[0], &data, &length) == napi_ok && data && length > 0) {
    int index = slot_find((uintptr_t)data, NULL);
    if (index >= 0) faulted = atomic_load_explicit(&slots[index].faulted, memory_order_acquire);
  }
  napi_get_boolean(env, faulted != 0, &result);
  return result;
}

/*
 * setUntransferableMarker(fn): the function map() calls on every buffer it makes outside
 * V8's external-memory count (node:worker_threads' markAsUntransferable). Until it is
 * given, map() makes Node-API external buffers only. Answers whether this addon can make
 * the others (same Node major); TENSIO_MMAP_COUNTED=1 (read at each map) asks for Node-API buffers instead.
 */
static napi_value set_untransferable_marker(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type = napi_undefined;
  env_state_t *state = env_state(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    return throw_coded(env, "EINVAL", "setUntransferableMarker takes a function");
  }
  if (!state) return throw_coded(env, "ENOMEM", "setUntransferableMarker: no per-environment state");
  if (state->marker) napi_delete_reference(env, state->marker);
  state->marker = NULL;
  if (napi_create_reference(env, argv[0], 1, &state->marker) != napi_ok) state->marker = NULL;
  napi_value result;
  napi_get_boolean(env, state->marker != NULL && same_node_major(env), &result);
  return result;
}

/* populatePending() -> bytes of populate jobs not yet done by a worker (see populate_pending). */
static napi_value populate_pending_bytes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_double(env, (double)atomic_load_explicit(&populate_pending, memory_order_relaxed), &result);
  return result;
}

/* stats() -> { liveMappings, faults, pageSize, capacity, externalMemory }; externalMemory is V8's external-memory counter (what starts collections) once collected mappings' debt is paid, read by an adjustment of 0. */
static napi_value mapping_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, value;
  napi_create_object(env, &result);
  pthread_mutex_lock(&registry_lock);
  int live = live_mappings;
  pthread_mutex_unlock(&registry_lock);
  napi_create_int32(env, live, &value);
  napi_set_named_property(env, result, "liveMappings", value);
  napi_create_double(env, (double)atomic_load(&fault_count), &value);
  napi_set_named_property(env, result, "faults", value);
  napi_create_double(env, (double)page_size, &value);
  napi_set_named_property(env, result, "pageSize", value);
  napi_create_int32(env, SLOT_COUNT, &value);
  napi_set_named_property(env, result, "capacity", value);
  pay_owed(env);
  int64_t external = 0;
  if (napi_adjust_external_memory(env, 0, &external) == napi_ok && napi_create_double(env, (double)external, &value) == napi_ok) {
    napi_set_named_property(env, result, "externalMemory", value);
  }
  return result;
}

NAPI_MODULE_INIT() {
  long size = sysconf(_SC_PAGESIZE);
  if (size > 0) page_size = (size_t)size;
  env_state_t *state = (env_state_t *)calloc(1, sizeof *state);
  if (state && napi_set_instance_data(env, state, finalize_env_state, NULL) != napi_ok) free(state);
  napi_property_descriptor properties[] = {
    {"map", NULL, map_range, NULL, NULL, NULL, napi_default, NULL},
    {"mapJoined", NULL, map_joined, NULL, NULL, NULL, napi_default, NULL},
    {"faulted", NULL, mapping_faulted, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, mapping_stats, NULL, NULL, NULL, napi_default, NULL},
    {"setUntransferableMarker", NULL, set_untransferable_marker, NULL, NULL, NULL, napi_default, NULL},
    {"mapInto", NULL, map_into, NULL, NULL, NULL, napi_default, NULL},
    {"unmapInto", NULL, unmap_into, NULL, NULL, NULL, napi_default, NULL},
    {"intoFaulted", NULL, into_faulted, NULL, NULL, NULL, napi_default, NULL},
    {"baseModulo", NULL, base_modulo, NULL, NULL, NULL, napi_default, NULL},
    {"allocate", NULL, allocate_anonymous, NULL, NULL, NULL, napi_default, NULL},
    {"trimAllocations", NULL, tensio_kept_trim, NULL, NULL, NULL, napi_default, NULL},
    {"setAllocationCacheLimit", NULL, tensio_kept_set_limit, NULL, NULL, NULL, napi_default, NULL},
    {"populate", NULL, populate_buffer, NULL, NULL, NULL, napi_default, NULL},
    {"populateProbe", NULL, populate_probe, NULL, NULL, NULL, napi_default, NULL},
    {"populatePending", NULL, populate_pending_bytes, NULL, NULL, NULL, napi_default, NULL},
    {"snappyUncompressInto", NULL, tensio_snappy_uncompress_into, NULL, NULL, NULL, napi_default, NULL},
    {"snappyCompressInto", NULL, tensio_snappy_compress_into, NULL, NULL, NULL, napi_default, NULL},
    {"snappyCompressBound", NULL, tensio_snappy_compress_bound, NULL, NULL, NULL, napi_default, NULL},
    {"zstdDecompressInto", NULL, tensio_zstd_decompress_into, NULL, NULL, NULL, napi_default, NULL},
    {"zstdLibraryVersion", NULL, tensio_zstd_library_version, NULL, NULL, NULL, napi_default, NULL},
    {"parquetGatherBand", NULL, tensio_parquet_gather_band, NULL, NULL, NULL, napi_default, NULL},
    /* The same function, under a name that says it takes PLAIN pieces (tensio_gather.c PLAIN_PIECE): an addon built before them would read such a piece as a bit-packed run. */
    {"parquetGatherBandPlain", NULL, tensio_parquet_gather_band, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  /* Says to JavaScript that map() makes store-owned buffers by default (an addon built before them made them only on TENSIO_MMAP_UNCOUNTED=1). */
  napi_value store_owned;
  if (napi_get_boolean(env, true, &store_owned) == napi_ok) napi_set_named_property(env, exports, "storeOwnedBuffers", store_owned);
  return exports;
}
