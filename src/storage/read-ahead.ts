/**
 * Read-ahead for remote sources (HTTP, S3): a tensor streamed chunk by chunk asks for
 * consecutive large ranges, and fetching the next ones while the consumer works on the
 * current one hides the round trips.
 */
import { allocateUninitialized } from '../core/memory.js';

/** What read-ahead needs of a remote object: its size and a ranged read into a buffer. */
export interface RangeReader {
  readonly size: number;
  /** False when ranges cannot be asked for (read-ahead is then off). */
  readonly rangeSupported: boolean;
  readInto(target: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<void>;
}

/** Reads at least this large take part in read-ahead; smaller ones go through the block cache. */
const READ_AHEAD_MIN_BYTES = 1024 * 1024;

/**
 * Read-ahead for sequential large reads: when a read starts where the last one ended,
 * the next `depth` ranges of the same length are requested at once (concurrently, up
 * to the client's limit), so each chunk's round trip overlaps the consumer's work. A
 * read that finds its range already fetched copies it; a failed read-ahead is simply
 * dropped and the read done directly (which then reports the real error).
 */
export class SequentialReadAhead {
  private readonly ahead = new Map<number, { length: number; bytes: Promise<Uint8Array> }>();
  /** Buffers of consumed read-aheads, reused: first touch of fresh memory is the real cost here. */
  private spare: Uint8Array[] = [];
  private lastEnd = -1;

  constructor(private readonly file: RangeReader, private readonly depth: number) {}

  async readInto(target: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<void> {
    const length = target.byteLength;
    const sequential = offset === this.lastEnd;
    this.lastEnd = offset + length;
    if (this.depth <= 0 || length < READ_AHEAD_MIN_BYTES || !this.file.rangeSupported) return this.file.readInto(target, offset, signal);
    if (!sequential) this.clear();
    const pending = this.ahead.get(offset);
    this.ahead.delete(offset);
    if (sequential) this.schedule(offset + length, length);
    if (pending && pending.length >= length) {
      const bytes = await pending.bytes.catch(() => undefined);
      if (bytes) {
        target.set(bytes.subarray(0, length));
        if (this.spare.length < this.depth) this.spare.push(bytes);
        return;
      }
    }
    return this.file.readInto(target, offset, signal);
  }

  private schedule(from: number, length: number): void {
    for (let index = 0, at = from; index < this.depth && at < this.file.size; index++, at += length) {
      if (this.ahead.has(at)) continue;
      const take = Math.min(length, this.file.size - at);
      const reusable = this.spare.findIndex((spare) => spare.byteLength === take);
      const buffer = reusable >= 0 ? this.spare.splice(reusable, 1)[0]! : allocateUninitialized(take);
      const bytes = this.file.readInto(buffer, at, undefined).then(() => buffer);
      bytes.catch(() => undefined); // consumed (or dropped) later; never an unhandled rejection
      this.ahead.set(at, { length: take, bytes });
    }
  }

  /** Forgets every range fetched ahead (a seek, or close). */
  clear(): void {
    this.ahead.clear();
    this.spare = [];
  }
}
