/**
 * Tensors for WebAssembly code: `readIntoWasmMemory` places a tensor in a
 * `WebAssembly.Memory`, mapped in place where it can be (see `src/model/wasm-memory.ts`);
 * `readAllIntoWasmMemory` places several with one grow.
 */
import type { TensorReader } from '../model/types.js';
import { placeAllInWasmMemory, placeInWasmMemory, type ReadIntoWasmMemoryOptions, type WasmMemoryLike, type WasmTensor } from '../model/wasm-memory.js';

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

/**
 * Places tensors `names` of `reader` in `memory` like {@link readIntoWasmMemory}, in
 * order, growing the memory ONCE for all of them. Prefer it for whole models: V8 counts a
 * grown memory's whole length as new external memory at every grow and starts garbage
 * collections over it (64 tensors of 4 MiB placed one by one: about 35 mark-compacts).
 * If placing one fails, the ones already placed are released and the error is thrown
 * (the memory keeps its new size: memories never shrink).
 *
 * @example
 * ```ts
 * const tensors = await readAllIntoWasmMemory(reader, reader.tensors.map((t) => t.name), memory);
 * for (const tensor of tensors) instance.exports.run(tensor.pointer, tensor.byteLength);
 * ```
 */
export async function readAllIntoWasmMemory(reader: TensorReader, names: readonly string[], memory: WasmMemoryLike, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor[]> {
  if (reader.readAllIntoWasmMemory) return reader.readAllIntoWasmMemory(names, memory, options);
  const readOptions = options.signal ? { signal: options.signal } : {};
  const items = names.map((name) => ({ info: reader.info(name), location: undefined, readBytes: async () => (await reader.read(name, readOptions)).data }));
  return placeAllInWasmMemory(items, memory, options);
}
