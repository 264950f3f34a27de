/**
 * Small file helpers for the store: atomic replacement of little files. Everything
 * goes through the store folder's local operations (`src/storage/local-folder.ts`).
 */
import { randomBytes } from 'node:crypto';
import { atomicFileSink } from '../storage/atomic-file-sink.js';
import { sinkWriteAll } from '../storage/byte-sink.js';
import type { LocalFolder } from '../storage/local-folder.js';

/**
 * Replaces `key` in `folder` with `bytes` atomically (temp file, fsync when durable, rename).
 *
 * @example
 * ```ts
 * await npkWriteFileAtomic(localFolder('s.npk'), 'metadata.npkm', bytes, true);
 * ```
 */
export async function npkWriteFileAtomic(folder: LocalFolder, key: string, bytes: Uint8Array, durable: boolean): Promise<void> {
  if (!durable && bytes.byteLength <= 2 ** 20) {
    // Without fsync a small catalogue is cheaper written synchronously: still temp + rename.
    const temporary = `${key}.tmp.${process.pid}_${randomBytes(4).toString('hex')}`;
    try {
      await folder.writeInPlace(temporary, bytes, { exclusive: true, blocking: true });
      await folder.rename(temporary, key, { blocking: true });
    } catch (error) {
      await folder.unlink(temporary, { quiet: true });
      throw error;
    }
    return;
  }
  await sinkWriteAll(await atomicFileSink(folder.pathOf(key), { durable }), bytes);
}
