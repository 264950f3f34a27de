/**
 * Result buffers of a table's column tensors (`columns: 'separate'`), allocated several
 * at a time once the caller reads them one after another.
 *
 * Why: V8 counts every ArrayBuffer's bytes as external memory, and with a small
 * JavaScript heap (a reader's ~10 MB) it starts a mark-compact each time some 8 MiB more
 * of it was allocated since the last one (the old generation's allocation limit minus
 * the young generation's capacity). Thirty-two 4 MB column results allocated one per
 * `read()`, with decoding in between, made 8-15 mark-compacts per 128 MB columnar read
 * (Parquet, 1M × 32 float32); the same bytes allocated in one burst make one
 * (bench/README.md, "Columnar reads and V8's collections"). A buffer allocated and not yet
 * written costs address space and V8's count, not memory: its pages are faulted in by
 * the decode that fills it.
 *
 * Lifetime: each tensor still gets an ArrayBuffer of its own (nothing shared between
 * columns: writing, keeping or transferring one never touches another), handed out once;
 * a tensor read again gets a new buffer. `clear()` (the reader's close) drops the buffers
 * not handed out, which the collector then frees.
 */
import { allocateUninitialized } from '../core/memory.js';

/**
 * Most bytes held for tensors not read yet: 128 MiB, the rest of a 1M × 32 float32
 * table's columns in one burst. Held buffers are untouched huge-page mappings (no
 * memory); without the addon they come from malloc, which may hand back memory already
 * touched, so the bound is also what a reader can hold for nothing. Far below V8's hard
 * external limit (half the old generation's maximum): a burst starts incremental marking
 * at most, never a synchronous full collection.
 */
export const RESULT_RESERVE_MAX_BYTES = 128 * 2 ** 20;

/**
 * Smallest tensor a burst allocates ahead: 1 MiB. Smaller results move V8's count by
 * little each (a mark-compact per ~8 MiB), and a table of many small columns read
 * partly would otherwise hold many buffers for nothing.
 */
export const RESULT_RESERVE_MIN_BYTES = 2 ** 20;

/**
 * Whole-read results of a reader's tensors (indexes into its tensor list, each of a
 * known byte length). The first `take` allocates just its buffer; from the second on
 * (the caller reads tensor after tensor), a `take` whose tensor has no held buffer
 * also allocates the buffers of the following tensors not handed out yet (up to the
 * first one under {@link RESULT_RESERVE_MIN_BYTES} or past {@link RESULT_RESERVE_MAX_BYTES}
 * held), and holds them for their own `take`.
 *
 * @example
 * ```ts
 * const reserve = new ResultReserve(infos.map((info) => info.byteLength));
 * const out = reserve.take(3, infos[3]!.byteLength); // a fresh buffer, never handed out before
 * ```
 */
export class ResultReserve {
  /** Buffers allocated ahead, by tensor, not handed out yet. */
  private readonly held = new Map<number, Uint8Array<ArrayBuffer>>();
  /** Bytes in {@link held}. */
  private heldBytes = 0;
  /** Tensors whose buffer was handed out (or skipped): a burst does not allocate for them again. */
  private readonly done = new Set<number>();
  /** How many whole reads came through here. */
  private takes = 0;

  /** @param lengths - each tensor's whole byte length, by index */
  constructor(private readonly lengths: readonly number[], private readonly maxBytes = RESULT_RESERVE_MAX_BYTES) {}

  /**
   * A buffer of `length` bytes for a whole read of tensor `index`, never handed out
   * before and not zeroed (the caller writes all of it). A length other than the
   * tensor's whole length (a slice) gets a buffer of its own, outside the reserve.
   */
  take(index: number, length: number): Uint8Array<ArrayBuffer> {
    if (length !== this.lengths[index]) return allocateUninitialized(length);
    this.takes++;
    this.done.add(index);
    const held = this.held.get(index);
    if (held) {
      this.held.delete(index);
      this.heldBytes -= held.byteLength;
      return held;
    }
    const out = allocateUninitialized(length);
    if (this.takes > 1 && length >= RESULT_RESERVE_MIN_BYTES) this.burst(index);
    return out;
  }

  /** Drops the buffers not handed out (the reader closed); later takes allocate one at a time again. */
  clear(): void {
    this.held.clear();
    this.heldBytes = 0;
    this.takes = 0;
  }

  /** Holds buffers for the tensors after `index` not read yet, while they fit. */
  private burst(index: number): void {
    for (let next = index + 1; next < this.lengths.length; next++) {
      const length = this.lengths[next]!;
      if (this.done.has(next) || this.held.has(next)) continue;
      // A small tensor ends the burst as the budget does: a wide table of small columns is not scanned to its end at every read.
      if (length < RESULT_RESERVE_MIN_BYTES || this.heldBytes + length > this.maxBytes) break;
      this.held.set(next, allocateUninitialized(length));
      this.heldBytes += length;
    }
  }
}
