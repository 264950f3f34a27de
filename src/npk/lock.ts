/**
 * The NumPack store's writer lock: `<store>/.lock`, taken by every writer (readers never
 * take it), by the protocol of `src/storage/writer-lock.ts` (hard-linked lock file, one
 * taker of a dead owner's lock through a per-instance claim).
 */
import { localFolder } from '../storage/local-folder.js';
import { acquireWriterLock, writerLockFileSystem, type WriterLock } from '../storage/writer-lock.js';

export { processAlive as npkProcessAlive } from '../storage/temporary-names.js';

/** The lock's file name inside a store. */
export const NPK_LOCK_FILE = '.lock';

/** A held store lock; `release()` removes the file (safe to call twice). */
export type NpkLock = WriterLock;

/**
 * The lock's file operations, replaceable by tests (the same object as the storage
 * lock's). Not part of the public API.
 *
 * @internal
 */
export const npkLockFileSystem = writerLockFileSystem;

/**
 * Takes the writer lock of the store at `dir`; throws `LOCKED` naming the holder, or
 * `IO_ERROR` (leaving no lock) when the lock cannot be written.
 *
 * @example
 * ```ts
 * const lock = await npkAcquireLock('data.npk');
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function npkAcquireLock(dir: string): Promise<NpkLock> {
  return acquireWriterLock(localFolder(dir), NPK_LOCK_FILE, {
    format: 'npk',
    held: `npk: ${dir} is open for writing by another process`,
    advice: 'open it with { readOnly: true } or close the other writer',
  });
}

/** True when `name` is one of the lock's own files (the lock, its claims, their temporaries). */
export function npkIsLockFile(name: string): boolean {
  return name === NPK_LOCK_FILE || name.startsWith(`${NPK_LOCK_FILE}.`);
}
