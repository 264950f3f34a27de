/**
 * Memory-mapped file ranges through tensio's own small N-API addon (`native/`), loaded
 * lazily on the first map and only in Node. When the addon was not built (no compiler
 * at install time), cannot load, or `TENSIO_NO_MMAP=1` is set, {@link mapFileRange}
 * answers `undefined` and callers read the bytes the ordinary way.
 *
 * The lifetime rule (one for every format): a mapped tensor is an ordinary
 * `Uint8Array` over an `ArrayBuffer` that owns its mapping. It stays valid for as long
 * as a reference to it (or to any view of its buffer) is held, also after the reader is
 * closed; the mapping is released when the buffer is garbage collected. The mapping is
 * copy-on-write: writing into the array changes this process's copy, never the file.
 * A transfer list (`postMessage`, `structuredClone`) copies the buffer instead of moving
 * it, as Node does with every external buffer.
 *
 * V8 counts an external buffer's whole length as external memory, and any increase over
 * 64 MiB starts a collection: every Node-API mapped tensor over 64 MiB did (no adjustment
 * around it helps: V8's limit follows the lowest count since the last mark-compact). So
 * with an addon built for the running Node's major, mappings are handed out as buffers V8
 * leaves out of that count (`native/src/tensio_mmap_v8.cc`), charged what they cost
 * instead (1 MiB plus page tables), and reading a large tensor starts no collection (1 GiB
 * `.npy`: read() 0.3 ms against 5-17 ms with the collection's scavenges). Their backing
 * store owns the mapping, so they detach and move like any buffer (web byte streams detach
 * every chunk) and unreferenced mappings are still collected (about 64 start a collection).
 * `TENSIO_MMAP_COUNTED=1` (read at every map) asks for the Node-API kind instead;
 * `memoryMapStatus().mappingAccounting` says which is in use.
 *
 * A file shortened while mapped: the addon's SIGBUS handler turns the pages past the new
 * end into zeros instead of letting the process die, and {@link memoryMapFaulted} says
 * so; `stream()` over a mapping checks it between chunks and fails with
 * `SOURCE_CHANGED`. A range past the file's end at map time is refused with
 * `SOURCE_CHANGED` before anything is mapped.
 */
import { createRequire } from 'node:module';
import { markAsUntransferable } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TensioError } from '../core/errors.js';
import { hugePageStatus } from './huge-pages.js';
import type { MemoryMapStatus, MmapAddon, PopulateMethod, PopulateSupport, WasmMemoryLike, WasmMemoryMapping } from './memory-map-types.js';

export type { MemoryMapStatus, MmapAddon, PopulateMethod, PopulateSupport, WasmMemoryLike, WasmMemoryMapping } from './memory-map-types.js';

/** The environment variable that turns memory mapping off (`TENSIO_NO_MMAP=1`). */
export const NO_MMAP_ENV = 'TENSIO_NO_MMAP';

/**
 * The environment variable that asks for mapped buffers V8 counts at their whole length
 * (`TENSIO_MMAP_COUNTED=1`, read at every map: Node-API external buffers, each over 64 MiB
 * starting a collection) instead of the charged default; see the module's notes.
 */
export const COUNTED_MMAP_ENV = 'TENSIO_MMAP_COUNTED';

/**
 * Tensors smaller than this are read, not mapped: a map and its unmap cost a few
 * system calls and a page-table entry per page, more than copying a few pages does.
 * A source's `mapMinBytes` option changes it.
 */
export const MAP_MIN_BYTES = 64 * 1024;

/**
 * The largest single mapping. V8 refuses ArrayBuffers over 2^32 bytes, so longer
 * ranges (a stream over a tensor past 4 GiB) are mapped one window at a time.
 */
export const MAP_MAX_WINDOW_BYTES = 2 ** 32;

let loaded: { addon?: MmapAddon; path?: string; reason: string; uncounted?: boolean } | undefined;

/** The addon's build output, relative to this module in `src/storage/` or `dist/storage/`. */
function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '..', '..');
  return [join(root, 'native', 'build', 'Release', 'tensio_mmap.node')];
}

