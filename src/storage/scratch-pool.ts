/**
 * Reusable byte buffers for bytes a table reader holds only while it decodes them
 * (Parquet: the stored bytes of a column chunk, read, decompressed, then dropped, and
 * the columns of a stacked read; Arrow: the decompressed buffers of a stacked read). A fresh buffer
 * costs its first touch, page fault by page fault, which on the machines measured here
 * is about three times the cost of reading the same bytes from the page cache; a reader
 * that reuses the buffers of the last row group pays it once, and one kept across readers
 * ({@link ScratchRetention}) pays it once for reads that follow each other. A
 * {@link ScratchArena} is the other answer, for bytes that are all wanted at once: one
 * fresh buffer, cut in pieces.
 */
import { allocateUninitialized } from '../core/memory.js';

/**
 * How long a pool shared by many readers (one per process) keeps its idle buffers, and how
 * many bytes of them: what it holds when no read is running.
 */
export interface ScratchRetention {
  /** Most bytes of idle buffers kept; a buffer given back past it is left to the garbage collector. */
  readonly maxIdleBytes: number;
  /** The idle buffers are dropped once the pool has gone unused (no take, no give) for about this long (between one and two periods). */
  readonly idleMs: number;
}

/** A pool of scratch buffers; {@link ScratchPool.take} one, give it back when done. */
export class ScratchPool {
  private readonly free: Uint8Array<ArrayBuffer>[] = [];
  /**
   * The idle buffers' sizes, `free`'s order: `take` scans these numbers, not the buffers'
   * `byteLength` getters (a megamorphic load each: with the ~1,000 idle pages of a whole
   * Parquet read, the scan was ~50 µs a take, 7% of the read's CPU).
   */
  private readonly sizes: number[] = [];
  /** The whole buffer behind each view handed out (its ArrayBuffer may be shared with others). */
  private readonly wholes = new WeakMap<ArrayBuffer, Uint8Array<ArrayBuffer>>();
  /** Bytes of the idle buffers. */
  private idleBytes = 0;
  /** Taken or given since the idle timer last looked (see {@link ScratchRetention.idleMs}). */
  private used = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param keep Most idle buffers kept (one batch's buffers in use at once: about the column count).
   * @param maxBytes Largest buffer kept; larger ones are left to the garbage collector.
   * @param retention For a pool that outlives its readers: a bound on the idle bytes, and
   *   when to drop them. Without it the pool lives and dies with its reader.
   */
  constructor(private readonly keep = 64, private readonly maxBytes = 64 * 2 ** 20, private readonly retention?: ScratchRetention) {}

  /** Bytes of the buffers idle in the pool now. */
  get idle(): number {
    return this.idleBytes;
  }

  /** Drops every idle buffer (the garbage collector frees them); buffers handed out stay the takers'. */
  trim(): void {
    this.free.length = 0;
    this.sizes.length = 0;
    this.idleBytes = 0;
  }

  /** Notes a use, and makes sure the idle timer runs while buffers are idle. */
  private touch(): void {
    if (!this.retention) return;
    this.used = true;
    if (this.timer !== undefined || this.free.length === 0) return;
    const look = () => {
      this.timer = undefined;
      if (!this.used) {
        this.trim();
        return;
      }
      this.used = false;
      if (this.free.length > 0) this.arm(look);
    };
    this.arm(look);
  }

  private arm(look: () => void): void {
    this.timer = setTimeout(look, this.retention!.idleMs);
    // It never keeps the process alive (Node; a browser's timers have no unref).
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * A buffer of exactly `length` bytes whose contents are stale (the caller overwrites
   * them): a view of the smallest idle buffer that is large enough (and at most `most`
   * bytes: a caller that takes many sizes keeps its large buffers for its large takes), or
   * a new one (`length` and a sixteenth).
   *
   * @example
   * ```ts
   * const bytes = pool.take(length);
   * try { await source.readInto!(bytes, offset); decode(bytes); } finally { pool.give(bytes); }
   * ```
   */
  take(length: number, most = Number.POSITIVE_INFINITY): Uint8Array<ArrayBuffer> {
    let best = -1;
    const { sizes } = this;
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i]!;
      if (size >= length && size <= most && (best < 0 || size < sizes[best]!)) best = i;
    }
    if (best < 0) {
      // Round up a little so a later chunk a few bytes larger still fits.
      const buffer = allocateUninitialized(length + (length >> 4));
      this.wholes.set(buffer.buffer, buffer);
      this.touch();
      return buffer.subarray(0, length);
    }
    const buffer = this.free.splice(best, 1)[0]!;
    this.sizes.splice(best, 1);
    this.idleBytes -= buffer.byteLength;
    this.touch();
    return buffer.subarray(0, length);
  }

