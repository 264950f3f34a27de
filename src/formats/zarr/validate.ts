/**
 * Pure checks of Zarr metadata numbers: shapes, chunk shapes, codec parameters. Each
 * bad value becomes a `TensioError` naming the array and the number.
 */
import { TensioError } from '../../core/errors.js';
import { MAX_DIMENSION, MAX_RANK, ZARR_MAX_CHUNK_BYTES, ZARR_MAX_CHUNKS } from '../../core/limits.js';

export { ZARR_MAX_BAND_BYTES, ZARR_MAX_CHUNKS, ZARR_MAX_CHUNK_BYTES, ZARR_MAX_METADATA_BYTES } from '../../core/limits.js';

/** Fails with `INVALID_METADATA` naming the array. */
export function zarrFail(path: string, message: string): never {
  throw new TensioError('INVALID_METADATA', `zarr: array ${JSON.stringify(path || '/')}: ${message}`, { format: 'zarr' });
}

/**
 * Checks a shape (and its chunk shape): non-negative safe integers, rank ≤ MAX_RANK,
 * chunk sides ≥ 1, the same rank for both.
 *
 * @example
 * ```ts
 * zarrCheckShapes('x', [10, 10], [5, 5]); // ok
 * ```
 */
export function zarrCheckShapes(path: string, shape: unknown, chunks: unknown, what = 'chunk shape'): asserts shape is number[] {
  if (!Array.isArray(shape)) zarrFail(path, `shape ${JSON.stringify(shape)} is not a list`);
  if (!Array.isArray(chunks)) zarrFail(path, `${what} ${JSON.stringify(chunks)} is not a list`);
  if (shape.length > MAX_RANK) zarrFail(path, `rank ${shape.length} exceeds ${MAX_RANK}`);
  if (chunks.length !== shape.length) zarrFail(path, `${what} ${JSON.stringify(chunks)} has rank ${chunks.length}, the shape ${JSON.stringify(shape)} has ${shape.length}`);
  shape.forEach((size, axis) => {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_DIMENSION) zarrFail(path, `shape[${axis}] = ${JSON.stringify(size)} is not an integer in 0..${MAX_DIMENSION}`);
  });
  chunks.forEach((size, axis) => {
    if (!Number.isSafeInteger(size) || size < 1 || size > MAX_DIMENSION) zarrFail(path, `${what}[${axis}] = ${JSON.stringify(size)} is not an integer in 1..${MAX_DIMENSION}`);
  });
}

/** Number of chunks along each axis (`ceil(shape / chunk)`). */
export function zarrGridShape(shape: readonly number[], chunks: readonly number[]): number[] {
  return shape.map((size, axis) => Math.ceil(size / chunks[axis]!));
}

/** Checks the total chunk count and one chunk's decoded bytes against the limits. */
export function zarrCheckGrid(path: string, shape: readonly number[], chunks: readonly number[], itemSize: number, limits: { maxChunks?: number; maxChunkBytes?: number } = {}): void {
  const count = zarrGridShape(shape, chunks).reduce((a, b) => a * b, 1);
  const maxChunks = limits.maxChunks ?? ZARR_MAX_CHUNKS;
  if (count > maxChunks) throw new TensioError('LIMIT_EXCEEDED', `zarr: array ${JSON.stringify(path || '/')} declares ${count} chunks, more than ${maxChunks} (maxChunks)`, { format: 'zarr' });
  const bytes = chunks.reduce((a, b) => a * b, itemSize);
  const maxBytes = limits.maxChunkBytes ?? ZARR_MAX_CHUNK_BYTES;
  if (bytes > maxBytes) throw new TensioError('LIMIT_EXCEEDED', `zarr: array ${JSON.stringify(path || '/')} has chunks of ${bytes} bytes (${JSON.stringify(chunks)}), more than ${maxBytes} (maxChunkBytes)`, { format: 'zarr' });
}

/** Checks that a name can be a Zarr node name in a key (no `/` inside, not `.`/`..`, not starting with `__`... as zarr-python refuses). */
export function zarrNodeNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'is empty, "." or ".."';
  if (name.includes('\0') || name.includes('\\')) return 'contains NUL or a backslash';
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..' || part.startsWith('.') || part === 'zarr.json' || part.startsWith('__'))) return 'has an empty, ".", "..", dot-file or reserved part';
  return undefined;
}