function loadAddon(): { addon?: MmapAddon; path?: string; reason: string; uncounted?: boolean } {
  if (loaded) return loaded;
  if (typeof process === 'undefined' || !process.versions?.node) {
    loaded = { reason: 'memory mapping needs Node.js; this runtime reads through ordinary reads' };
    return loaded;
  }
  const flag = process.env[NO_MMAP_ENV];
  if (flag !== undefined && flag !== '' && flag !== '0') {
    loaded = { reason: `memory mapping is off because ${NO_MMAP_ENV}=${flag}; files are read with ordinary positional reads` };
    return loaded;
  }
  if (process.platform === 'win32') {
    loaded = { reason: 'memory mapping is not built on Windows; files are read with ordinary positional reads' };
    return loaded;
  }
  const path = addonCandidates().find((candidate) => existsSync(candidate));
  if (!path) {
    loaded = { reason: 'the native addon was not built (no C compiler or Node headers at install time); files are read with ordinary positional reads. Run `npm run build:native` with a compiler installed to turn mapping on' };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as MmapAddon;
    // Buffers left out of V8's count are made only once the addon has the marker (transfer lists copy them, as Node's external buffers).
    const uncounted = addon.setUntransferableMarker?.(markAsUntransferable) === true && addon.storeOwnedBuffers === true;
    loaded = { addon, path, reason: `local files are memory-mapped through ${path}`, uncounted };
  } catch (error) {
    loaded = { reason: `the native addon at ${path} could not be loaded (${(error as Error).message}); files are read with ordinary positional reads. Rebuild it with \`npm run build:native\`` };
  }
  return loaded;
}

/**
 * Says whether tensio maps local files and why.
 *
 * @example
 * ```ts
 * const status = memoryMapStatus();
 * if (!status.enabled) console.warn(status.reason);
 * ```
 */
export function memoryMapStatus(): MemoryMapStatus {
  const state = loadAddon();
  const huge = { ...hugePageStatus(), ...populateStatus() };
  if (!state.addon) return { enabled: false, reason: state.reason, ...huge };
  const stats = state.addon.stats();
  const countedFlag = process.env[COUNTED_MMAP_ENV];
  const charged = state.uncounted === true && (countedFlag === undefined || countedFlag === '' || countedFlag === '0');
  return { enabled: true, reason: state.reason, addonPath: state.path!, liveMappings: stats.liveMappings, faults: stats.faults, mappingAccounting: charged ? 'charged' : 'counted', ...huge };
}

/** What populate does here, for {@link memoryMapStatus}. */
function populateStatus(): { populate: PopulateSupport; populateReason: string } {
  const addon = loadAddon().addon;
  if (!addon) return { populate: 'unavailable', populateReason: 'fault-ahead (populate options) needs the native addon, which is not in use; mapped pages are faulted in by their first touch' };
  if (!addon.populate) return { populate: 'unavailable', populateReason: 'the native addon was built before it could populate mappings; populate options do nothing. Rebuild it with `npm run build:native`' };
  let method: PopulateMethod = 'populate';
  try {
    // An addon with populate() but no probe: populate() itself finds out per job.
    method = addon.populateProbe ? addon.populateProbe() : 'populate';
  } catch {
    method = 'none';
  }
  if (method === 'populate') return { populate: 'populate', populateReason: 'populate options set up page tables on a libuv worker thread ahead of the consumer (MADV_POPULATE_READ)' };
  if (method === 'willneed') return { populate: 'willneed', populateReason: 'this kernel lacks MADV_POPULATE_READ (Linux < 5.14): populate options only advise MADV_WILLNEED (page-cache read-ahead); the consumer still takes the page faults' };
  return { populate: 'unavailable', populateReason: 'populate could not be tried on this system (the probe mapping failed); populate options may do nothing' };
}

/**
 * True when mapping is available in this process (the addon loaded and it is not turned off).
 *
 * @example
 * ```ts
 * const source = await fileSource(path, { map: memoryMapAvailable() && !needsSnapshot });
 * ```
 */
export function memoryMapAvailable(): boolean {
  return loadAddon().addon !== undefined;
}

/**
 * True when the loaded addon can also map several file ranges side by side
 * ({@link mapFileRanges}); an addon built before that call existed cannot (rebuild it
 * with `npm run build:native`), and segmented NumPack loads are then read.
 *
 * @example
 * ```ts
 * if (!memoryMapJoinAvailable()) console.warn('segmented arrays load by reads');
 * ```
 */
export function memoryMapJoinAvailable(): boolean {
  return loadAddon().addon?.mapJoined !== undefined;
}

/** The buffers this module created, so {@link isMemoryMapped} needs no native call. */
const mappedBuffers = new WeakSet<ArrayBufferLike>();

/**
 * Maps `length` bytes at `offset` of the open file `fd` and returns them as a
 * `Uint8Array` that owns the mapping (see the module's lifetime rule). Returns
 * `undefined` when mapping is unavailable or the system refuses this one (address space,
 * the map count limit, the addon's table of live mappings): the caller then reads.
 * Throws `SOURCE_CHANGED` when the range runs past the file's current end.
 *
 * @example
 * ```ts
 * const view = mapFileRange(handle.fd, 4096, 1 << 20, 'model.safetensors') ?? await source.read(4096, 1 << 20);
 * ```
 */
