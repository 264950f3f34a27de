/**
 * A spill file: decoded bytes set aside on local disk while they wait for their reader,
 * so that memory stays bounded when a producer runs ahead of its consumers (a CSV run
 * parsed once for every column, read one column after another). The file is created in
 * the OS temporary folder with tensio's temporary name and unlinked at once where the
 * platform allows it (POSIX), so nothing is left behind even after a crash; `close()`
 * releases it. Without a local file system (the browser build) `openSpillFile` throws
 * and callers keep to what fits in memory.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { temporaryPathFor } from './temporary-names.js';
import { writeFullyAt } from './write-fully.js';

/** Where one spilled piece lies in the spill file. */
export interface SpilledPiece {
  readonly offset: number;
  readonly length: number;
}

/** An append-only scratch file read back by offset. */
export interface SpillFile {
  /** Appends a copy of `bytes` and returns where it lies. */
  append(bytes: Uint8Array): Promise<SpilledPiece>;
  /** Reads a piece back into a fresh buffer. */
  read(piece: SpilledPiece): Promise<Uint8Array>;
  /** Bytes appended so far (the file's size). */
  readonly bytes: number;
  /** Closes and removes the file; idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a spill file in `folder` (default the OS temporary folder).
 *
 * @example
 * ```ts
 * const spill = await openSpillFile();
 * const at = await spill.append(column);
 * const back = await spill.read(at);
 * await spill.close();
 * ```
 */
export async function openSpillFile(folder = tmpdir()): Promise<SpillFile> {
  const path = temporaryPathFor(join(folder, 'spill'));
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx+', 0o600);
  } catch (cause) {
    throw new TensioError('IO_ERROR', `cannot create a spill file in ${folder}: ${(cause as Error).message}`, { path, cause });
  }
  // Unlinked while open: the space returns when the handle closes, even after a crash.
  let unlinked = await unlink(path).then(() => true, () => false);
  let size = 0;
  let closed = false;
  const failed = (what: string, cause: unknown): never => {
    throw new TensioError('IO_ERROR', `${what} the spill file ${path} failed: ${(cause as Error).message}`, { path, cause });
  };
  return {
    get bytes() {
      return size;
    },
    async append(bytes) {
      if (closed) throw new TensioError('INVALID_ARGUMENT', 'spill file is closed');
      const offset = size;
      size += bytes.byteLength;
      await writeFullyAt(handle, bytes, offset, (_byte, cause) => failed('writing', cause));
      return { offset, length: bytes.byteLength };
    },
    async read(piece) {
      if (closed) throw new TensioError('INVALID_ARGUMENT', 'spill file is closed');
      const out = allocateUninitialized(piece.length);
      let done = 0;
      try {
        while (done < piece.length) {
          const { bytesRead } = await handle.read(out, done, Math.min(piece.length - done, 2 ** 30), piece.offset + done);
          if (bytesRead === 0) throw new Error(`end of file at byte ${piece.offset + done}`);
          done += bytesRead;
        }
      } catch (cause) {
        failed('reading', cause);
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => undefined);
      if (!unlinked) unlinked = await unlink(path).then(() => true, () => false);
    },
  };
}
