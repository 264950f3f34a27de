/**
 * The lock primitive of multi-file publishing: an advisory writer lock file in a local
 * folder, holding the owner's pid, host and a random nonce; a second writer gets
 * `LOCKED`. The NumPack store's `<store>/.lock` (`src/npk/lock.ts`) and the lock of one
 * prefix of a sharded safetensors checkpoint are both {@link acquireWriterLock} with
 * their own file name. (The notes below say `.lock` for the lock file's name.)
 *
 * Why it cannot be won twice:
 * - The lock is never seen half-written: its content goes to a private temporary file
 *   first, which is then hard-linked to `.lock` (`link` fails with `EEXIST` when the lock
 *   exists, atomically). A failed write (ENOSPC) removes the temporary file and leaves no
 *   lock behind.
 * - A lock whose owner is dead (a crashed writer) is taken over only by the one process
 *   that creates the claim `.lock.reap-<nonce>` for exactly that lock instance (again by
 *   `link`, so exclusive). Under the claim it checks that `.lock` still holds that
 *   instance and only then renames its own lock over it. A process that read the same
 *   stale lock but lost the claim, or claimed it after the winner finished, finds another
 *   nonce in `.lock` and backs off with `LOCKED`. A claim left by a taker that died
 *   inside that short step is itself stale and is taken over the same way, one level down.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { localFolder, type LocalFolder } from './local-folder.js';
import { processAlive } from './temporary-names.js';

/** A held lock; `release()` removes the file (safe to call twice). */
export interface WriterLock {
  readonly path: string;
  /** The random id written in the lock file; tells this acquisition from any other. */
  readonly nonce: string;
  release(): Promise<void>;
}

/** What a lock file says about its owner. */
interface LockOwner {
  /** Identifies this lock instance: the nonce, or for a lock of an older tensio its inode and time. */
  id: string;
  pid?: number;
  host?: string;
  /** Milliseconds since the file was last written. */
  ageMs: number;
}

/**
 * The file operations the lock uses, replaceable by tests (for example to make the
 * write fail with ENOSPC). Not part of the public API.
 *
 * @internal
 */
export const writerLockFileSystem = {
  /** Creates `path` with `text` (`EEXIST` when it exists). */
  writeFile: (path: string, text: string) => localFolder(dirname(path)).writeInPlace(basename(path), text, { exclusive: true }),
  /** Makes `path` a second name of `existing` in the same folder (`EEXIST` when it exists). */
  link: (existing: string, path: string) => localFolder(dirname(path)).link(basename(existing), basename(path)),
  /** Called after a lock's owner was read and before acting on it: race tests widen that window here. */
  afterReadingOwner: async (): Promise<void> => undefined,
};

/**
 * A lock without a nonce or pid (empty or garbage, e.g. left by an older tensio that ran
 * out of space while writing it) is treated as stale once it is this old.
 */
const UNREADABLE_LOCK_GRACE_MS = 10_000;
/** Claims on claims: a taker must die inside a few system calls for each level. */
const MAX_CLAIM_DEPTH = 4;

/** A name of the lock's folder as the lock code uses it: the folder's operations and the file's key. */
interface LockName {
  readonly folder: LocalFolder;
  readonly key: string;
}

const pathOfName = (name: LockName): string => name.folder.pathOf(name.key);

async function readOwner({ folder, key }: LockName): Promise<LockOwner | undefined> {
  const info = await folder.stat(key);
  if (!info) return undefined;
  let text: string;
  try {
    text = new TextDecoder().decode(await folder.readBytes(key));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const ageMs = Date.now() - info.mtimeMs;
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown; nonce?: unknown };
    const owner: LockOwner = { id: typeof parsed.nonce === 'string' && /^[0-9a-f]{8,64}$/.test(parsed.nonce) ? parsed.nonce : `i${info.inode}m${Math.trunc(info.mtimeMs)}`, ageMs };
    if (typeof parsed.pid === 'number') owner.pid = parsed.pid;
    if (typeof parsed.host === 'string') owner.host = parsed.host;
    return owner;
  } catch {
    return { id: `i${info.inode}m${Math.trunc(info.mtimeMs)}`, ageMs };
  }
}

function ownerAlive(owner: LockOwner): boolean {
  if (owner.pid === undefined) return owner.ageMs < UNREADABLE_LOCK_GRACE_MS;
  // A pid is only meaningful on the machine that wrote it: a lock from elsewhere is held.
  if (owner.host !== undefined && owner.host !== hostname()) return true;
  return processAlive(owner.pid);
}

