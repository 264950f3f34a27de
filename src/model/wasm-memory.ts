/**
 * A tensor placed in a WebAssembly memory, for wasm code (SIMD kernels, ONNX/ggml-style
 * runtimes) that can only address its own memory. The memory is grown by the pages the
 * tensor needs; a contiguous tensor of a local file is then mapped there in place (no
 * copy: the file's cached pages, copy-on-write, `src/storage/memory-map.ts`), anything
 * else is read and copied in.
 */
import { TensioError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { PopulateMethod, WasmMemoryLike, WasmMemoryMapping } from '../storage/memory-map.js';
import type { TensorLocation } from './create-reader.js';
import type { TensorInfo } from './types.js';

export type { WasmMemoryLike } from '../storage/memory-map.js';

/** WebAssembly's page: memories grow by it, and it is a multiple of every system page size tensio maps with. */
export const WASM_PAGE_BYTES = 65536;

/**
 * A PMD huge page on x64 (mapping into wasm memory is only done on Linux x64). The page
 * cache of a file may hold 2 MiB folios (ext4 with large folios since Linux 6.16, XFS,
 * tmpfs with huge pages), and the kernel maps such a folio with one entry on the first
 * touch only when the address and the file offset agree modulo 2 MiB. `mmap(NULL)` picks
 * such an address itself; mapping into wasm memory takes the address tensio gives, so
 * tensio gives an agreeing one. Measured here (256 MiB `.npy`, Linux 6.18, ext4): the
 * first touch by a WebAssembly SIMD sum took 4,100 faults and 120–180 ms at a 64 KiB
 * misalignment, 165 faults and 18 ms aligned.
 */
export const WASM_HUGE_PAGE_BYTES = 2 * 1024 * 1024;

/**
 * Tensors shorter than this are not aligned to {@link WASM_HUGE_PAGE_BYTES}: the skipped
 * pages (under 2 MiB, 1 MiB on average; never touched, so they cost address space of the
 * 4 GiB memory and no RAM) would average over a quarter of the tensor, and a tensor
 * under 2 MiB gains no whole huge page. At 4 MiB the average is a quarter, at 16 MiB
 * (a 1 GiB checkpoint's typical layer) 6%; against that, first touch is 8–10x cheaper.
 */
export const WASM_HUGE_ALIGN_MIN_BYTES = 4 * 1024 * 1024;

/** Options of `readIntoWasmMemory`. */
export interface ReadIntoWasmMemoryOptions {
  /** Copy the bytes in even when they could be mapped (default false). */
  readonly copy?: boolean;
  /**
   * Place a mapped tensor of 4 MiB or more ({@link WASM_HUGE_ALIGN_MIN_BYTES}) where its
   * address agrees with its file offset modulo 2 MiB, skipping up to 2 MiB of fresh
   * pages before it, so the kernel can map the file's huge page-cache folios whole
   * (default true; see {@link WASM_HUGE_PAGE_BYTES}). `false` packs tensors tightly
   * when the memory's 4 GiB address space is short.
   */
  readonly alignHugePages?: boolean;
  /**
   * Fault-ahead (default false): the caller will touch every byte, so the page tables of
   * each mapped tensor are set up on the addon's populate worker (one libuv thread,
   * `MADV_POPULATE_READ` in 4 MiB windows, tensors in placement order) while the caller
   * already works on the first one: its touches then find the pages mapped instead of
   * each stopping for a fault. A hint: it never throws, `release()` and the reader's
   * `close()` stop it at its next window, and a failure (the file shortened:
   * `SOURCE_CHANGED`) is what {@link WasmTensor.populated} rejects with. No effect on
   * tensors copied in, or where populate is unavailable (`memoryMapStatus().populate`).
   */
  readonly populate?: boolean;
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
  /**
   * The pages added to the memory for this tensor (64 KiB-aligned); they read as zeros
   * after `release()`. A mapped tensor may start up to 2 MiB into it (see
   * `alignHugePages`); the pages before `pointer` are never touched.
   */
  readonly region: { readonly byteOffset: number; readonly byteLength: number };
  /**
   * Gives the pages back as zeros (unmapping the file from them), so the region can be
   * reused; safe to call twice. The memory keeps its size (WebAssembly memories never shrink).
   */
  release(): void;
  /** True when the file was shortened under the mapping and some of the bytes now read as zeros. */
  faulted(): boolean;
  /**
   * How the `populate` option's fault-ahead of this tensor ended: `'populate'` (page
   * tables set up), `'willneed'` (an older kernel: advised only), `'none'` (not asked for,
   * not mapped, stopped before its first window, or unavailable). Rejects with the
   * job's error (`SOURCE_CHANGED` when the file was shortened under it); the job itself
   * never throws, so not asking is safe.
   */
  populated(): Promise<PopulateMethod>;
}

/** Pages of 64 KiB for `bytes` (at least one, as every placement gets its own pages). */
const pagesFor = (bytes: number) => Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));

/** Grows `memory` by `pages` and returns the first new byte's address; `what` names the tensors in the error. */
function grow(memory: WasmMemoryLike, pages: number, what: string): number {
  try {
    return memory.grow(pages) * WASM_PAGE_BYTES;
  } catch (cause) {
    const current = memory.buffer.byteLength / WASM_PAGE_BYTES;
    throw new TensioError('LIMIT_EXCEEDED', `cannot place ${what} in the WebAssembly memory: growing it by the ${pages} pages it needs beyond its ${current} fails (a memory holds at most its maximum, and 65536 pages = 4 GiB); give the memory a larger maximum or read fewer tensors at once`, { cause });
  }
}

/**
 * Fresh bytes to skip before mapping `fileOffset` (a multiple of 64 KiB) at byte `next`
 * of the memory so the address agrees with it modulo {@link WASM_HUGE_PAGE_BYTES}; 0
 * when the tensor is short, the caller opted out, or the memory's address is unknown.
 */
