/**
 * Map-ahead across tensors for one reader's whole-tensor mapped reads (`read()` in
 * `create-reader.ts`, issue 15's `.pt` row). A mapped `read()` populates its view on the
 * addon's worker from the mapping's end back while the caller sums it from the front, so
 * the caller still takes the first pages of every tensor itself: page faults and, in this
 * VM, a first-touch cost per 4 KiB page where the mapping cannot use 2 MiB entries (the
 * edges of every tensor whose offset is not 2 MiB-aligned, as in a `torch.save` file).
 * `readEach` avoids that by mapping and populating the next tensors before they are asked
 * for; a plain loop of `read()` calls in file order got nothing of it (session 29's quiet
 * 1 GiB run: 6.5 GB/s for `read()` + sum of a 64-tensor `.pt` against 10.5 for `readEach`).
 *
 * The rule: when a whole-tensor mapped, populated `read()` starts exactly where the span
 * after the previous such read starts (a caller going through the tensors in file order),
 * the spans after this one are mapped and their populate jobs queued behind this one's,
 * and the next `read()` of exactly the first of them is handed its mapping. Bounds: the
 * mappings held ahead by a reader cover at most {@link MAP_AHEAD_MAX_BYTES} (the bound
 * `readEach` reads ahead by; one tensor ahead was measured to leave the worker too little
 * slack on a loaded machine); none is made while the populate worker's backlog is over its
 * bound (the caller's own `populate` rule, `defaultReadPopulate`). Held mappings are
 * dropped as soon as a read asks for anything else (collected like any unreferenced
 * mapping; a populate job still queued runs and lets go of its mapping). A mapping is only ever
 * handed out while its file still holds its bytes (`MappedBytes.stillThere`), so a file
 * shortened since is refused with `SOURCE_CHANGED` by a fresh map, as before. Without the
 * addon nothing here runs: sources without `map` read as before.
 */
import type { ByteSource, MappedBytes } from '../storage/byte-source.js';
import type { SpanPlace } from './next-span-read-ahead.js';

/**
 * The most bytes of tensors a reader holds mapped ahead (64 MiB, the bound `readEach` reads
 * ahead by). A larger tensor is never mapped ahead: it is mapped when asked for and
 * populated from its end back, as before, so a caller that reads one big tensor and stops
 * does not pay for populating another.
 */
export const MAP_AHEAD_MAX_BYTES = 64 * 2 ** 20;

interface Held {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
  readonly mapped: MappedBytes;
}

/**
 * One reader's mappings of the tensors after the last one read, held for the next `read()`
 * calls (see the module comment for the rule and its bounds).
 */
export class NextSpanMapAhead {
  // In file order; what the next read() in file order asks for first.
  private held: Held[] = [];
  // Where a caller going through the tensors in file order reads next.
  private expected: { source: ByteSource; offset: number } | undefined;
  private closed = false;

  /**
   * @param nextSpan Where the span after `end` in `source` starts (the first non-empty
   *   span at or after `end`), or `undefined` when unknown or none.
   * @param mayPopulate Whether a populate job may be queued now (the worker's backlog bound).
   */
  constructor(
    private readonly nextSpan: (source: ByteSource, end: number) => SpanPlace | undefined,
    private readonly mayPopulate: () => boolean,
  ) {}

  /**
   * The first held mapping when it is of exactly `length` bytes at `offset` of `source`,
   * its populate job already queued, or `undefined`; then everything held is dropped.
   */
  take(source: ByteSource, offset: number, length: number): MappedBytes | undefined {
    const first = this.held.shift();
    // A file shortened since it was mapped: the caller maps afresh and gets SOURCE_CHANGED.
    if (!first || first.source !== source || first.offset !== offset || first.length !== length || first.mapped.faulted() || first.mapped.stillThere?.() === false) {
      this.held = [];
      return undefined;
    }
    return first.mapped;
  }

  /**
   * Called after a whole-tensor mapped, populated read of `length` bytes at `offset` of
   * `source`: when that read was the one after the previous in file order, maps the spans
   * after what is held, within the bound, and queues their populate jobs.
   */
  afterRead(source: ByteSource, offset: number, length: number): void {
    const sequential = this.expected !== undefined && this.expected.source === source && this.expected.offset === offset;
    const after = this.nextSpan(source, offset + length);
    this.expected = after ? { source, offset: after.offset } : undefined;
    if (!sequential || this.closed || !source.map) return;
    const last = this.held.at(-1);
    let end = last ? last.offset + last.length : offset + length;
    let bytes = this.held.reduce((sum, held) => sum + held.length, 0);
    for (let next = this.nextSpan(source, end); next && bytes + next.byteLength <= MAP_AHEAD_MAX_BYTES && this.mayPopulate(); next = this.nextSpan(source, end)) {
      let mapped: MappedBytes | undefined;
      try {
        mapped = source.map(next.offset, next.byteLength);
      } catch {
        return; // A speculation: the read that asks for these bytes reports what is wrong.
      }
      const job = mapped?.populate?.();
      if (!mapped || !job) return;
      // A failure stays with the buffer (memoryMapPopulateError), as for read()'s own job.
      job.catch(() => undefined);
      this.held.push({ source, offset: next.offset, length: next.byteLength, mapped });
      bytes += next.byteLength;
      end = next.offset + next.byteLength;
    }
  }

  /** Drops what is held; nothing is mapped ahead from here on. */
  close(): void {
    this.closed = true;
    this.held = [];
  }
}
