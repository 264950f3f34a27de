/**
 * The read side of storage: anything that can hand out byte ranges.
 */
import type { PopulateMethod, WasmMemoryLike, WasmMemoryMapping } from './memory-map.js';
import { TensioError, throwIfAborted } from '../core/errors.js';

/** Options for one {@link ByteSource.read}. */
export interface ReadOptions {
  signal?: AbortSignal;
  /**
   * A hint: the caller goes on reading sequentially from this read's offset up to this
   * offset (exclusive), e.g. the end of a tensor it streams chunk by chunk. A remote
   * source may then fetch the whole run with one streamed request; others ignore it.
   */
  sequentialUntil?: number;
  /**
   * A hint: do this read's I/O off the JavaScript thread even when the source reads
   * synchronously by default (a local file's `syncReads`), because the caller works on
   * other data meanwhile (read-ahead). Sources without such a choice ignore it.
   */
  offThread?: boolean;
}

/**
 * Random-access bytes: a file, a buffer, a URL, an S3 object. Parsers ask for exactly
 * the ranges they need; nothing is read that is not asked for.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** A name for messages (a path or URL), when there is one. */
  readonly name?: string;
  /**
   * True when small reads are already served from a block cache (remote sources,
   * {@link withCache}): a parser that would add its own cache for many small reads
   * should use the source as it is, or the two caches multiply what is fetched.
   */
  readonly cached?: boolean;
  /**
   * True when reading `[offset, offset + length)` costs no I/O: the bytes are already in
   * memory (a remote source's opening answer). Remote sources have it; sources without
   * it are cheap to read anywhere (local files, bytes in memory). A parser may put off a
   * check of bytes that are not held until a read brings them anyway.
   */
  holds?(offset: number, length: number): boolean;
  /**
   * Reads `length` bytes at `offset`. Resolves to exactly `length` bytes or rejects with
   * `TRUNCATED` (past the end), or `SOURCE_CHANGED` (the file or object changed since it
   * was opened). The result may be a view into a shared buffer: copy before keeping it
   * past the next read if the source says it reuses memory (none of tensio's do).
   */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Reads into the caller's buffer (no allocation), when the source can. Sources
   * without it are read with {@link ByteSource.read} and copied.
   */
  readInto?(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  /**
   * True when a read asked for with {@link ReadOptions.offThread} runs on another thread
   * while the JavaScript thread goes on (a local file: libuv's thread pool), so a stream
   * may read its next chunk while the caller works on the current one. Sources without
   * it are read one chunk at a time.
   */
  readonly readsOffThread?: boolean;
  /**
   * A view of `length` bytes at `offset` backed by a memory mapping of the file
   * (`src/storage/memory-map.ts`: valid while referenced, copy-on-write), or `undefined`
   * when this range is not worth mapping or cannot be mapped: the caller then reads.
   * Only local file sources have it, and only when the native addon is in use.
   */
  map?(offset: number, length: number): MappedBytes | undefined;
  /**
   * Maps `length` bytes at `offset` (a multiple of 64 KiB) over the pages of a
   * WebAssembly memory starting at `byteOffset` (inside `memory.buffer`, a multiple of
   * 64 KiB), or `undefined` when this source or process cannot (`src/storage/memory-map.ts`,
   * `mapFileIntoWasmMemory`): the caller then copies. Only local file sources have it.
   */
  mapIntoWasm?(memory: WasmMemoryLike, byteOffset: number, offset: number, length: number): WasmMemoryMapping | undefined;
  /**
   * The address of `memory`'s first byte modulo `modulus` (a power of two), or
   * `undefined` when unknown; sources with {@link mapIntoWasm} may have it, so a mapped
   * tensor can be placed where its address agrees with its file offset modulo the
   * huge-page size (`src/model/wasm-memory.ts`).
   */
  wasmBaseModulo?(memory: WasmMemoryLike, modulus: number): number | undefined;
  /** Releases file handles or connections. Safe to call twice. */
  close?(): Promise<void>;
}