  /**
   * Returns a buffer from {@link take}; nothing may use it afterwards. When the pool is
   * full (`keep` buffers, or the retention's bytes), the buffers idle longest make room:
   * the one given back is the size the current reads take. Keeping the old ones instead
   * left a shared pool full of the last file's buffers, all too small for the next file's
   * chunks, for as long as reads kept coming (a pyarrow-default file's columnar read after
   * the bench table's took 240 MB of fresh buffers a read: 145 → 490 ms CPU).
   */
  give(bytes: Uint8Array): void {
    const whole = this.wholes.get(bytes.buffer as ArrayBuffer);
    if (!whole || whole.byteOffset !== bytes.byteOffset || whole.byteLength > this.maxBytes || this.keep < 1 || this.free.includes(whole)) return;
    const maxIdle = this.retention?.maxIdleBytes ?? Number.POSITIVE_INFINITY;
    if (whole.byteLength > maxIdle) return;
    while (this.free.length >= this.keep || this.idleBytes + whole.byteLength > maxIdle) {
      this.idleBytes -= this.free.shift()!.byteLength;
      this.sizes.shift();
    }
    this.free.push(whole);
    this.sizes.push(whole.byteLength);
    this.idleBytes += whole.byteLength;
    this.touch();
  }
}

/**
 * The scratch of whole table reads (Parquet's stored chunks, the 4 MiB slabs a banded
 * read cuts its decoded pages from, a stacked read's columns and band buffers; Arrow's
 * decompressed buffers), one for the process:
 * reads that follow each other (a script reading files in turn, `tensio convert` of
 * many, a Parquet file then a Feather file) reuse the last one's buffers instead of
 * faulting in fresh ones. A reader's own pool was new memory at every open: tensio's
 * 1M × 32 float32 zstd Parquet file (row groups of 100,000 rows), stacked, took ~5,000
 * minor faults a read for its first row group's 64 buffers (~21 MB) and V8 counted them
 * as new external memory; shared, ~400 faults and 390 → 240 ms CPU (load ~4, not
 * quotable). Readers running at once take different buffers (a taken buffer leaves the
 * pool). Kept when idle: at most 64 MiB, dropped after 1-2 s without a read.
 */
export const TABLE_READ_SCRATCH = new ScratchPool(64, 64 * 2 ** 20, { maxIdleBytes: 64 * 2 ** 20, idleMs: 1000 });

/**
 * Consecutive pieces of one buffer (8-byte aligned), for a banded row group's stored
 * chunks (its decoded pages were too, until they went to reused slabs, see Parquet's
 * `ParquetBandScratch`): never given back one by one, the whole buffer is dropped
 * once every decode has settled. Why: those buffers came from the heap, reused from the
 * last reader's; after the process started any child (fork write-protects every page it
 * has), writing them faulted each 4 KiB page again: a million-row pyarrow file's 88 MB
 * took ~23,000 faults and 250-550 ms of kernel time. One allocation of their total size
 * is a fresh huge-page buffer (`allocateUninitialized` from 3.5 MiB): ~45 faults.
 */
export interface ScratchArena {
  /** `length` bytes not handed out before, or undefined when the buffer is used up. */
  take(length: number): Uint8Array | undefined;
}

/**
 * A {@link ScratchArena} over a new buffer of `length` bytes.
 *
 * @example
 * ```ts
 * const arena = scratchArena(stored + decoded);
 * const chunk = arena.take(chunkBytes) ?? pool.take(chunkBytes);
 * ```
 */
export function scratchArena(length: number): ScratchArena {
  const bytes = allocateUninitialized(length);
  let at = 0;
  return {
    take(size) {
      const start = Math.ceil(at / 8) * 8;
      if (start + size > bytes.byteLength) return undefined;
      at = start + size;
      return bytes.subarray(start, at);
    },
  };
}
