/**
 * Logical row I/O: what users see (active rows only) mapped onto physical rows through
 * the deletion bitmap. Reads of scattered rows are coalesced into a few large reads.
 */
import { throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import { allocateUninitialized } from '../core/memory.js';
import type { NpkArrayData } from './array-data.js';
import type { NpkBitmap } from './bitmap.js';

/** One array's data and bitmap, as logical I/O needs them. */
export interface NpkLogicalView {
  readonly data: NpkArrayData;
  readonly bitmap: NpkBitmap | undefined;
  readonly rowBytes: number;
}

/** Rows read together when their gaps are at most this many bytes (reading a gap beats another syscall). */
const COALESCE_GAP_BYTES = 16 * 1024;
/** Largest single coalesced read. */
const COALESCE_WINDOW_BYTES = 8 * 2 ** 20;

/**
 * Reads logical rows `[start, end)` into `target` (exactly (end - start) × rowBytes bytes).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(10 * view.rowBytes);
 * await npkReadLogicalRange(view, 0, 10, out);
 * ```
 */
export async function npkReadLogicalRange(view: NpkLogicalView, start: number, end: number, target: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!view.bitmap) {
    await view.data.readRows(start, target, signal);
    return;
  }
  let at = 0;
  for (const [row, count] of view.bitmap.physicalRuns(start, end)) {
    await view.data.readRows(row, target.subarray(at, at + count * view.rowBytes), signal);
    at += count * view.rowBytes;
  }
}

/** Physical row of each logical row. */
export function npkToPhysical(view: NpkLogicalView, logicalRows: readonly number[]): number[] {
  const bitmap = view.bitmap;
  return bitmap ? logicalRows.map((row) => bitmap.logicalToPhysical(row)) : [...logicalRows];
}

/**
 * A buffer reused by the gathers of one store (they run one at a time), so that a
 * random-access read does not allocate (and zero, and first-touch) a fresh window each
 * call. Grows to the largest span read, at most {@link COALESCE_WINDOW_BYTES}.
 */
export class NpkScratch {
  #buffer: Uint8Array | undefined;

  /** A buffer of at least `bytes` (its content is whatever was read last). */
  take(bytes: number): Uint8Array {
    if (!this.#buffer || this.#buffer.byteLength < bytes) this.#buffer = allocateUninitialized(Math.max(bytes, 1));
    return this.#buffer;
  }
}

/**
 * Reads arbitrary logical rows (any order, repeats allowed) into `target`, row i of the
 * output being `logicalRows[i]`. Rows are visited in physical order, and rows whose gaps
 * are under {@link COALESCE_GAP_BYTES} are read with one call into `scratch` (reading a
 * small gap costs less than another system call): 10,000 random rows of a 40 MB array
 * take a handful of reads, not 10,000.
 *
 * @example
 * ```ts
 * await npkGatherRows(view, [5, 1, 900], out);
 * ```
 */
export async function npkGatherRows(view: NpkLogicalView, logicalRows: readonly number[], target: Uint8Array, signal?: AbortSignal, scratch: NpkScratch = new NpkScratch()): Promise<void> {
  const rowBytes = view.rowBytes;
  if (rowBytes === 0 || logicalRows.length === 0) return;
  const physical = npkToPhysical(view, logicalRows);
  const order = sortedOrder(physical);
  for (let first = 0; first < order.length;) {
    throwIfAborted(signal);
    const spanStart = physical[order[first]!]!;
    let last = first;
    while (last + 1 < order.length) {
      const next = physical[order[last + 1]!]!;
      if ((next - physical[order[last]!]! - 1) * rowBytes > COALESCE_GAP_BYTES) break;
      if ((next - spanStart + 1) * rowBytes > COALESCE_WINDOW_BYTES) break;
      last++;
    }
    const spanRows = physical[order[last]!]! - spanStart + 1;
    if (spanRows === 1) {
      const out = order[first]! * rowBytes;
      await view.data.readRows(spanStart, target.subarray(out, out + rowBytes), signal);
      for (let k = first + 1; k <= last; k++) target.copyWithin(order[k]! * rowBytes, out, out + rowBytes);
    } else {
      const span = scratch.take(spanRows * rowBytes).subarray(0, spanRows * rowBytes);
      await view.data.readRows(spanStart, span, signal);
      for (let k = first; k <= last; k++) copyRow(span, (physical[order[k]!]! - spanStart) * rowBytes, target, order[k]! * rowBytes, rowBytes);
    }
    first = last + 1;
  }
}

/** Copies one row; short rows byte by byte (a subarray object per row costs more than the copy). */
function copyRow(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, rowBytes: number): void {
  if (rowBytes <= 64) {
    for (let b = 0; b < rowBytes; b++) to[toAt + b] = from[fromAt + b]!;
  } else to.set(from.subarray(fromAt, fromAt + rowBytes), toAt);
}

/**
 * Positions of `physical` in ascending order of their values (stable). Already sorted
 * input costs one pass; row numbers below 2^32 are radix-sorted (two 16-bit passes, no
 * comparisons); anything else falls back to a comparison sort.
 */
function sortedOrder(physical: readonly number[]): Uint32Array {
  const count = physical.length;
  const order = new Uint32Array(count);
  let sorted = true;
  let max = 0;
  for (let i = 0; i < count; i++) {
    order[i] = i;
    const row = physical[i]!;
    if (i > 0 && row < physical[i - 1]!) sorted = false;
    if (row > max) max = row;
  }
  if (sorted) return order;
  if (count < 1024 || max >= 2 ** 32) return order.sort((a, b) => physical[a]! - physical[b]! || a - b);
  const keys = Uint32Array.from(physical);
  let source = order;
  let destination = new Uint32Array(count);
  for (const shift of [0, 16]) {
    const starts = new Uint32Array(65537);
    for (let i = 0; i < count; i++) starts[((keys[source[i]!]! >>> shift) & 0xffff) + 1]!++;
    for (let bucket = 1; bucket <= 65536; bucket++) starts[bucket]! += starts[bucket - 1]!;
    for (let i = 0; i < count; i++) destination[starts[(keys[source[i]!]! >>> shift) & 0xffff]!++] = source[i]!;
    [source, destination] = [destination, source];
  }
  return source;
}

/**
 * Writes `bytes` (row i → logical row `logicalRows[i]`) in place; runs of consecutive
 * physical rows become one positional write.
 */
export async function npkScatterRows(view: NpkLogicalView, logicalRows: readonly number[], bytes: Uint8Array): Promise<void> {
  const rowBytes = view.rowBytes;
  const physical = npkToPhysical(view, logicalRows);
  for (let first = 0; first < physical.length;) {
    let last = first;
    while (last + 1 < physical.length && physical[last + 1] === physical[last]! + 1) last++;
    await view.data.writeRows(physical[first]!, bytes.subarray(first * rowBytes, (last + 1) * rowBytes));
    first = last + 1;
  }
}

/**
 * Yields logical rows `[start, end)` as chunks of whole rows, about `chunkBytes` each.
 * Each chunk is a fresh buffer the caller may keep.
 */
export async function* npkLogicalChunks(view: NpkLogicalView, start: number, end: number, chunkBytes = DEFAULT_STREAM_CHUNK_BYTES, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / Math.max(1, view.rowBytes)));
  for (let row = start; row < end; row += rowsPerChunk) {
    const stop = Math.min(end, row + rowsPerChunk);
    const chunk = new Uint8Array((stop - row) * view.rowBytes);
    await npkReadLogicalRange(view, row, stop, chunk, signal);
    yield chunk;
  }
}