function hugePagePadding(base: number | undefined, next: number, fileOffset: number, length: number, options: ReadIntoWasmMemoryOptions): number {
  if (options.alignHugePages === false || length < WASM_HUGE_ALIGN_MIN_BYTES) return 0;
  if (base === undefined || base % WASM_PAGE_BYTES !== 0) return 0;
  const at = (base + next) % WASM_HUGE_PAGE_BYTES;
  return (((fileOffset % WASM_HUGE_PAGE_BYTES) - at) + WASM_HUGE_PAGE_BYTES) % WASM_HUGE_PAGE_BYTES;
}

/** One tensor for {@link placeAllInWasmMemory}: its info, where its bytes are, and how to read them when they are not mapped. */
export interface WasmPlacement {
  readonly info: TensorInfo;
  readonly location: TensorLocation | undefined;
  readonly readBytes: () => Promise<Uint8Array>;
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
  return (await placeAllInWasmMemory([{ info, location, readBytes }], memory, options))[0]!;
}

/**
 * Places dense tensors in `memory` with ONE grow for all of them, laid out in order
 * (each on its own 64 KiB pages, mapped ones aligned as {@link WASM_HUGE_PAGE_BYTES}
 * says), then maps each where its location allows and reads the rest in. One grow
 * because V8 counts a grown memory's whole new length as external memory at every grow
 * and starts collections over it: placing 64 tensors of 4 MiB one grow at a time cost
 * about 35 mark-compacts (0.5–0.8 s of a 256 MiB placement on the shared 2-core machine).
 * On a failure the tensors already placed are released (the memory keeps its size).
 *
 * @example
 * ```ts
 * const placed = await placeAllInWasmMemory(infos.map((info) => ({ info, location: locate(info), readBytes })), memory);
 * ```
 */
export async function placeAllInWasmMemory(items: readonly WasmPlacement[], memory: WasmMemoryLike, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor[]> {
  if (items.length === 0) return [];
  const describe = (info: TensorInfo, pointer: number, region: { byteOffset: number; byteLength: number }, mapping: WasmMemoryMapping | undefined): WasmTensor => {
    let released = false;
    // Settled outcome of the fault-ahead job; the job's own promise always has a handler (a hint never crashes).
    let outcome: Promise<{ method: PopulateMethod } | { error: unknown }> = Promise.resolve({ method: 'none' });
    const job = options.populate && mapping ? mapping.populate?.() : undefined;
    if (job) outcome = job.then((method) => ({ method }), (error: unknown) => ({ error }));
    return {
      name: info.name,
      dtype: info.dtype,
      shape: [...info.shape],
      pointer,
      byteLength: info.byteLength,
      mapped: mapping !== undefined,
      region,
      release() {
        if (released) return;
        released = true;
        if (mapping) mapping.release();
        else new Uint8Array(memory.buffer, region.byteOffset, region.byteLength).fill(0);
      },
      faulted: () => !released && mapping !== undefined && mapping.faulted(),
      populated: async () => {
        const settled = await outcome;
        if ('error' in settled) throw settled.error;
        return settled.method;
      },
    };
  };
  // The layout, relative to the memory's current end (where the grow puts the new pages).
  const first = memory.buffer.byteLength;
  let end = first;
  let base: number | undefined;
  let baseAsked = false;
  const plans = items.map((item) => {
    const { info, location } = item;
    const length = info.byteLength;
    const regionStart = end;
    if (location?.kind === 'span' && !options.copy && location.source.mapIntoWasm && length > 0) {
      // The file is mapped from the 64 KiB boundary below the tensor: the tensor keeps its offset within that page.
      const delta = location.offset % WASM_PAGE_BYTES;
      const fileOffset = location.offset - delta;
      if (!baseAsked && options.alignHugePages !== false && delta + length >= WASM_HUGE_ALIGN_MIN_BYTES) {
        baseAsked = true;
        base = location.source.wasmBaseModulo?.(memory, WASM_HUGE_PAGE_BYTES);
      }
      const start = end + hugePagePadding(base, end, fileOffset, delta + length, options);
      end = start + pagesFor(delta + length) * WASM_PAGE_BYTES;
      return { item, regionStart, start, delta, fileOffset, source: location.source, regionEnd: end };
    }
    end += pagesFor(length) * WASM_PAGE_BYTES;
    return { item, regionStart, start: regionStart, delta: 0, fileOffset: 0, source: undefined, regionEnd: end };
  });
  const totalBytes = items.reduce((sum, item) => sum + item.info.byteLength, 0);
  const what = items.length === 1 ? `${items[0]!.info.name} (${totalBytes} bytes)` : `${items.length} tensors (${totalBytes} bytes)`;
  const shift = grow(memory, (end - first) / WASM_PAGE_BYTES, what) - first; // 0 unless the memory grew since `first` was read
  const placed: WasmTensor[] = [];
  try {
    for (const plan of plans) {
      const { info } = plan.item;
      const region = { byteOffset: plan.regionStart + shift, byteLength: plan.regionEnd - plan.regionStart };
      const start = plan.start + shift;
      const mapping = plan.source?.mapIntoWasm?.(memory, start, plan.fileOffset, plan.delta + info.byteLength);
      if (mapping) {
        placed.push(describe(info, start + plan.delta, region, mapping));
        continue;
      }
      const bytes = await plan.item.readBytes();
      new Uint8Array(memory.buffer, start + plan.delta, info.byteLength).set(bytes);
      placed.push(describe(info, start + plan.delta, region, undefined));
    }
  } catch (error) {
    for (const tensor of placed) tensor.release();
    throw error;
  }
  return placed;
}
