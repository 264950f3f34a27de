/**
 * Small file helpers for the store: atomic replacement of little files, tolerant
 * removal, and the fsync of a folder after a rename.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { atomicFileSink } from '../storage/atomic-file-sink.js';

/**
 * Replaces `path` with `bytes` atomically (temp file, fsync when durable, rename).
 *
 * @example
 * ```ts
 * await npkWriteFileAtomic('s.npk/metadata.npkm', bytes, true);
 * ```
 */
export async function npkWriteFileAtomic(path: string, bytes: Uint8Array, durable: boolean): Promise<void> {
  if (!durable && bytes.byteLength <= 2 ** 20) {
    // Without fsync a small catalogue is cheaper written synchronously: still temp + rename.
    const temporary = `${path}.tmp.${process.pid}_${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(temporary, bytes, { flag: 'wx' });
      renameSync(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    return;
  }
  const sink = await atomicFileSink(path, { durable });
  try {
    await sink.write(bytes);
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** Removes a file or folder; a missing one is fine. */
export async function npkRemove(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR' || code === 'EPERM') await rm(path, { recursive: true, force: true });
    else throw error;
  }
}
