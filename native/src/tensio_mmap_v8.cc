/*
 * The one piece of tensio_mmap that goes below Node-API: an ArrayBuffer over a mapping
 * that V8 does not count as external memory, and whose backing store owns the mapping.
 *
 * Why: napi_create_external_arraybuffer gives V8 a backing store with a deleter, and V8
 * adds the buffer's whole length to its external-memory counter when the buffer is
 * created (ArrayBufferSweeper::Append). Any single increase over 64 MiB since the last
 * mark-compact starts incremental marking ("external memory pressure"), so every mapped
 * tensor over 64 MiB started a collection whatever the addon adjusted around it: V8's
 * counter moves its limit down with every decrease (ExternalMemoryAccounting::Update sets
 * limit = lowest amount + 64 MiB), so an uncharge made first lowers the limit with it
 * (bench/README.md, sessions 20-29). A file mapping is not heap memory: its pages belong
 * to the page cache. V8 leaves a backing store out of the counter when its deleter is
 * v8::BackingStore::EmptyDeleter (BackingStore::PerIsolateAccountingLength), so the store
 * is made that way here, and tensio_mmap.c charges the counter what the mapping does cost
 * (charge_for) through a finalizer on the object.
 *
 * Who unmaps: the backing store, not the object. The store is handed to V8 inside a
 * std::shared_ptr whose deleter deletes the store and then calls `release` (tensio_mmap.c
 * unregisters and unmaps). V8 keeps every reference to a store as a copy of that
 * shared_ptr (ArrayBuffer::New takes it as given; detaching moves it to the new buffer),
 * so the mapping lives exactly as long as some ArrayBuffer still holds its bytes: the
 * buffer can be detached (web byte streams detach every chunk) with its mapping following
 * the bytes, as Node-API's own external buffers do. The deleter may run on a V8 sweeper
 * thread or at isolate teardown: `release` must not call into Node-API or V8.
 * (Session 27's first version owned the mapping by the object and had to forbid
 * detaching with a detach key, which aborted the process in Node 20's byte streams.)
 *
 * The V8 API is not ABI-stable across Node majors (Node-API is): the caller uses this only
 * when the running Node's major is the one the addon was compiled against.
 */
// node_version.h defines NAPI_VERSION itself; this file uses no versioned Node-API call.
#undef NAPI_VERSION
#include <node_version.h>
#include <node_api.h>
#include <v8.h>

#include <cstring>
#include <memory>
#include <new>

extern "C" int tensio_v8_node_major(void) { return NODE_MAJOR_VERSION; }

namespace {
/* What the store's deleter releases; `armed` only once the buffer exists (see below). */
struct StoreOwner {
  void (*release)(void *);
  void *cookie;
  bool armed;
};
}  // namespace

/*
 * An ArrayBuffer over [data, data + length) that V8 does not count, whose backing store
 * calls release(cookie) once, when V8 frees it (any thread). NULL when V8 refuses: then
 * release is never called and the caller still owns the memory.
 */
extern "C" napi_value tensio_v8_store_owned_arraybuffer(napi_env env, void *data, size_t length,
                                                        void (*release)(void *), void *cookie) {
  (void)env;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  StoreOwner *owner = new (std::nothrow) StoreOwner{release, cookie, false};
  if (owner == nullptr) return nullptr;
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(data, length, v8::BackingStore::EmptyDeleter, nullptr);
  if (!store) {
    delete owner;
    return nullptr;
  }
  // The deleter does what std::default_delete would (V8 hands stores out as unique_ptrs),
  // then releases the mapping: the store's EmptyDeleter frees nothing itself.
  std::shared_ptr<v8::BackingStore> shared(store.release(), [owner](v8::BackingStore *freed) {
    delete freed;
    if (owner->armed) owner->release(owner->cookie);
    delete owner;
  });
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, shared);
  // Empty: `shared` dies at return with the store, unarmed, so the caller keeps the mapping.
  if (buffer.IsEmpty()) return nullptr;
  owner->armed = true;
  // Node-API's napi_value is a v8::Local<v8::Value>'s handle (v8impl::JsValueFromV8LocalValue).
  v8::Local<v8::Value> value = buffer;
  return reinterpret_cast<napi_value>(*value);
}

/*
 * A populate job's hold on a buffer's bytes: a heap copy of the buffer's
 * std::shared_ptr<v8::BackingStore>, or NULL when it is not an ArrayBuffer with a store or
 * out of memory. Why the store and not the object: the store owns the mapping (above), and
 * a byte stream detaching the buffer moves the store to a new buffer, so a reference to
 * the object keeps an emptied buffer alive while the moved bytes' buffer can be collected
 * and the store freed (unmapping) under the worker. A Node-API external buffer's store
 * moves the same way and calls its finalizer when freed, so this holds both kinds.
 * JavaScript thread only (a Node-API callback, inside its handle scope).
 */
extern "C" void *tensio_v8_hold_store(napi_value arraybuffer) {
  // The reverse of the cast above (v8impl::V8LocalValueFromJsValue).
  v8::Local<v8::Value> value;
  static_assert(sizeof value == sizeof arraybuffer, "napi_value is a v8::Local's handle");
  std::memcpy(static_cast<void *>(&value), &arraybuffer, sizeof arraybuffer);
  if (value.IsEmpty() || !value->IsArrayBuffer()) return nullptr;
  std::shared_ptr<v8::BackingStore> store = value.As<v8::ArrayBuffer>()->GetBackingStore();
  if (!store) return nullptr;
  return new (std::nothrow) std::shared_ptr<v8::BackingStore>(std::move(store));
}

/*
 * Lets go of a tensio_v8_hold_store holder (NULL: nothing). When it was the last holder,
 * the store is freed here and unmaps its mapping (any thread may do that, see above).
 */
extern "C" void tensio_v8_drop_store(void *held) { delete static_cast<std::shared_ptr<v8::BackingStore> *>(held); }