export function mapFileRange(fd: number, offset: number, length: number, name: string): Uint8Array | undefined {
  const addon = loadAddon().addon;
  if (!addon || length <= 0 || length > MAP_MAX_WINDOW_BYTES) return undefined;
  let buffer: ArrayBuffer;
  try {
    buffer = addon.map(fd, offset, length);
  } catch (error) {
    if ((error as { code?: string }).code === 'ESTALE') {
      throw new TensioError('SOURCE_CHANGED', `${name} is shorter than when it was opened: ${length} bytes at offset ${offset} are no longer there (was the file truncated or rewritten in place?)`, { path: name, offset });
    }
    return undefined;
  }
  mappedBuffers.add(buffer);
  return new Uint8Array(buffer);
}

/** One piece of a joined mapping: `length` bytes at `offset` of the open file `fd`. */
export interface MapPiece {
  readonly fd: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Maps several file ranges end to end as one `Uint8Array` (NumPack's segment files as
 * one array), owning one mapping with the same lifetime and copy-on-write rule as
 * {@link mapFileRange}. This is only possible when every boundary between pieces falls
 * on a page both in memory and in the file: every piece after the first starts at a
 * page-aligned offset and every piece before the last ends on a page boundary of the
 * joined range (see {@link joinedMappable}). Returns `undefined` when mapping is
 * unavailable, the layout is not mappable or the system refuses; throws
 * `SOURCE_CHANGED` when a range runs past its file's current end.
 *
 * @example
 * ```ts
 * const all = mapFileRanges([{ fd: a.fd, offset: 0, length: 1 << 20 }, { fd: b.fd, offset: 0, length: 4000 }], 'x');
 * ```
 */
export function mapFileRanges(pieces: readonly MapPiece[], name: string): Uint8Array | undefined {
  const addon = loadAddon().addon;
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (!addon?.mapJoined || pieces.length === 0 || total > MAP_MAX_WINDOW_BYTES || !joinedMappable(pieces, addon.stats().pageSize)) return undefined;
  let buffer: ArrayBuffer;
  try {
    buffer = addon.mapJoined(pieces.flatMap((piece) => [piece.fd, piece.offset, piece.length]));
  } catch (error) {
    if ((error as { code?: string }).code === 'ESTALE') {
      throw new TensioError('SOURCE_CHANGED', `${name}: a file is shorter than when it was opened, ${total} bytes in ${pieces.length} pieces can no longer be mapped (was a file truncated or rewritten in place?)`, { path: name });
    }
    return undefined;
  }
  mappedBuffers.add(buffer);
  return new Uint8Array(buffer);
}

/**
 * True when `pieces` can be mapped side by side with pages of `pageSize` bytes (the
 * rule of {@link mapFileRanges}).
 *
 * @example
 * ```ts
 * joinedMappable([{ fd: 3, offset: 0, length: 8192 }, { fd: 4, offset: 0, length: 10 }], 4096); // true
 * ```
 */
export function joinedMappable(pieces: readonly MapPiece[], pageSize: number): boolean {
  let end = pieces.length > 0 ? pieces[0]!.offset % pageSize : 0;
  for (const [index, piece] of pieces.entries()) {
    if (piece.length <= 0) return false;
    if (index > 0 && (piece.offset % pageSize !== 0 || end % pageSize !== 0)) return false;
    end += piece.length;
  }
  return true;
}

/**
 * True when the loaded addon can set up a mapping's page tables on a worker thread
 * ({@link populateMappedView}); an addon built before that call existed cannot (rebuild
 * it with `npm run build:native`), and `populate` options then do nothing.
 *
 * @example
 * ```ts
 * if (!memoryMapPopulateAvailable()) console.warn('mapped tensors fault in on first touch');
 * ```
 */
export function memoryMapPopulateAvailable(): boolean {
  return loadAddon().addon?.populate !== undefined;
}

/**
 * Sets up the page tables of the whole mapping behind `view` (a view {@link mapFileRange}
 * or {@link mapFileRanges} returned) on a libuv worker thread, from its first byte on in
 * 4 MiB windows, for a consumer about to touch every byte: each fault it would have
 * taken on its own thread (one per 64 KiB of a file cached in small folios, one per
 * 2 MiB otherwise) is then done ahead of it, on another core when there is one. Jobs run
 * one at a time in the order they were asked for. Copy-on-write is kept (pages are
 * mapped read-only until written), and the mapping stays alive until the job settles.
 *
 * Returns `undefined` when `view` is not a mapping tensio made or the addon cannot
 * populate; otherwise a promise of what was done ({@link PopulateMethod}), rejected with
 * `SOURCE_CHANGED` when the file was shortened under the mapping (the consumer's own
 * touch of the missing pages then reads zeros and {@link memoryMapFaulted} says so, as for
 * any mapping). Setting `cancel[0]` to a non-zero value stops the job at its next window.
 *
 * @example
 * ```ts
 * const view = mapFileRange(fd, 0, length, 'model.pt')!;
 * void populateMappedView(view, 'model.pt')?.catch(() => undefined); // then sum `view` right away
 * ```
 */
export function populateMappedView(view: ArrayBufferView, name: string, cancel?: Int32Array): Promise<PopulateMethod> | undefined {
  if (!mappedBuffers.has(view.buffer)) return undefined;
  const job = populateJob(view.buffer as ArrayBuffer, view.byteLength, name, cancel);
  // The failure is also kept with the buffer, so a caller that dropped the promise can still ask.
  job?.catch((error: TensioError) => populateFailures.set(view.buffer, error));
  return job;
}

/**
 * Bytes of populate jobs the addon's worker has not finished yet (queued or running; the
 * worker decrements it as it goes, so it is current without a turn of the event loop), or
 * `undefined` when the addon is not loaded or was built before it could say (rebuild it
 * with `npm run build:native`). `read()`'s default fault-ahead is skipped while it is over
 * `READ_POPULATE_BACKLOG_BYTES`.
 *
 * @example
 * ```ts
 * if ((memoryMapPopulatePending() ?? 0) > 0) console.log('the populate worker is busy');
 * ```
 */
export function memoryMapPopulatePending(): number | undefined {
  const addon = loadAddon().addon;
  return addon?.populate && addon.populatePending ? addon.populatePending() : undefined;
}

/** Populate failures of mapped buffers, for {@link memoryMapPopulateError}. */
const populateFailures = new WeakMap<ArrayBufferLike, TensioError>();

/**
 * Why populating the mapping behind `view` failed ({@link populateMappedView}, or a read
 * with `populate: true`), or `undefined` when it did not fail (or was not asked for).
 * `SOURCE_CHANGED` means the file was shortened under the mapping. A populate job that
 * fails never throws on its own: it is a hint, and its failure waits here to be asked for
 * (`readEach` asks before every step).
 *
 * @example
 * ```ts
 * const tensor = await reader.read('weight', { populate: true });
 * const error = memoryMapPopulateError(tensor.data);
 * if (error) throw error;
 * ```
 */
export function memoryMapPopulateError(view: ArrayBufferView): TensioError | undefined {
  return populateFailures.get(view.buffer);
}

/** One populate job on the addon's worker, its error turned into a TensioError; `undefined` when the addon cannot. */
function populateJob(target: ArrayBuffer | object, byteLength: number, name: string, cancel?: Int32Array): Promise<PopulateMethod> | undefined {
  const addon = loadAddon().addon;
  if (!addon?.populate) return undefined;
  let job: Promise<PopulateMethod>;
  try {
    job = cancel ? addon.populate(target, cancel) : addon.populate(target);
  } catch {
    return undefined;
  }
  return job.catch((error: { code?: string; message?: string }) => {
    if (error.code === 'EFAULT') {
      throw new TensioError('SOURCE_CHANGED', `${name} was shortened while ${byteLength} mapped bytes were being populated: part of them no longer has file data behind it (was the file truncated or rewritten in place?)`, { path: name });
    }
    throw new TensioError('IO_ERROR', `${name}: populating ${byteLength} mapped bytes failed (${error.code ?? 'error'}: ${error.message ?? ''})`, { path: name });
  });
}

/**
 * True when `view` is backed by a memory mapping that tensio made (its bytes come from
 * the file's pages, shared with the page cache until written to).
 *
 * @example
 * ```ts
 * const tensor = await reader.read('weight');
 * console.log(isMemoryMapped(tensor.data) ? 'zero-copy' : 'copied');
 * ```
 */
export function isMemoryMapped(view: ArrayBufferView): boolean {
  return mappedBuffers.has(view.buffer);
}

/**
 * True when the file behind a mapped view was shortened under it and some of its pages
 * now read as zeros (the process was kept alive instead of dying of SIGBUS). Always
 * false for views that are not mapped.
 *
 * @example
 * ```ts
 * if (memoryMapFaulted(tensor.data)) throw new Error('the file changed while it was in use');
 * ```
 */
export function memoryMapFaulted(view: ArrayBufferView): boolean {
  const addon = loadAddon().addon;
  if (!addon || !mappedBuffers.has(view.buffer)) return false;
  return addon.faulted(view.buffer as ArrayBuffer);
}

/**
 * Why file ranges cannot be mapped into a WebAssembly memory in this process, or
 * `undefined` when they can. Mapping into wasm memory relies on V8 never moving a
 * memory's pages, which holds when its wasm trap handler reserves every memory's whole
 * address range up front: Node's default on Linux x64. Elsewhere, or when V8 flags about
 * WebAssembly were given, tensio copies instead.
 */
export function wasmMappingUnavailableReason(): string | undefined {
  const state = loadAddon();
  if (!state.addon) return state.reason;
  if (process.platform !== 'linux' || process.arch !== 'x64') return `mapping into WebAssembly memory is only done on Linux x64 (this is ${process.platform} ${process.arch}); tensors are copied in`;
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  if (/wasm|liftoff|turbofan/i.test(flags)) return 'V8 flags about WebAssembly were given (execArgv or NODE_OPTIONS), so the memory layout mapping relies on is not assured; tensors are copied in';
  return undefined;
}

/**
 * Maps `length` bytes at `fileOffset` of the open file `fd` over the pages of `memory`
 * starting at `byteOffset` (both multiples of the page size, the pages inside
 * `memory.buffer`). WebAssembly code then reads the file's cached pages in place; its
 * writes stay private (copy-on-write). Returns `undefined` when mapping into wasm memory
 * is unavailable ({@link wasmMappingUnavailableReason}) or refused by the system: the
 * caller copies instead. Throws `SOURCE_CHANGED` when the range runs past the file's end.
 *
 * @example
 * ```ts
 * const at = memory.grow(pages) * 65536;
 * const mapping = mapFileIntoWasmMemory(memory, at, handle.fd, 0, length, 'model.npy');
 * ```
 */
export function mapFileIntoWasmMemory(memory: WasmMemoryLike, byteOffset: number, fd: number, fileOffset: number, length: number, name: string): WasmMemoryMapping | undefined {
  if (wasmMappingUnavailableReason() !== undefined || length <= 0) return undefined;
  const addon = loadAddon().addon!;
  let handle: object;
  try {
    handle = addon.mapInto(memory, byteOffset, fd, fileOffset, length);
  } catch (error) {
    if ((error as { code?: string }).code === 'ESTALE') {
      throw new TensioError('SOURCE_CHANGED', `${name} is shorter than when it was opened: ${length} bytes at offset ${fileOffset} are no longer there (was the file truncated or rewritten in place?)`, { path: name, offset: fileOffset });
    }
    return undefined;
  }
  return {
    release: () => addon.unmapInto(handle),
    faulted: () => addon.intoFaulted(handle),
    populate: (cancel?: Int32Array) => populateJob(handle, length, name, cancel),
  };
}

/**
 * The address of `memory`'s first byte modulo `modulus` (a power of two), or `undefined`
 * when mapping into wasm memory is unavailable or the addon predates this call. Placing a
 * mapped tensor so that its address agrees with its file offset modulo the huge-page
 * size lets the kernel map the file's 2 MiB page-cache folios whole, one fault per 2 MiB
 * instead of one per 64 KiB (`src/model/wasm-memory.ts`; bench/README.md has the figures).
 *
 * @example
 * ```ts
 * const base = wasmMemoryBaseModulo(memory, 2 * 1024 * 1024) ?? 0;
 * ```
 */
export function wasmMemoryBaseModulo(memory: WasmMemoryLike, modulus: number): number | undefined {
  if (wasmMappingUnavailableReason() !== undefined) return undefined;
  const addon = loadAddon().addon!;
  if (!addon.baseModulo) return undefined;
  try {
    return addon.baseModulo(memory, modulus);
  } catch {
    return undefined;
  }
}

/** The system's page size as the addon sees it (4096 when the addon is not loaded). */
export function memoryMapPageSize(): number {
  return loadAddon().addon?.stats().pageSize ?? 4096;
}

/**
 * The loaded addon, for the other modules that call into it (`native-snappy.ts`, `native-gather.ts`,
 * `native-zstd.ts`, `huge-pages.ts`), or
 * undefined when it is not loaded (`TENSIO_NO_MMAP=1`, no build, the browser).
 *
 * @example
 * ```ts
 * const snappyInto = loadedAddon()?.snappyUncompressInto;
 * ```
 */
export function loadedAddon(): MmapAddon | undefined {
  return loadAddon().addon;
}
