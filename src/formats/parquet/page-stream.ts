/**
 * A column chunk's pages read one after the other: page headers are sequential (each
 * says how many stored bytes follow it), and pyarrow writes ~1 MiB pages and, by
 * default, no offset index, so the only way into a chunk is its first page. A
 * {@link ParquetPageReader} keeps a window of the chunk's stored bytes (one page and a
 * bounded read-ahead past it) instead of the whole chunk, so a streamed read of a row
 * group of a million rows holds a page or two per column, not the group.
 *
 * Every size read from the file is checked before it is trusted: a page whose stored
 * bytes run past its column chunk is `TRUNCATED` (the numbers in the message, as the
 * general path's check says it), and a header that does not end inside the chunk is too.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { anchorShape } from '../../core/shape-anchors.js';
import { bytesSource, readIntoFrom, type ByteSource } from '../../storage/byte-source.js';
import { ScratchPool } from '../../storage/scratch-pool.js';
import { pageHeader, ThriftCursor, type ParquetPageHeader } from './page-headers.js';

/** Bytes asked for a page header first (pyarrow's are 30-100 bytes; longer ones are read again, four times as many). */
const HEADER_GUESS_BYTES = 256;

/** Bytes of a slab a whole read's scratch cuts its buffers from: a huge-page buffer (`allocateUninitialized` from 3.5 MiB). */
const SLAB_BYTES = 4 * 2 ** 20;

/** One buffer of a slab-cut scratch: its bytes (a piece of a slab) and its size class. */
interface SlabPiece {
  readonly bytes: Uint8Array;
  readonly size: number;
}

/** A slab and the pieces cut from it so far, in the order of their offsets. */
interface Slab {
  readonly bytes: Uint8Array;
  readonly pieces: SlabPiece[];
  /** Each piece's offset in the slab (`pieces`' order, ascending). */
  readonly starts: number[];
  /** Bytes cut so far. */
  used: number;
}

/**
 * The buffers of one band walk (stored windows and decoded pages of every column),
 * reused as the walk goes rather than left to the garbage collector: a row group of a
 * million rows streams ~250 MiB of them, and V8 collects external memory only every 64 MiB
 * or so, which alone was a quarter of the peak.
 *
 * A buffer no page needs any more is retired at the band being prepared ({@link epoch});
 * it is reused only once the caller has taken every band up to that one
 * ({@link release}), since a band in flight (its native dictionary gather running, or
 * handed out with views of a page) may still read it. {@link finish}, once every read and
 * decode has settled, gives back everything the walk took.
 *
 * A streamed read takes each buffer from its reader's pool and gives it back there. A
 * whole read (`slabs`) cuts them from slabs of 4 MiB taken from the pool (huge-page
 * buffers, reused from the last read's), in pieces of their size class
 * ({@link scratchSizeClass}), and reuses a piece for the next buffer of its class: the walk
 * holds a few MiB per column, not the row group. Why slabs: the same buffers as heap
 * buffers of their own (malloc'd, 4 KiB pages) kept in a pool across reads cost a fault
 * per 4 KiB page again after the process had started any child (fork write-protects
 * every page): pyarrow's random float32 file, 1M × 32 in one row group, a child started
 * before each read, 359 → 1075 ms CPU a read (load ~9); a huge page faults once.
 */
export class ParquetBandScratch {
  /** The band being prepared. */
  epoch = 0;
  private readonly retired: { buffer: Uint8Array; epoch: number }[] = [];
  /** Buffers handed out (a streamed read's), by their memory (a decoder may hand back a view of one). */
  private readonly taken = new Map<ArrayBufferLike, Uint8Array>();
  /** A whole read's slabs, by their memory; the pieces handed out; the idle pieces by size; the slab being cut. */
  private readonly slabs: Map<ArrayBufferLike, Slab> | undefined;
  private readonly out = new Set<SlabPiece>();
  private readonly idle = new Map<number, SlabPiece[]>();
  private cutting: Slab | undefined;

  /**
   * @param pool Where buffers (or a whole read's slabs) come from and go back to.
   * @param slabs Cut the buffers from slabs (a whole read; see the class comment).
   */
  constructor(private readonly pool: ScratchPool, slabs = false) {
    this.slabs = slabs ? new Map() : undefined;
  }

  /** A buffer of `length` stale bytes. */
  take(length: number): Uint8Array {
    if (this.slabs) return this.takePiece(length);
    const buffer = this.pool.take(length);
    this.taken.set(buffer.buffer, buffer);
    return buffer;
  }

  /** Bytes of the slabs a whole read holds now (handed out or idle). */
  get slabBytes(): number {
    let bytes = 0;
    for (const slab of this.slabs?.values() ?? []) bytes += slab.bytes.byteLength;
    return bytes;
  }