/** Writes `text` to a fresh private file beside `path`; removes it again if the write fails. */
async function writePrivate(name: LockName, text: string): Promise<LockName> {
  const temporary = { folder: name.folder, key: `${name.key}.${process.pid}-${randomBytes(6).toString('hex')}.tmp` };
  try {
    await writerLockFileSystem.writeFile(pathOfName(temporary), text);
  } catch (error) {
    await temporary.folder.unlink(temporary.key, { quiet: true });
    throw error;
  }
  return temporary;
}

/** `link` errors of file systems without hard links (FAT, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * The fallback where hard links are missing: O_EXCL creation, then the content. A reader
 * may see it empty for an instant (an unreadable lock counts as held while fresh); a
 * failed write removes it, so no lock is left behind. False when it exists.
 */
async function createExclusive(name: LockName, text: string): Promise<boolean> {
  try {
    await writerLockFileSystem.writeFile(pathOfName(name), text);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    await name.folder.unlink(name.key, { quiet: true });
    throw error;
  }
}

/**
 * Makes `path` hold `text` if it is absent or held by a dead owner. Returns false when a
 * live owner holds it (or is taking it over right now).
 */
async function take(path: LockName, text: string, depth: number): Promise<boolean> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const temporary = await writePrivate(path, text);
    try {
      try {
        await writerLockFileSystem.link(pathOfName(temporary), pathOfName(path));
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== undefined && NO_HARD_LINKS.has(code)) {
          if (await createExclusive(path, text)) return true;
        } else if (code !== 'EEXIST') throw error;
      }
      const owner = await readOwner(path);
      await writerLockFileSystem.afterReadingOwner();
      if (!owner) continue; // released meanwhile: try again
      if (ownerAlive(owner) || depth >= MAX_CLAIM_DEPTH) return false;
      const claim = { folder: path.folder, key: `${path.key}.reap-${owner.id}` };
      if (!(await take(claim, text, depth + 1))) return false; // another live process is taking it over
      try {
        const now = await readOwner(path);
        if (now?.id !== owner.id) continue; // someone else already replaced it
        await path.folder.rename(temporary.key, path.key); // we alone may act on this instance: replace it
        return true;
      } finally {
        await claim.folder.unlink(claim.key, { quiet: true });
      }
    } finally {
      await temporary.folder.unlink(temporary.key, { quiet: true });
    }
  }
  return false;
}

/** What a lock guards, for its messages. */
export interface WriterLockSubject {
  /** Format named in errors (`'npk'`, `'safetensors'`). */
  readonly format: string;
  /** `LOCKED` message head, e.g. `npk: data.npk is open for writing by another process`. */
  readonly held: string;
  /** What to do about it, appended after the holder. */
  readonly advice: string;
}

/**
 * Takes the writer lock file `key` in `folder` by the protocol described at the top of
 * this file; throws `LOCKED` naming the holder, or `IO_ERROR` (leaving no lock) when the
 * lock cannot be written. The NumPack store lock and the sharded checkpoint lock (one
 * per prefix) are both this.
 *
 * @example
 * ```ts
 * const lock = await acquireWriterLock(localFolder('ckpt'), '.model.safetensors.writer-lock', subject);
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function acquireWriterLock(folder: LocalFolder, key: string, subject: WriterLockSubject): Promise<WriterLock> {
  const name: LockName = { folder, key };
  const path = pathOfName(name);
  const nonce = randomBytes(12).toString('hex');
  const text = JSON.stringify({ pid: process.pid, host: hostname(), nonce, since: new Date().toISOString() });
  let taken: boolean;
  try {
    taken = await take(name, text, 0);
  } catch (error) {
    throw new TensioError('IO_ERROR', `${subject.format}: cannot create lock ${path}: ${(error as Error).message}`, { format: subject.format, path, cause: error });
  }
  if (!taken) {
    const holder = (await name.folder.readBytes(name.key).then((bytes) => new TextDecoder().decode(bytes), () => '?')).slice(0, 200);
    throw new TensioError('LOCKED', `${subject.held} (${holder.trim()}); ${subject.advice}`, { format: subject.format, path });
  }
  let released = false;
  return {
    path,
    nonce,
    async release() {
      if (released) return;
      released = true;
      // Only remove the lock if it is still ours (it always should be).
      const owner = await readOwner(name).catch(() => undefined);
      if (owner?.id === nonce) await name.folder.unlink(name.key, { quiet: true });
    },
  };
}
