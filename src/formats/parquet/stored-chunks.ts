/**
 * Where a whole stacked read keeps the stored bytes of a row group's wanted column chunks
 * while it decodes them (`row-group-bands.ts`, through `chunk-setup.ts`): in one mapping of
 * the file over the chunks when the source can map (the page cache's own pages: no copy,
 * no fresh memory), else in one fresh buffer cut in pieces (a `ScratchArena`), read into.
 *
 * Why the mapping: the fresh buffer (146 MB for pyarrow's 1M × 32 random float32 row group)
 * was zeroed by the kernel page by page at first touch and then filled by a copy from the
 * page cache, on every read; mapped, the decoders read the cached pages where they are.
 * A file shortened under the mapping reads as zeros past its new end (the addon's SIGBUS
 * handler) and is refused with `SOURCE_CHANGED` before any band decoded from it is handed
 * out ({@link StoredChunks.checkIntact}).
 */
import type { ColumnMetaData } from 'hyparquet';
import { checkMappedIntact, type ByteSource, type MappedBytes } from '../../storage/byte-source.js';
import { scratchArena, type ScratchArena } from '../../storage/scratch-pool.js';

/** The stored bytes of a row group's wanted chunks (see the module comment). */
export interface StoredChunks {
  /**
   * Room for the chunk stored at file offset `start`, `length` bytes: `filled` when the
   * bytes are the file's already (mapped), else to be read into; `undefined` when there is
   * no room for it here (the caller reads it into a buffer of its own).
   */
  take(start: number, length: number): { bytes: Uint8Array; filled: boolean } | undefined;
  /** Throws `SOURCE_CHANGED` when the file was shortened under the mapping (some bytes read as zeros). */
  checkIntact(): void;
}

/** Where a column chunk's stored bytes start in the file (its dictionary page, when it comes first) and how many there are. */
export function storedChunkSpan(meta: ColumnMetaData): { start: number; length: number } {
  // A chunk with a dictionary starts at its dictionary page, which comes before the data pages.
  const dictionaryAt = meta.dictionary_page_offset === undefined ? 0 : Number(meta.dictionary_page_offset);
  const dataAt = Number(meta.data_page_offset);
  return { start: dictionaryAt > 0 && dictionaryAt < dataAt ? dictionaryAt : dataAt, length: Number(meta.total_compressed_size) };
}

/**
 * The longest span mapped: the chunks of a row group are mapped at once only when the span
 * they lie in is at most this many times their own bytes (a selection of a few columns of
 * a wide row group is read into a buffer instead of mapping the columns between them).
 */
const MAPPED_SPAN_MAX_RATIO = 1.25;

/** Spans mapped at most (2 GiB): one typed array's reach everywhere. */
const MAPPED_SPAN_MAX_BYTES = 2 ** 31;

/**
 * The stored chunks of `metas` (a whole read's wanted columns): mapped when `source` can
 * map their span (see {@link MAPPED_SPAN_MAX_RATIO}), else a fresh buffer of their size when
 * the footer's sizes are plausible (within the file), else `undefined` (chunk by chunk
 * from the reader's pool).
 *
 * @example
 * ```ts
 * const chunks = parquetStoredChunks(source, metas);
 * const room = chunks?.take(start, length);
 * if (room && !room.filled) await source.readInto!(room.bytes, start);
 * ```
 */
export function parquetStoredChunks(source: ByteSource, metas: readonly (ColumnMetaData | undefined)[]): StoredChunks | undefined {
  if (!source.readInto) return undefined;
  const spans = metas.map((meta) => meta && storedChunkSpan(meta));
  const stored = spans.reduce((sum, span) => sum + (span?.length ?? 0) + 8, 0);
  if (!(Number.isSafeInteger(stored) && stored <= source.size + 8 * metas.length)) return undefined;
  const plausible = spans.filter((span): span is { start: number; length: number } => span !== undefined && Number.isSafeInteger(span.start) && Number.isSafeInteger(span.length) && span.start >= 0 && span.length > 0 && span.start + span.length <= source.size);
  if (plausible.length > 0 && source.map) {
    const first = Math.min(...plausible.map((span) => span.start));
    const end = Math.max(...plausible.map((span) => span.start + span.length));
    if (end - first <= MAPPED_SPAN_MAX_BYTES && end - first <= MAPPED_SPAN_MAX_RATIO * stored) {
      const mapped = source.map(first, end - first);
      if (mapped) return new MappedChunks(source, mapped, first);
    }
  }
  return new ArenaChunks(scratchArena(stored));
}

// Classes, not object literals with methods: a literal's methods are new functions on every
// read, and the band walk's optimized code, specialized on one read's, is thrown away by
// the next ("wrong call target" in `node --trace-deopt`).

/** Stored chunks read into pieces of one fresh buffer. */
class ArenaChunks implements StoredChunks {
  constructor(private readonly arena: ScratchArena) {}

  take(_start: number, length: number): { bytes: Uint8Array; filled: boolean } | undefined {
    const bytes = this.arena.take(length);
    return bytes && { bytes, filled: false };
  }

  checkIntact(): void {}
}

/** Stored chunks in `mapped`, the file's bytes from offset `first` on; its page tables set up on a worker meanwhile. */
class MappedChunks implements StoredChunks {
  constructor(private readonly source: ByteSource, private readonly mapped: MappedBytes, private readonly first: number) {
    // Fire and forget: the decoders fault in what the populate job has not reached yet; a
    // truncation it meets shows as faulted(), which checkIntact reports.
    mapped.populate?.()?.catch(() => undefined);
  }

  take(start: number, length: number): { bytes: Uint8Array; filled: boolean } | undefined {
    const { first, mapped } = this;
    if (start < first || start + length > first + mapped.bytes.byteLength) return undefined;
    return { bytes: mapped.bytes.subarray(start - first, start - first + length), filled: true };
  }

  checkIntact(): void {
    checkMappedIntact(this.mapped, this.source, this.first, 'a row group\'s column chunks', 'parquet');
  }
}