/** Bytes handed out by {@link ByteSource.map}: a view over a memory mapping. */
export interface MappedBytes {
  /** The bytes; valid for as long as referenced, writes stay in this process. */
  readonly bytes: Uint8Array;
  /** True once the file was shortened under the mapping and some of these bytes read as zeros. */
  faulted(): boolean;
  /**
   * Sets up the mapping's page tables on a worker thread ahead of a consumer that will
   * touch every byte (`populateMappedView` in `src/storage/memory-map.ts`); `undefined`
   * when the addon cannot. Rejects with `SOURCE_CHANGED` when the file was shortened.
   */
  populate?(): Promise<PopulateMethod> | undefined;
  /**
   * False once the file no longer holds these bytes (shortened since they were mapped);
   * asked before a mapping made ahead of its `read()` is handed out
   * (`src/model/next-span-map-ahead.ts`). Absent: not known.
   */
  stillThere?(): boolean;
}

/**
 * Throws `SOURCE_CHANGED` when the file under `mapped` (at file offset `offset`) was
 * shortened since it was mapped, so the bytes past its new end read as zeros: asked
 * before anything decoded from or viewing a mapping is handed out, so zeros never pass
 * for data. `what` says what the bytes hold ("a row group's column chunks").
 */
export function checkMappedIntact(mapped: MappedBytes, source: { readonly name?: string }, offset: number, what?: string, format?: string): void {
  if (!mapped.faulted()) return;
  const bytes = `${mapped.bytes.byteLength} bytes${what ? ` of ${what}` : ''}`;
  throw new TensioError('SOURCE_CHANGED', `${source.name ?? 'the file'} was shortened while ${bytes} at offset ${offset} were mapped; the bytes past its new end read as zeros (was it truncated or rewritten in place?)`, { offset, ...(format ? { format } : {}), ...(source.name ? { path: source.name } : {}) });
}

/** Throws `TRUNCATED` when a range falls outside a source of `size` bytes. */
export function checkRange(size: number, offset: number, length: number, name?: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new TensioError('TRUNCATED', `read of ${length} bytes at offset ${offset} runs past the end of ${name ?? 'the input'} (${size} bytes)`, { offset, ...(name ? { path: name } : {}) });
  }
}

/**
 * A {@link ByteSource} over bytes already in memory. Reads are views, not copies.
 *
 * @example
 * ```ts
 * const reader = await safetensorsOpen(bytesSource(fileBytes));
 * ```
 */
export function bytesSource(bytes: Uint8Array, name?: string): ByteSource {
  return {
    size: bytes.byteLength,
    ...(name !== undefined ? { name } : {}),
    async read(offset, length, options) {
      throwIfAborted(options?.signal);
      checkRange(bytes.byteLength, offset, length, name);
      return bytes.subarray(offset, offset + length);
    },
    async readInto(target, offset, options) {
      throwIfAborted(options?.signal);
      checkRange(bytes.byteLength, offset, target.byteLength, name);
      target.set(bytes.subarray(offset, offset + target.byteLength));
    },
  };
}

/** Reads `target.byteLength` bytes at `offset` into `target`, using `readInto` when the source has it. */
export async function readIntoFrom(source: ByteSource, target: Uint8Array, offset: number, options?: ReadOptions): Promise<void> {
  if (source.readInto) return source.readInto(target, offset, options);
  target.set(await source.read(offset, target.byteLength, options));
}

/**
 * A byte range of a source or store key: `{ offset, length }` from the front, or
 * `{ suffix }` for the last `suffix` bytes (how footers are found without knowing the
 * size first, as HTTP's `Range: bytes=-N`). A suffix longer than the data gives all of it.
 */
export type ByteRange = { readonly offset: number; readonly length: number } | { readonly suffix: number };

/**
 * Reads a {@link ByteRange} from a source. A suffix range is clamped to the source's
 * size (asking for the last 64 KiB of a 100-byte file gives its 100 bytes).
 *
 * @example
 * ```ts
 * const footer = await readRange(source, { suffix: 22 }); // a zip's end record
 * ```
 */
export async function readRange(source: ByteSource, range: ByteRange, options?: ReadOptions): Promise<Uint8Array> {
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix < 0) {
      throw new TensioError('INVALID_ARGUMENT', `suffix range of ${range.suffix} bytes is not a non-negative integer`);
    }
    const length = Math.min(range.suffix, source.size);
    return source.read(source.size - length, length, options);
  }
  return source.read(range.offset, range.length, options);
}

/** Anything tensio accepts where it reads: a source, or bytes in memory. */
export type ByteInput = ByteSource | Uint8Array;

/** Turns bytes into a source; passes a source through. */
export function toByteSource(input: ByteInput, name?: string): ByteSource {
  return input instanceof Uint8Array ? bytesSource(input, name) : input;
}
