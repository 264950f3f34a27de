/**
 * A {@link ByteSource} over a `Blob` (in a page: a `File` from a drop or a file chooser).
 * Each read slices the range it needs (`blob.slice(start, end).arrayBuffer()`), so a
 * 10 GB file is never held whole. Works in Node too (`Blob`, `File` from `node:buffer`).
 */
import { throwIfAborted } from '../core/errors.js';
import { checkRange, type ByteSource } from './byte-source.js';

/** What a Blob source needs from a `Blob` (structural, so no DOM types are required). */
export interface BlobLike {
  readonly size: number;
  /** A `File`'s name. */
  readonly name?: string;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A source reading `blob` by range. `name` defaults to the `File`'s name (used for
 * detection by extension and in messages).
 *
 * @example
 * ```ts
 * const reader = await openTensorFile(blobSource(fileInput.files[0]));
 * ```
 */
export function blobSource(blob: BlobLike, name: string | undefined = blob.name): ByteSource {
  return {
    size: blob.size,
    ...(name !== undefined && name !== '' ? { name } : {}),
    async read(offset, length, options) {
      throwIfAborted(options?.signal);
      checkRange(blob.size, offset, length, name);
      const buffer = await blob.slice(offset, offset + length).arrayBuffer();
      throwIfAborted(options?.signal);
      return new Uint8Array(buffer);
    },
  };
}
