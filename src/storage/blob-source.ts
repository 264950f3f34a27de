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
  const source: ByteSource = {
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
  blobs.set(source, blob);
  return source;
}

/** Sources made by {@link blobSource} → their Blob. */
const blobs = new WeakMap<ByteSource, BlobLike>();

/**
 * A synchronous range reader of a {@link blobSource}'s Blob, where the platform has one:
 * `FileReaderSync`, in a browser's Web Workers only. Synchronous libraries (libhdf5 in
 * WebAssembly) read a `File` through it without holding it whole. Undefined elsewhere
 * (a page's main thread, Node) and for other sources.
 *
 * @example
 * ```ts
 * const readSync = blobSyncReader(source);
 * if (readSync) readSync(target, 0); // fills target with the first bytes
 * ```
 */
export function blobSyncReader(source: ByteSource): ((target: Uint8Array, position: number) => void) | undefined {
  const blob = blobs.get(source);
  const Reader = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(blob: unknown): ArrayBuffer } }).FileReaderSync;
  if (!blob || !Reader) return undefined;
  const reader = new Reader();
  return (target, position) => {
    checkRange(blob.size, position, target.byteLength, source.name);
    target.set(new Uint8Array(reader.readAsArrayBuffer(blob.slice(position, position + target.byteLength))));
  };
}
