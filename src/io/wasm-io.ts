/**
 * Tensors for WebAssembly code: `readIntoWasmMemory` places a tensor in a
 * `WebAssembly.Memory`, mapped in place where it can be (see `src/model/wasm-memory.ts`).
 */
import type { TensorReader } from '../model/types.js';
import { placeInWasmMemory, type ReadIntoWasmMemoryOptions, type WasmMemoryLike, type WasmTensor } from '../model/wasm-memory.js';

export type { ReadIntoWasmMemoryOptions, WasmMemoryLike, WasmTensor } from '../model/wasm-memory.js';
export { wasmMappingUnavailableReason } from '../storage/memory-map.js';

/**
 * Places tensor `name` of `reader` in `memory`, which grows by the 64 KiB pages it needs.
 * A contiguous tensor of a local file (safetensors, `.npy`, stored npz members, zip
 * `.pt` records, …) is mapped there without a copy when the native addon is in use on
 * Linux x64 (`mapped: true`; see `wasmMappingUnavailableReason()`); anything else is read
 * and copied in. Either way wasm code reads it at `pointer`, and `release()` gives the
 * pages back as zeros for reuse (the memory never shrinks). Writes never reach the file.
 *
 * @example
 * ```ts
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
 * await using reader = await openTensorFile('model.npy');
 * const tensor = await readIntoWasmMemory(reader, reader.tensors[0].name, memory);
 * const total = instance.exports.sum(tensor.pointer, tensor.byteLength); // your kernel
 * tensor.release();
 * ```
 */
export async function readIntoWasmMemory(reader: TensorReader, name: string, memory: WasmMemoryLike, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor> {
  if (reader.readIntoWasmMemory) return reader.readIntoWasmMemory(name, memory, options);
  const info = reader.info(name);
  const readOptions = options.signal ? { signal: options.signal } : {};
  return placeInWasmMemory(info, undefined, memory, async () => (await reader.read(name, readOptions)).data, options);
}
