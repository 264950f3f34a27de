/**
 * Read-ahead across tensor boundaries for one reader's read-ahead streams
 * (`streamReadAhead` in `stream-span.ts`, used by `create-reader.ts`). Within a tensor a
 * stream reads its next chunk while the consumer works on the current one; at the end of
 * a tensor nothing was in flight, so a loop over many tensors of one chunk each (a
 * conversion, a checksum pass) waited for every tensor's first read. This file keeps at
 * most one speculative read per reader: when a stream hands out its last chunk, the
 * first chunk of the tensor that follows in file order is read on libuv's pool into a
 * pooled buffer (in two halves at once when long), and the next stream that starts
 * exactly there takes it over.
 */
import type { ByteSource } from '../storage/byte-source.js';
import { firstChunkSplit, giveBackStreamBuffer, takeStreamBuffer } from './stream-span.js';

/** Where a tensor's bytes start in a source, and how many there are. */
export interface SpanPlace {
  readonly offset: number;
  readonly byteLength: number;
}

/** A speculative read taken over by a stream: its bytes once `read` resolves. */
export interface TakenReadAhead {
  /** The pooled buffer the read writes; the stream owns it now and gives it back to the pool. */
  readonly buffer: Uint8Array;
  /** Settles when the bytes are in; rejects with the read's error (the stream reports it: it asked for these bytes). */
  readonly read: Promise<void>;
}

interface Speculation {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
  readonly buffer: Uint8Array;
  readonly read: Promise<void>;
  /** Settles (never rejects) when the read has, whatever its outcome. */
  readonly settled: Promise<void>;
  done: boolean;
}

/**
 * One reader's speculative read of the next tensor's first chunk.
 *
 * Bounds and rules: at most one speculative read per reader, in flight or held (a new
 * one is not started while a dropped one is still being written). A stream that starts
 * at its offset with a first chunk of its length takes it over; a stream that starts
 * anywhere else drops it. A dropped read's buffer goes back to the pool only after the
 * read settled, so no stream is handed a buffer still being written; its error, if any,
 * is dropped with it (nobody asked for those bytes). {@link close} waits for it.
 */
export class NextSpanReadAhead {
  private held: Speculation | undefined;
  // The last speculation this object owns (held or dropped), until it settled.
  private owned: Speculation | undefined;
  private closed = false;

  /**
   * @param nextSpan Where the tensor after `end` in `source` starts (the first non-empty
   *   span at or after `end`), or `undefined` when unknown or none.
   */
  constructor(private readonly nextSpan: (source: ByteSource, end: number) => SpanPlace | undefined) {}

  /**
   * Called by a stream about to read `length` bytes at `offset` of `source` as its first
   * chunk: the speculative read of exactly those bytes, handed over, or `undefined`
   * (any other speculation is dropped: the consumer went elsewhere).
   */
  take(source: ByteSource, offset: number, length: number): TakenReadAhead | undefined {
    const held = this.held;
    if (!held) return undefined;
    this.held = undefined;
    if (held.source === source && held.offset === offset && held.length === length) {
      // The stream owns the buffer and the read from here on (its `finally` waits for the read).
      if (this.owned === held) this.owned = undefined;
      return { buffer: held.buffer, read: held.read };
    }
    this.drop(held);
    return undefined;
  }

  /**
   * Called by a stream as it hands out its last chunk, which ended at `end` of `source`:
   * starts reading the first `chunkBytes` (at most) of the next span, unless one is
   * already held for it, the reader is closed or a dropped read is still being written.
   */
  startAfter(source: ByteSource, end: number, chunkBytes: number): void {
    if (this.closed || !source.readInto) return;
    const next = this.nextSpan(source, end);
    if (!next) return;
    const length = Math.min(chunkBytes, next.byteLength);
    const held = this.held;
    if (held && held.source === source && held.offset === next.offset && held.length === length) return;
    if (held) {
      this.held = undefined;
      this.drop(held);
    }
    if (this.owned && !this.owned.done) return;
    const buffer = takeStreamBuffer(length);
    const read = readHalves(source, buffer.subarray(0, length), next.offset);
    const speculation: Speculation = {
      source, offset: next.offset, length, buffer, read,
      settled: read.then(() => undefined, () => undefined).finally(() => { speculation.done = true; }),
      done: false,
    };
    this.held = speculation;
    this.owned = speculation;
  }

  /** Drops what is held and waits until no speculative read of this reader is writing; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    const held = this.held;
    this.held = undefined;
    if (held) this.drop(held);
    await this.owned?.settled;
  }

  /** Gives a speculation's buffer back to the pool once its read settled; its error goes nowhere. */
  private drop(speculation: Speculation): void {
    void speculation.settled.then(() => giveBackStreamBuffer(speculation.buffer));
  }
}

/**
 * Reads `target` at `offset` on the pool, in two halves at once when it is long enough
 * (as a stream's own first chunk is, `firstChunkSplit`): a stream may ask for these bytes
 * soon after the read started (the tensor before was short), and then it waits for the
 * longer half only. Settles once both halves have (a buffer is never left being written),
 * rejecting with the first error.
 */
function readHalves(source: ByteSource, target: Uint8Array, offset: number): Promise<void> {
  const half = firstChunkSplit(target.byteLength);
  if (half >= target.byteLength) return source.readInto!(target, offset, { offThread: true });
  const halves = [source.readInto!(target.subarray(0, half), offset, { offThread: true }), source.readInto!(target.subarray(half), offset + half, { offThread: true })];
  return Promise.allSettled(halves).then((results) => {
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  });
}

/**
 * A lookup from "where a span ends" to "where the next span starts" over a list of
 * places per source, sorted once. Zero-length spans are left out (a stream of nothing
 * reads nothing), and so are places in other sources.
 */
export function nextSpanLookup(places: ReadonlyMap<ByteSource, readonly SpanPlace[]>): (source: ByteSource, end: number) => SpanPlace | undefined {
  const sorted = new Map<ByteSource, SpanPlace[]>();
  for (const [source, list] of places) sorted.set(source, list.filter((place) => place.byteLength > 0).sort((a, b) => a.offset - b.offset));
  return (source, end) => {
    const list = sorted.get(source);
    if (!list) return undefined;
    // The first place at or after `end`.
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (list[middle]!.offset < end) low = middle + 1;
      else high = middle;
    }
    return list[low];
  };
}
