/**
 * A tensor placed in a WebAssembly memory, for wasm code (SIMD kernels, ONNX/ggml-style
 * runtimes) that can only address its own memory. The memory is grown by the pages the
 * tensor needs; a contiguous tensor of a local file is then mapped there in place (no
 * copy: the file's cached pages, copy-on-write, `src/storage/memory-map.ts`), anything
 * else is read and copied in.
 */
import { TensioError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import type { WasmMemoryLike, WasmMemoryMapping } from '../storage/memory-map.js';
import type { TensorLocation } from './create-reader.js';
import type { TensorInfo } from './types.js';

export type { WasmMemoryLike } from '../storage/memory-map.js';

/** WebAssembly's page: memories grow by it, and it is a multiple of every system page size tensio maps with. */
export const WASM_PAGE_BYTES = 65536;

/** Options of `readIntoWasmMemory`. */
export interface ReadIntoWasmMemoryOptions {
  /** Copy the bytes in even when they could be mapped (default false). */
  readonly copy?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * A tensor inside a WebAssembly memory. Its bytes are `memory.buffer` from `pointer` for
 * `byteLength` bytes; take views from the memory's current `buffer` (every `grow`
 * replaces it). Writes by wasm or JavaScript change this process's copy only, never the file.
 */
export interface WasmTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte address of the tensor's first byte in the memory. */
  readonly pointer: number;
  readonly byteLength: number;
  /** True when the bytes are the file's pages mapped in place; false when they were copied in. */
  readonly mapped: boolean;
  /** The pages added to the memory for this tensor (64 KiB-aligned); they read as zeros after `release()`. */
  readonly region: { readonly byteOffset: number; readonly byteLength: number };
  /**
   * Gives the pages back as zeros (unmapping the file from them), so the region can be
   * reused; safe to call twice. The memory keeps its size (WebAssembly memories never shrink).
   */
  release(): void;
  /** True when the file was shortened under the mapping and some of the bytes now read as zeros. */
  faulted(): boolean;
}

/** Grows `memory` by enough pages for `bytes` and returns the first new byte's address. */
function growFor(memory: WasmMemoryLike, bytes: number, info: TensorInfo): { byteOffset: number; byteLength: number } {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  let oldPages: number;
  try {
    oldPages = memory.grow(pages);
  } catch (cause) {
    const current = memory.buffer.byteLength / WASM_PAGE_BYTES;
    throw new TensioError('LIMIT_EXCEEDED', `cannot place ${info.name} (${info.byteLength} bytes) in the WebAssembly memory: growing it by the ${pages} pages it needs beyond its ${current} fails (a memory holds at most its maximum, and 65536 pages = 4 GiB); give the memory a larger maximum or read fewer tensors at once`, { cause });
  }
  return { byteOffset: oldPages * WASM_PAGE_BYTES, byteLength: pages * WASM_PAGE_BYTES };
}

/**
 * Places one dense tensor in `memory`: mapped when `location` is a span of a source that
 * maps into wasm memory, else `readBytes()` copied in.
 *
 * @example
 * ```ts
 * const placed = await placeInWasmMemory(info, location, memory, () => reader.read(info.name).then((t) => t.data));
 * ```
 */
export async function placeInWasmMemory(info: TensorInfo, location: TensorLocation | undefined, memory: WasmMemoryLike, readBytes: () => Promise<Uint8Array>, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor> {
  const length = info.byteLength;
  const describe = (pointer: number, region: { byteOffset: number; byteLength: number }, mapping: WasmMemoryMapping | undefined): WasmTensor => {
    let released = false;
    return {
      name: info.name,
      dtype: info.dtype,
      shape: [...info.shape],
      pointer,
      byteLength: length,
      mapped: mapping !== undefined,
      region,
      release() {
        if (released) return;
        released = true;
        if (mapping) mapping.release();
        else new Uint8Array(memory.buffer, region.byteOffset, region.byteLength).fill(0);
      },
      faulted: () => !released && mapping !== undefined && mapping.faulted(),
    };
  };
  if (location?.kind === 'span' && !options.copy && location.source.mapIntoWasm && length > 0) {
    // The file is mapped from the 64 KiB boundary below the tensor: the tensor keeps its offset within that page.
    const delta = location.offset % WASM_PAGE_BYTES;
    const region = growFor(memory, delta + length, info);
    const mapping = location.source.mapIntoWasm(memory, region.byteOffset, location.offset - delta, delta + length);
    if (mapping) return describe(region.byteOffset + delta, region, mapping);
    const bytes = await readBytes();
    new Uint8Array(memory.buffer, region.byteOffset + delta, length).set(bytes);
    return describe(region.byteOffset + delta, region, undefined);
  }
  const bytes = await readBytes();
  const region = growFor(memory, length, info);
  new Uint8Array(memory.buffer, region.byteOffset, length).set(bytes);
  return describe(region.byteOffset, region, undefined);
}