  private takePiece(length: number): Uint8Array {
    const size = scratchSizeClass(length);
    let piece = this.idle.get(size)?.pop();
    if (!piece) {
      // Pieces of every size are cut one after the other; what is left at the end of a slab too small for the next is not used.
      let slab = this.cutting;
      if (!slab || slab.used + size > slab.bytes.byteLength) {
        const bytes = this.pool.take(Math.max(SLAB_BYTES, size));
        this.cutting = slab = { bytes, pieces: [], starts: [], used: 0 };
        this.slabs!.set(bytes.buffer, slab);
      }
      piece = { bytes: slab.bytes.subarray(slab.used, slab.used + size), size };
      slab.pieces.push(piece);
      slab.starts.push(slab.used);
      slab.used += size;
    }
    this.out.add(piece);
    return piece.bytes.subarray(0, length);
  }

  /** The piece handed out that `bytes` views (or starts inside), if any. */
  private pieceOf(bytes: Uint8Array): SlabPiece | undefined {
    const slab = this.slabs!.get(bytes.buffer);
    if (!slab) return undefined;
    const at = bytes.byteOffset - slab.bytes.byteOffset;
    // The last piece starting at or before `at`.
    let low = 0;
    let high = slab.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (slab.starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    const piece = slab.pieces[low];
    return piece && slab.starts[low]! <= at && at < slab.starts[low]! + piece.size && this.out.has(piece) ? piece : undefined;
  }

  /** A piece goes back to the idle ones of its size. */
  private putBack(piece: SlabPiece): void {
    if (!this.out.delete(piece)) return;
    let list = this.idle.get(piece.size);
    if (!list) this.idle.set(piece.size, list = []);
    list.push(piece);
  }

  /**
   * `bytes` (from {@link take}, or a view of one; others are ignored) is not needed by
   * anything placed from now on; `unplaced`: nothing placed ever viewed it (stored bytes
   * of a compressed page), so it is reused at once.
   */
  retire(bytes: Uint8Array, unplaced = false): void {
    if (this.slabs) {
      const piece = this.pieceOf(bytes);
      if (!piece) return;
      if (unplaced) this.putBack(piece);
      else this.retired.push({ buffer: piece.bytes, epoch: this.epoch });
      return;
    }
    const buffer = this.taken.get(bytes.buffer);
    if (!buffer) return;
    if (!unplaced) {
      this.retired.push({ buffer, epoch: this.epoch });
    } else if (this.taken.delete(buffer.buffer)) {
      this.pool.give(buffer);
    }
  }

  /** The caller has taken every band up to `epoch`: what was retired by then is reused. */
  release(epoch: number): void {
    let kept = 0;
    for (const entry of this.retired) {
      if (entry.epoch <= epoch) {
        if (this.slabs) {
          const piece = this.pieceOf(entry.buffer);
          if (piece) this.putBack(piece);
        } else if (this.taken.delete(entry.buffer.buffer)) {
          this.pool.give(entry.buffer);
        }
      } else {
        this.retired[kept++] = entry;
      }
    }
    this.retired.length = kept;
  }

  /** Every buffer taken goes back: only once no read, decode or band in flight uses any. */
  finish(): void {
    for (const buffer of this.taken.values()) this.pool.give(buffer);
    this.taken.clear();
    for (const slab of this.slabs?.values() ?? []) this.pool.give(slab.bytes);
    this.slabs?.clear();
    this.out.clear();
    this.idle.clear();
    this.cutting = undefined;
    this.retired.length = 0;
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a scratch is made per read. */
anchorShape(() => new ParquetBandScratch(new ScratchPool(0, 0), true));

/**
 * `length` rounded up to its size class: 4 KiB at least, else the next of the eight sizes
 * between two powers of two (1, 1.125, 1.25, … 1.875 times the lower one): at most an
 * eighth of a buffer is left over.
 */
export function scratchSizeClass(length: number): number {
  if (length <= 4096) return 4096;
  const step = 2 ** (Math.floor(Math.log2(length)) - 3);
  return Math.ceil(length / step) * step;
}

/** One page of a chunk: its header, and its stored body unless the caller passed over it. */
export interface ParquetStoredPage {
  readonly header: ParquetPageHeader;
  /** The stored (maybe compressed) bytes after the header; undefined for a page passed over. */
  readonly body: Uint8Array | undefined;
  /** Where the page's header starts in the chunk (for messages). */
  readonly at: number;
  /**
   * Says the body is no longer needed: its window may be reused. `unplaced`: nothing
   * placed ever viewed it (a compressed page, released once decoded), so at once; else
   * once the bands placed from it are done.
   */
  release(unplaced?: boolean): void;
}

/** A window of stored bytes and the pages whose bodies are still in use in it. */
interface Window {
  readonly bytes: Uint8Array;
  readonly at: number;
  uses: number;
  passed: boolean;
  /** A page in it was placed from (stored uncompressed, or its levels read): reused only once the bands are done. */
  placed: boolean;
}

/** Where a column chunk's stored bytes are in a source. */
export interface ParquetChunkRange {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
}

/** How a {@link ParquetPageReader} reads. */
export interface ParquetPageReaderOptions {
  /**
   * Bytes read past the end of the page asked for, at most (the next page's header, and
   * its body when it fits): fewer reads, each bounded.
   */
  readonly readAhead: number;
  /** "column "x" in row group 3", for messages. */
  readonly where: string;
  readonly signal?: AbortSignal;
  /** Where windows come from and go back to (default: fresh buffers, left to the garbage collector). */
  readonly scratch?: ParquetBandScratch;
}

/**
 * The pages of one column chunk in order (see the module comment). Stored bytes are
 * windows of about a page plus `readAhead` (fresh, or the scratch's); a page's body is a
 * view of one, valid until the page is released (with a scratch: the window may then be
 * reused) or, without a scratch, as long as the caller holds it.
 */
export class ParquetPageReader {
  /** The stored bytes held, from chunk byte `window.at`. */
  private window: Window = { bytes: new Uint8Array(0), at: 0, uses: 0, passed: false, placed: false };
  /** Where the next page's header starts in the chunk. */
  private at = 0;
  private readonly length: number;

  constructor(private readonly chunk: ParquetChunkRange, private readonly options: ParquetPageReaderOptions) {
    this.length = chunk.length;
  }

  /**
   * The next page (header and body), or undefined at the chunk's end (a trailing byte
   * after the last page is tolerated, as the general path's check does). `pass(header)`
   * true: the page is passed over without reading its body (a row range that starts
   * after it). Throws `TRUNCATED` for a header or body that runs past the chunk.
   */
  async next(pass?: (header: ParquetPageHeader) => boolean): Promise<ParquetStoredPage | undefined> {
    const { length } = this;
    if (this.at >= length - 1) return undefined;
    const at = this.at;
    let header: ParquetPageHeader | undefined;
    let headerBytes = 0;
    for (let want = Math.min(length - at, HEADER_GUESS_BYTES); header === undefined; want = Math.min(length - at, want * 4)) {
      const bytes = await this.bytes(at, want, 0);
      const cursor = new ThriftCursor(bytes);
      try {
        header = pageHeader(cursor);
        headerBytes = cursor.at;
      } catch (error) {
        // A header cut by the window is read again with more bytes; one cut by the chunk's end is the error.
        if (!(error instanceof TensioError && error.code === 'TRUNCATED') || want >= length - at) throw this.located(error, at);
      }
    }
    const bodyAt = at + headerBytes;
    if (header.compressed > length - bodyAt) {
      throw new TensioError('TRUNCATED', `parquet: a page of ${this.options.where} declares ${header.compressed} bytes, ${length - bodyAt} are left in its column chunk (page header at byte ${at} of ${length})`, { format: 'parquet' });
    }
    this.at = bodyAt + header.compressed;
    if (pass?.(header)) return { header, body: undefined, at, release() {} };
    const body = await this.bytes(bodyAt, header.compressed, this.options.readAhead);
    const window = this.window;
    window.uses++;
    let released = false;
    return {
      header, body, at,
      release: (unplaced = false) => {
        if (released) return;
        released = true;
        window.uses--;
        if (!unplaced) window.placed = true;
        this.drop(window);
      },
    };
  }

  /** A window no page uses and the reader has moved past goes back to the scratch. */
  private drop(window: Window): void {
    if (window.uses === 0 && window.passed) this.options.scratch?.retire(window.bytes, !window.placed);
  }

  /** Bytes `[from, from + count)` of the chunk, reading a new window (with `ahead` more bytes, within the chunk) when the held one does not cover them. */
  private async bytes(from: number, count: number, ahead: number): Promise<Uint8Array> {
    const last = this.window;
    const held = last.at + last.bytes.byteLength;
    if (from >= last.at && from + count <= held) return last.bytes.subarray(from - last.at, from + count - last.at);
    const { chunk } = this;
    throwIfAborted(this.options.signal);
    const end = Math.min(this.length, from + count + Math.max(ahead, HEADER_GUESS_BYTES));
    const { scratch } = this.options;
    const bytes = scratch ? scratch.take(end - from) : allocateUninitialized(end - from);
    // What the last window holds of the new one is copied, the rest read.
    const kept = from >= last.at && from < held ? held - from : 0;
    if (kept > 0) bytes.set(last.bytes.subarray(from - last.at), 0);
    this.window = { bytes, at: from, uses: 0, passed: false, placed: false };
    last.passed = true;
    this.drop(last);
    await readIntoFrom(chunk.source, bytes.subarray(kept), chunk.offset + from + kept, this.options.signal ? { signal: this.options.signal } : undefined);
    return bytes.subarray(0, count);
  }

  private located(error: unknown, at: number): unknown {
    if (!(error instanceof TensioError) || error.code !== 'TRUNCATED') return error;
    return new TensioError('TRUNCATED', `parquet: the page header at byte ${at} of ${this.options.where} runs past its column chunk (${this.length} bytes)`, { format: 'parquet', cause: error });
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a streamed read makes a page reader per column chunk. */
anchorShape(() => new ParquetPageReader({ source: bytesSource(new Uint8Array(0)), offset: 0, length: 0 }, { readAhead: 0, where: '' }));
