/**
 * Array names and the file names NumPack derives from them. NumPack pastes names into
 * paths verbatim (so `../x` escapes the store); tensio refuses such names.
 */
import { TensioError } from '../core/errors.js';
import { quoteInput, quoteValue } from '../core/quote.js';

/** Longest array name in UTF-8 bytes: `deleted_<name>.npkb` and friends must stay under 255. */
export const NPK_MAX_NAME_BYTES = 200;

/**
 * Throws `INVALID_NAME` for names that are empty, too long, or could leave the store's
 * folder (`/`, `\`, `..`, NUL).
 *
 * @example
 * ```ts
 * npkCheckName('embeddings'); // ok
 * npkCheckName('../etc');     // throws INVALID_NAME
 * ```
 */
export function npkCheckName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TensioError('INVALID_NAME', `npk: array names must be non-empty strings, got ${quoteValue(name)}`, { format: 'npk' });
  }
  if (/[/\\\0]/.test(name) || name.includes('..')) {
    throw new TensioError('INVALID_NAME', `npk: array name ${quoteInput(name)} contains '/', '\\', '..' or NUL, which would leave the store's folder`, { format: 'npk' });
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > NPK_MAX_NAME_BYTES) {
    throw new TensioError('INVALID_NAME', `npk: array name is ${bytes} UTF-8 bytes long, the limit is ${NPK_MAX_NAME_BYTES}`, { format: 'npk' });
  }
}

/** Throws `INVALID_METADATA` unless a data_file path from a store stays inside it. */
export function npkCheckRelativePath(path: string, what: string): void {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\') || path.includes('\0') || /^[a-zA-Z]:/.test(path)
    || path.split('/').some((part) => part === '..' || part === '')) {
    throw new TensioError('INVALID_METADATA', `npk: ${what} ${quoteInput(path)} is not a plain path inside the store`, { format: 'npk' });
  }
}

/** `data_<name>.npkd`: the plain data file. */
export const npkDataFileName = (name: string) => `data_${name}.npkd`;
/** `data_<name>.npkseg`: the segment manifest. */
export const npkManifestFileName = (name: string) => `data_${name}.npkseg`;
/** `data_<name>_segments`: the segment folder. */
export const npkSegmentFolderName = (name: string) => `data_${name}_segments`;
/** `deleted_<name>.npkb`: the deletion bitmap. */
export const npkBitmapFileName = (name: string) => `deleted_${name}.npkb`;
/** `seg_000000.npkd`: segment `index` inside the segment folder. */
export const npkSegmentFileName = (index: number) => `seg_${String(index).padStart(6, '0')}.npkd`;
