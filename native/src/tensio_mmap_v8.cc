/*
 * The one piece of tensio_mmap that goes below Node-API: an ArrayBuffer over a mapping
 * that V8 does not count as external memory.
 *
 * Why: napi_create_external_arraybuffer gives V8 a backing store with a deleter, and V8
 * adds the buffer's whole length to its external-memory counter when the buffer is
 * created (ArrayBufferSweeper::Append). Any single increase over 64 MiB since the last
 * mark-compact starts incremental marking ("external memory pressure"), so every mapped
 * tensor over 64 MiB started a collection whatever the addon adjusted around it
 * (bench/README.md, sessions 20-27). A file mapping is not heap memory: its pages belong
 * to the page cache. V8 leaves a backing store out of the counter when its deleter is
 * v8::BackingStore::EmptyDeleter, so the buffer is made that way here; the mapping is then
 * released by a Node-API finalizer on the ArrayBuffer object instead (tensio_mmap.c), and
 * charged to the counter by what it does cost (tensio_mmap.c's charge_for).
 *
 * That moves the mapping's lifetime from the backing store to the JavaScript object, so
 * the backing store must never outlive the object: the buffer gets a detach key no
 * JavaScript holds, so it cannot be detached (ArrayBuffer.prototype.transfer, postMessage
 * transfer lists), and is marked untransferable (JavaScript does that, see
 * src/storage/memory-map.ts), so Node copies it instead of moving it.
 *
 * The V8 API is not ABI-stable across Node majors (Node-API is): the caller uses this only
 * when the running Node's major is the one the addon was compiled against.
 */
// node_version.h defines NAPI_VERSION itself; this file uses no versioned Node-API call.
#undef NAPI_VERSION
#include <node_version.h>
#include <node_api.h>
#include <v8.h>

#include <memory>

extern "C" int tensio_v8_node_major(void) { return NODE_MAJOR_VERSION; }

/*
 * An ArrayBuffer over [data, data + length) that V8 neither counts nor frees, or NULL
 * (nothing created) when V8 refuses. The caller owns the memory and must attach its own
 * finalizer to the returned object.
 */
extern "C" napi_value tensio_v8_unaccounted_arraybuffer(napi_env env, void *data, size_t length) {
  (void)env;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(data, length, v8::BackingStore::EmptyDeleter, nullptr);
  if (!store) return nullptr;
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  if (buffer.IsEmpty()) return nullptr;
  // A key nobody else holds: Detach() without it throws, so the store never moves away.
  buffer->SetDetachKey(v8::Object::New(isolate));
  // Node-API's napi_value is a v8::Local<v8::Value>'s handle (v8impl::JsValueFromV8LocalValue).
  v8::Local<v8::Value> value = buffer;
  return reinterpret_cast<napi_value>(*value);
}
