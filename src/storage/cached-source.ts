/**
 * A decorator that serves many small reads from a few large ones: parsers of headers
 * and zip directories ask for bytes a few at a time, and over HTTP or S3 each request
 * costs a round trip. Reads are rounded out to aligned blocks, consecutive missing blocks
 * are fetched with one read (nearby ranges coalesce), blocks are kept in a small LRU,
 * and large reads pass straight through without being cached.
 */
import type { ByteSource, ReadOptions } from './byte-source.js';
import { checkRange } from './byte-source.js';
import { throwIfAborted } from '../core/errors.js';
import { allocateZeroed } from '../core/memory.js';

/** Options for {@link withCache}. */
export interface CacheOptions {
  /** Block size reads are rounded to, default 64 KiB. */
  blockBytes?: number;
  /** Blocks kept, default 64 (4 MiB at the default block size). */
  maxBlocks?: number;
  /** Reads at least this large bypass the cache, default 1 MiB. */
  passThroughBytes?: number;
}

/** Counters a cached source keeps, for tests and for `--debug`. */
export interface CacheStats {
  /** Reads asked of the cached source. */
  reads: number;
  /** Reads sent to the underlying source. */
  underlyingReads: number;
  /** Bytes fetched from the underlying source. */
  underlyingBytes: number;
}

/** A {@link ByteSource} with a block cache in front; see {@link withCache}. */
export interface CachedSource extends ByteSource {
  readonly stats: CacheStats;
  /** Reads into the caller's buffer; large reads go straight to the inner source's `readInto`. */
  readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  /** Seeds the cache with bytes already fetched (e.g. the head a remote source read when it opened). */
  prime(offset: number, bytes: Uint8Array): void;
}

/**
 * Wraps a source with a block cache that coalesces small nearby reads.
 *
 * @example
 * ```ts
 * const source = withCache(await fileSource(path), { blockBytes: 1 << 20 });
 * ```
 */
export function withCache(inner: ByteSource, options: CacheOptions = {}): CachedSource {
  const blockBytes = options.blockBytes ?? 64 * 1024;
  const maxBlocks = options.maxBlocks ?? 64;
  const passThroughBytes = options.passThroughBytes ?? 1024 * 1024;
  const blocks = new Map<number, Promise<Uint8Array>>();
  const stats: CacheStats = { reads: 0, underlyingReads: 0, underlyingBytes: 0 };

  function fetchFromInner(offset: number, length: number, readOptions?: ReadOptions): Promise<Uint8Array> {
    stats.underlyingReads += 1;
    stats.underlyingBytes += length;
    return inner.read(offset, length, readOptions);
  }

  function remember(index: number, pending: Promise<Uint8Array>): void {
    pending.catch(() => {
      if (blocks.get(index) === pending) blocks.delete(index);
    });
    blocks.set(index, pending);
    while (blocks.size > maxBlocks) blocks.delete(blocks.keys().next().value!);
  }

  function cachedBlock(index: number): Promise<Uint8Array> | undefined {
    const cached = blocks.get(index);
    if (cached) {
      blocks.delete(index);
      blocks.set(index, cached); // most recently used goes last
    }
    return cached;
  }

  /**
   * The blocks `first..last`, fetching each run of consecutive missing blocks with ONE
   * read of the inner source (nearby small reads coalesce into one request). A block is
   * shared by every caller that wants it, so no one caller's abort signal may cancel
   * it: each caller checks its own signal around the wait instead.
   */
  function blocksFor(first: number, last: number): Promise<Uint8Array>[] {
    const out: Promise<Uint8Array>[] = [];
    let index = first;
    while (index <= last) {
      const cached = cachedBlock(index);
      if (cached) {
        out.push(cached);
        index += 1;
        continue;
      }
      let runEnd = index;
      while (runEnd + 1 <= last && !blocks.has(runEnd + 1)) runEnd += 1;
      const start = index * blockBytes;
      const end = Math.min((runEnd + 1) * blockBytes, inner.size);
      const run = fetchFromInner(start, end - start);
      for (let member = index; member <= runEnd; member++) {
        const from = (member - index) * blockBytes;
        const pending = run.then((data) => data.subarray(from, Math.min(from + blockBytes, data.byteLength)));
        remember(member, pending);
        out.push(pending);
      }
      index = runEnd + 1;
    }
    return out;
  }

  const cachedSource: CachedSource = {
    size: inner.size,
    ...(inner.name !== undefined ? { name: inner.name } : {}),
    cached: true,
    stats,
    async read(offset, length, readOptions) {
      stats.reads += 1;
      checkRange(inner.size, offset, length, inner.name);
      if (length >= passThroughBytes) return fetchFromInner(offset, length, readOptions);
      if (length === 0) return new Uint8Array(0);
      throwIfAborted(readOptions?.signal);
      const first = Math.floor(offset / blockBytes);
      const last = Math.floor((offset + length - 1) / blockBytes);
      const pending = blocksFor(first, last);
      if (first === last) {
        const data = await pending[0]!;
        throwIfAborted(readOptions?.signal);
        const start = offset - first * blockBytes;
        return data.subarray(start, start + length);
      }
      const out = allocateZeroed(length);
      for (let index = first; index <= last; index++) {
        const data = await pending[index - first]!;
        throwIfAborted(readOptions?.signal);
        const blockStart = index * blockBytes;
        const from = Math.max(offset, blockStart);
        const to = Math.min(offset + length, blockStart + data.byteLength);
        out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
      }
      return out;
    },
    async readInto(target, offset, readOptions) {
      if (target.byteLength >= passThroughBytes && inner.readInto) {
        stats.reads += 1;
        checkRange(inner.size, offset, target.byteLength, inner.name);
        stats.underlyingReads += 1;
        stats.underlyingBytes += target.byteLength;
        return inner.readInto(target, offset, readOptions);
      }
      target.set(await cachedSource.read(offset, target.byteLength, readOptions));
    },
    prime(offset, bytes) {
      // Only whole blocks (or the file's last, short block) are kept.
      const first = Math.ceil(offset / blockBytes);
      for (let index = first; ; index++) {
        const start = index * blockBytes;
        const end = Math.min(start + blockBytes, inner.size);
        if (start >= inner.size || end > offset + bytes.byteLength) break;
        remember(index, Promise.resolve(bytes.subarray(start - offset, end - offset)));
      }
    },
    async close() {
      blocks.clear();
      await inner.close?.();
    },
  };
  return cachedSource;
}
