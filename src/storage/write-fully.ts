/**
 * All of a buffer written at a position of an open local file: the loop every file sink
 * and scratch file needs (positional writes of at most 1 GiB, since Node refuses a
 * single call of 2 GiB or more; short writes resumed; a write that makes no progress
 * refused instead of looping), with each caller's own error.
 */
import type { FileHandle } from 'node:fs/promises';

/** Largest single positional write (Node refuses lengths of 2 GiB and more). */
const MAX_WRITE_BYTES = 2 ** 30;

/**
 * Writes every byte of `bytes` at `position` of `handle`. On failure throws what `fail`
 * makes of the file position the failed write started at and its cause (a Node error,
 * or an `Error` saying no byte was written).
 *
 * @example
 * ```ts
 * await writeFullyAt(handle, chunk, position, (byte, cause) =>
 *   new TensioError('IO_ERROR', `writing ${path} failed at byte ${byte}: ${(cause as Error).message}`, { path, cause }));
 * ```
 */
export async function writeFullyAt(handle: FileHandle, bytes: Uint8Array, position: number, fail: (byte: number, cause: unknown) => Error): Promise<void> {
  let done = 0;
  try {
    while (done < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE_BYTES), position + done);
      if (bytesWritten <= 0) throw new Error(`no byte written of the ${bytes.byteLength - done} left`);
      done += bytesWritten;
    }
  } catch (cause) {
    throw fail(position + done, cause);
  }
}
