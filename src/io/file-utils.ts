/**
 * File sizes and chunk sizing with NumPack IO's exact semantics.
 */
import { localTreeSize } from '../storage/local-paths.js';
import { itemSize, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { DEFAULT_BATCH_ROWS, DEFAULT_CHUNK_SIZE, LARGE_FILE_THRESHOLD, MAX_CHUNK_ROWS } from './constants.js';

/**
 * Size of a file in bytes; of a folder, the sum of every file below it; 0 when the
 * path does not exist.
 *
 * @example
 * ```ts
 * await getFileSize('data.npk'); // bytes of every file in the store
 * ```
 */
export async function getFileSize(path: string): Promise<number> {
  return localTreeSize(path);
}

/**
 * True when the file (or folder) is bigger than `threshold` bytes (default 1 GiB).
 *
 * @example
 * ```ts
 * if (await isLargeFile('big.npy')) console.log('streaming');
 * ```
 */
export async function isLargeFile(path: string, threshold = LARGE_FILE_THRESHOLD): Promise<boolean> {
  return (await getFileSize(path)) > threshold;
}

/**
 * Rows per chunk so a chunk holds about `targetChunkBytes`: 1 for a 0-d shape,
 * {@link DEFAULT_BATCH_ROWS} when a row has no bytes, else
 * min(max(1, target / row bytes), rows, 1 000 000).
 *
 * @example
 * ```ts
 * estimateChunkRows([10000, 100], 'float64', 2 ** 20); // 1310
 * ```
 */
export function estimateChunkRows(shape: readonly number[], dtype: DType, targetChunkBytes = DEFAULT_CHUNK_SIZE): number {
  if (shape.length === 0) return 1;
  const size = itemSize(dtype);
  if (size === undefined) throw new TensioError('UNSUPPORTED_DTYPE', `cannot size rows of ${dtype}: it has no whole-byte item size`);
  const rowBytes = shape.slice(1).reduce((a, b) => a * b, 1) * size;
  if (rowBytes === 0) return DEFAULT_BATCH_ROWS;
  return Math.min(Math.max(1, Math.floor(targetChunkBytes / rowBytes)), shape[0]!, MAX_CHUNK_ROWS);
}
