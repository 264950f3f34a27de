/**
 * Logical row I/O: what users see (active rows only) mapped onto physical rows through
 * the deletion bitmap. Reads of scattered rows are coalesced into a few large reads.
 */
import { throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
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
 * Reads arbitrary logical rows (any order, repeats allowed) into `target`, row i of the
 * output being `logicalRows[i]`. Nearby rows are read with one call.
 *
 * @example
 * ```ts
 * await npkGatherRows(view, [5, 1, 900], out);
 * ```
 */
export async function npkGatherRows(view: NpkLogicalView, logicalRows: readonly number[], target: Uint8Array, signal?: AbortSignal): Promise<void> {
  const rowBytes = view.rowBytes;
  if (rowBytes === 0 || logicalRows.length === 0) return;
  const physical = npkToPhysical(view, logicalRows);
  const order = sortedOrder(physical);
  let scratch: Uint8Array | undefined;
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
      scratch = scratch && scratch.byteLength >= spanRows * rowBytes ? scratch : new Uint8Array(Math.min(COALESCE_WINDOW_BYTES, Math.max(spanRows * rowBytes, 1)));
      const span = scratch.subarray(0, spanRows * rowBytes);
      await view.data.readRows(spanStart, span, signal);
      for (let k = first; k <= last; k++) {
        const from = (physical[order[k]!]! - spanStart) * rowBytes;
        target.set(span.subarray(from, from + rowBytes), order[k]! * rowBytes);
      }
    }
    first = last + 1;
  }
}

/** Positions of `physical` in ascending order; a native numeric sort of packed keys when they fit. */
function sortedOrder(physical: readonly number[]): number[] {
  const count = physical.length;
  const bits = Math.max(1, Math.ceil(Math.log2(count + 1)));
  const maxRow = physical.reduce((max, row) => Math.max(max, row), 0);
  if (maxRow * 2 ** bits + count < Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i++) keys[i] = physical[i]! * 2 ** bits + i;
    keys.sort();
    const order = new Array<number>(count);
    for (let i = 0; i < count; i++) order[i] = keys[i]! % 2 ** bits;
    return order;
  }
  return Array.from(physical.keys()).sort((a, b) => physical[a]! - physical[b]!);
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
