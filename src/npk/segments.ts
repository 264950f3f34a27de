/**
 * Segmented arrays: NumPack writes an array bigger than its segment target (256 MiB)
 * as a JSON manifest `data_<name>.npkseg` plus files `data_<name>_segments/seg_NNNNNN.npkd`
 * whose concatenation is the data. Rows per segment = max(1, target / row bytes).
 */
import { errorFactory } from '../core/errors.js';
import { checkedSize } from '../core/sizes.js';
import { npkCheckRelativePath } from './names.js';
import { quoteInput, quoteValue } from '../core/quote.js';

const fail: ReturnType<typeof errorFactory> = errorFactory('npk');

/** NumPack's default segment target, 256 MiB (env `NUMPACK_SEGMENT_TARGET_BYTES`). */
export const NPK_SEGMENT_TARGET_BYTES = 268_435_456;

/** One segment file as the manifest lists it. */
export interface NpkSegment {
  /** Path relative to the store. */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

/** True when a metadata data_file names a manifest (NumPack decides by extension only). */
export function npkIsManifestPath(dataFile: string): boolean {
  return dataFile.endsWith('.npkseg');
}

/** Rows per segment for a target and a row size, as NumPack computes it. */
export function npkRowsPerSegment(targetBytes: number, rowBytes: number): number {
  return Math.max(1, Math.floor(targetBytes / Math.max(1, rowBytes)));
}

/**
 * The page size the segments tensio writes are cut to (4 KiB: Linux on x86-64 and most
 * arm64 systems). Larger pages only cost the side-by-side mapping, never correctness.
 */
export const NPK_SEGMENT_PAGE_BYTES = 4096;

/**
 * Rows per segment for the segments tensio writes: NumPack's count
 * ({@link npkRowsPerSegment}) rounded down to a whole number of pages, so that each
 * full segment ends on a page and a load maps all segments side by side as one array
 * (`NpkArrayData.mapRows`). The manifest lists every segment's rows, so NumPack reads
 * any split; the rounding drops at most `4096 / gcd(rowBytes, 4096) - 1` rows per
 * segment (102 of 6.7 million for 40-byte rows). When not even one page-multiple
 * fits in the target (rows of an odd size and a small target), NumPack's count is kept.
 *
 * @example
 * ```ts
 * npkSegmentRows(268_435_456, 40); // 6_710_784 (NumPack: 6_710_886): 65,535 pages
 * ```
 */
export function npkSegmentRows(targetBytes: number, rowBytes: number): number {
  const rows = npkRowsPerSegment(targetBytes, rowBytes);
  if (rowBytes <= 0) return rows;
  let a = rowBytes;
  let b = NPK_SEGMENT_PAGE_BYTES;
  while (b !== 0) [a, b] = [b, a % b];
  const unit = NPK_SEGMENT_PAGE_BYTES / a; // rows in the smallest page-multiple
  return rows >= unit ? rows - (rows % unit) : rows;
}

/**
 * Parses a `.npkseg` manifest; segments with 0 rows are skipped as NumPack does.
 * Throws `INVALID_JSON`, `UNSUPPORTED_VERSION` or `INVALID_METADATA`.
 *
 * @example
 * ```ts
 * const segments = npkDecodeManifest(await readFile('s.npk/data_x.npkseg'), 40);
 * ```
 */
export function npkDecodeManifest(bytes: Uint8Array, rowBytes: number, name = '?'): NpkSegment[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    fail('INVALID_JSON', `npk: segment manifest of ${quoteInput(name)} is not JSON`, { cause });
  }
  const manifest = parsed as { version?: unknown; segments?: unknown };
  if (typeof manifest !== 'object' || manifest === null) fail('INVALID_METADATA', `npk: segment manifest of ${quoteInput(name)} is not an object`);
  if (manifest.version !== 1) fail('UNSUPPORTED_VERSION', `npk: segment manifest of ${quoteInput(name)} has version ${quoteValue(manifest.version)}, expected 1`);
  if (!Array.isArray(manifest.segments)) fail('INVALID_METADATA', `npk: segment manifest of ${quoteInput(name)} has no segments list`);
  const segments: NpkSegment[] = [];
  for (const [index, raw] of (manifest.segments as unknown[]).entries()) {
    const segment = raw as { file?: unknown; rows?: unknown; bytes?: unknown };
    if (typeof segment?.file !== 'string' || typeof segment.rows !== 'number' || typeof segment.bytes !== 'number') {
      fail('INVALID_METADATA', `npk: segment ${index} of ${quoteInput(name)} needs file, rows and bytes`);
    }
    npkCheckRelativePath(segment.file, `segment ${index} of ${quoteInput(name)}`);
    const rows = checkedSize(segment.rows, 'npk', `rows of segment ${index}`);
    const segmentBytes = checkedSize(segment.bytes, 'npk', `bytes of segment ${index}`);
    if (rows === 0) continue;
    if (segmentBytes < rows * rowBytes) {
      fail('SIZE_MISMATCH', `npk: segment ${index} of ${quoteInput(name)} declares ${rows} rows of ${rowBytes} bytes but only ${segmentBytes} bytes`);
    }
    segments.push({ file: segment.file, rows, bytes: segmentBytes });
  }
  return segments;
}

/**
 * The manifest bytes NumPack writes: pretty JSON (2-space indent) with version 1.
 *
 * @example
 * ```ts
 * npkEncodeManifest([{ file: 'data_x_segments/seg_000000.npkd', rows: 10, bytes: 40 }]);
 * ```
 */
export function npkEncodeManifest(segments: readonly NpkSegment[]): Uint8Array {
  const body = { version: 1, segments: segments.map(({ file, rows, bytes }) => ({ file, rows, bytes })) };
  return new TextEncoder().encode(JSON.stringify(body, null, 2));
}
