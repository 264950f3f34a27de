/**
 * A local copy of a source, for readers built on a library that opens files by path
 * (HDF5 through libhdf5): bytes in memory or a URL are copied, streamed in bounded
 * chunks, to a temporary file that is removed when the reader is done with it.
 */
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import type { ByteSource } from './byte-source.js';
import { temporaryPathFor } from './temporary-names.js';

/** A temporary local file holding a source's bytes. */
export interface LocalCopy {
  /** Path of the temporary file. */
  readonly path: string;
  /** Removes the file; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Copies `source` to a temporary file (in `folder`, default the OS temporary folder),
 * `chunkBytes` at a time; on failure or abort nothing is left behind.
 *
 * @example
 * ```ts
 * const copy = await localCopyOf(httpSource);
 * try { useLibraryThatNeedsAPath(copy.path); } finally { await copy.remove(); }
 * ```
 */
export async function localCopyOf(source: ByteSource, options: { folder?: string; chunkBytes?: number; signal?: AbortSignal; suffix?: string } = {}): Promise<LocalCopy> {
  const path = temporaryPathFor(join(options.folder ?? tmpdir(), `copy${options.suffix ?? ''}`));
  const chunkBytes = options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES;
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await unlink(path).catch(() => undefined);
  };
  const handle = await open(path, 'wx', 0o600);
  try {
    for (let offset = 0; offset < source.size; offset += chunkBytes) {
      throwIfAborted(options.signal);
      const chunk = await source.read(offset, Math.min(chunkBytes, source.size - offset), options.signal ? { signal: options.signal } : undefined);
      await handle.write(chunk, 0, chunk.byteLength, offset);
    }
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await remove();
    throw error;
  }
  return { path, remove };
}
