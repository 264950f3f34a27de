/**
 * tensio's temporary names, `.NAME.tensio-<pid>-<8 hex>.tmp` beside the target, and the
 * clean-up of those a killed process left behind. A `kill -9` (or a power cut) skips
 * every `abort()`, so the temporary of a write in progress stays; the next write into
 * the same folder removes those whose process no longer exists. A live process's
 * temporary is never touched (its pid answers `process.kill(pid, 0)`), so concurrent
 * writers are safe. Only names of exactly this shape are considered.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** `.NAME.tensio-<pid>-<8 hex>.tmp`: group 1 is the target's name, group 2 the writer's pid. */
export const TEMPORARY_NAME_PATTERN = /^\.(.+)\.tensio-(\d{1,10})-[0-9a-f]{8}\.tmp$/;

/**
 * Four random bytes as 8 hex digits, from Web Crypto (a global in Node 20: no
 * `node:crypto` import at load time for a name).
 */
function randomHex4(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(4)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A fresh temporary path beside `path` carrying this process's pid.
 *
 * @example
 * ```ts
 * temporaryPathFor('/data/model.safetensors'); // '/data/.model.safetensors.tensio-4242-1a2b3c4d.tmp'
 * ```
 */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tensio-${process.pid}-${randomHex4()}.tmp`);
}

/**
 * True when a process with this pid exists (it may belong to another user: `EPERM`).
 *
 * @example
 * ```ts
 * processAlive(process.pid); // true
 * ```
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders already cleaned by this process: one scan per folder is enough. */
const cleanedFolders = new Set<string>();

/**
 * Removes tensio temporaries in `folder` whose writing process no longer exists (files,
 * and the folders a NumPack store is built in). Best effort: a name that cannot be
 * removed is left. Each folder is scanned once per process unless `force` is set.
 * Returns the names removed.
 *
 * @example
 * ```ts
 * const removed = await removeStaleTemporaries('/data'); // ['.model.safetensors.tensio-999-0badcafe.tmp']
 * ```
 */
export async function removeStaleTemporaries(folder: string, options: { force?: boolean } = {}): Promise<string[]> {
  const key = resolve(folder);
  if (!options.force && cleanedFolders.has(key)) return [];
  cleanedFolders.add(key);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY_NAME_PATTERN.exec(name);
    if (!match) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    const path = join(folder, name);
    try {
      const info = await lstat(path);
      // A folder is a NumPack store being built; anything else (a symlink) is only unlinked.
      await rm(path, { recursive: info.isDirectory(), force: true });
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}
