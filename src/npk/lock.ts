/**
 * An advisory writer lock for a store: `<store>/.lock`, created with O_EXCL and holding
 * the owner's pid. NumPack has no lock, so two writers silently lose each other's
 * metadata; here the second writer gets `LOCKED`. A lock whose pid is dead (a crashed
 * writer) is stale and taken over. Readers (`readOnly`) never take it.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TensioError } from '../core/errors.js';

/** The lock's file name inside a store. */
export const NPK_LOCK_FILE = '.lock';

/** A held lock; `release()` removes the file (safe to call twice). */
export interface NpkLock {
  readonly path: string;
  release(): Promise<void>;
}

interface LockOwner { pid?: unknown; host?: unknown }

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string): Promise<boolean> {
  let owner: LockOwner;
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return false; // being written right now, or unreadable: assume it is held
  }
  if (typeof owner.pid !== 'number') return false;
  // A pid is only meaningful on the machine that wrote it.
  if (typeof owner.host === 'string' && owner.host !== hostname()) return false;
  return !processAlive(owner.pid);
}

/**
 * Takes the writer lock of the store at `dir`; throws `LOCKED` naming the holder.
 *
 * @example
 * ```ts
 * const lock = await npkAcquireLock('data.npk');
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function npkAcquireLock(dir: string): Promise<NpkLock> {
  const path = join(dir, NPK_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TensioError('IO_ERROR', `npk: cannot create lock ${path}: ${(error as Error).message}`, { format: 'npk', path, cause: error });
      }
      if (attempt === 0 && (await isStale(path))) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      const holder = await readFile(path, 'utf8').catch(() => '?');
      throw new TensioError('LOCKED', `npk: ${dir} is open for writing by another NumPack (${holder.trim()}); open it with { readOnly: true } or close the other one`, { format: 'npk', path });
    }
  }
  throw new TensioError('LOCKED', `npk: ${dir} is locked (${path})`, { format: 'npk', path });
}
