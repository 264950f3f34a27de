/**
 * Row indexes as NumPack takes them — an integer, a list, a typed array or a slice —
 * resolved to logical row numbers. Negative numbers count from the end everywhere.
 */
import { TensioError } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';

/** A `[start, end)` row range; negatives count from the end, bounds clamp as Python slices. */
export interface NpkRowSlice {
  start?: number;
  end?: number;
}

/** Rows to read, replace or drop: one row, a list, a typed array of integers, or a slice. */
export type NpkRowIndexes = number | readonly number[] | Int32Array | Uint32Array | Float64Array | BigInt64Array | NpkRowSlice;

/** True when `indexes` is a slice object. */
export function npkIsSlice(indexes: NpkRowIndexes): indexes is NpkRowSlice {
  return typeof indexes === 'object' && !Array.isArray(indexes) && !ArrayBuffer.isView(indexes);
}

function sliceRange(slice: NpkRowSlice, rows: number): [number, number] {
  for (const bound of [slice.start, slice.end]) {
    if (bound !== undefined && !Number.isInteger(bound)) {
      throw new TensioError('INVALID_SLICE', `npk: slice bounds must be integers, got ${String(slice.start)}..${String(slice.end)}`, { format: 'npk' });
    }
  }
  const clamp = (value: number) => Math.min(rows, Math.max(0, value < 0 ? rows + value : value));
  const start = clamp(slice.start ?? 0);
  return [start, Math.max(start, slice.end === undefined ? rows : clamp(slice.end))];
}

/**
 * Resolves indexes against `rows` logical rows. `strict` (read, replace): every index
 * must be in range, else `INVALID_SLICE`. `lenient` (drop): out-of-range indexes are
 * ignored and duplicates removed, as NumPack's drop does.
 *
 * @example
 * ```ts
 * npkResolveIndexes([0, -1], 10, 'strict'); // [0, 9]
 * npkResolveIndexes({ start: 2, end: 5 }, 10, 'strict'); // [2, 3, 4]
 * ```
 */
export function npkResolveIndexes(indexes: NpkRowIndexes, rows: number, mode: 'strict' | 'lenient', name = '?'): number[] {
  if (npkIsSlice(indexes)) {
    if (indexes === null) throw new TensioError('INVALID_ARGUMENT', 'npk: indexes must be an integer, a list, a typed array or { start, end }', { format: 'npk' });
    const [start, end] = sliceRange(indexes, rows);
    return Array.from({ length: end - start }, (_, i) => start + i);
  }
  const list: ArrayLike<number | bigint> = typeof indexes === 'number' ? [indexes] : indexes;
  if (typeof indexes !== 'number' && !Array.isArray(indexes) && !ArrayBuffer.isView(indexes)) {
    throw new TensioError('INVALID_ARGUMENT', `npk: indexes must be an integer, a list, a typed array or { start, end }, got ${typeof indexes}`, { format: 'npk' });
  }
  const out: number[] = [];
  const seen = mode === 'lenient' ? new Set<number>() : undefined;
  for (let i = 0; i < list.length; i++) {
    const raw = list[i]!;
    const index = typeof raw === 'bigint' ? Number(raw) : raw;
    if (!Number.isInteger(index)) {
      throw new TensioError('INVALID_ARGUMENT', `npk: row index ${String(raw)} is not an integer`, { format: 'npk' });
    }
    const row = index < 0 ? rows + index : index;
    if (row < 0 || row >= rows) {
      if (mode === 'lenient') continue;
      throw new TensioError('INVALID_SLICE', `npk: row ${index} is out of range for ${quoteInput(name)} with ${rows} rows`, { format: 'npk' });
    }
    if (seen) {
      if (seen.has(row)) continue;
      seen.add(row);
    }
    out.push(row);
  }
  return out;
}
