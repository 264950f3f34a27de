/**
 * A decorator that serves many small reads from a few large ones: parsers of headers
 * and zip directories ask for bytes a few at a time, and over HTTP or S3 each request
 * costs a round trip. Reads are rounded out to aligned blocks, blocks are kept in a
 * small LRU, and large reads pass straight through without being cached.
 */
import type { ByteSource, ReadOptions } from './byte-source.js';
import { checkRange } from './byte-source.js';
import { throwIfAborted } from '../core/errors.js';

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

  async function block(index: number, readOptions?: ReadOptions): Promise<Uint8Array> {
    throwIfAborted(readOptions?.signal);
    const data = await sharedBlock(index);
    throwIfAborted(readOptions?.signal);
    return data;
  }

  function sharedBlock(index: number): Promise<Uint8Array> {
    const cached = blocks.get(index);
    if (cached) {
      blocks.delete(index);
      blocks.set(index, cached); // most recently used goes last
      return cached;
    }
    const start = index * blockBytes;
    // A block is shared by every caller that wants it, so no one caller's abort signal
    // may cancel it: each caller checks its own signal around the wait instead.
    const pending = fetchFromInner(start, Math.min(blockBytes, inner.size - start));
    pending.catch(() => blocks.delete(index));
    blocks.set(index, pending);
    while (blocks.size > maxBlocks) blocks.delete(blocks.keys().next().value!);
    return pending;
  }

  const cachedSource: CachedSource = {
    size: inner.size,
    ...(inner.name !== undefined ? { name: inner.name } : {}),
    stats,
    async read(offset, length, readOptions) {
      stats.reads += 1;
      checkRange(inner.size, offset, length, inner.name);
      if (length >= passThroughBytes) return fetchFromInner(offset, length, readOptions);
      if (length === 0) return new Uint8Array(0);
      const first = Math.floor(offset / blockBytes);
      const last = Math.floor((offset + length - 1) / blockBytes);
      if (first === last) {
        const data = await block(first, readOptions);
        const start = offset - first * blockBytes;
        return data.subarray(start, start + length);
      }
      const out = new Uint8Array(length);
      for (let index = first; index <= last; index++) {
        const data = await block(index, readOptions);
        const blockStart = index * blockBytes;
        const from = Math.max(offset, blockStart);
        const to = Math.min(offset + length, blockStart + data.byteLength);
        out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
      }
      return out;
    },
    async close() {
      blocks.clear();
      await inner.close?.();
    },
  };
  return cachedSource;
}
