/**
 * Files of the shared workspace folder (`../shared` beside the repository; worktrees sit
 * one level deeper, so `/work/shared` is the fallback), used in place, never copied.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CANDIDATES = [join(REPO, '..', 'shared'), '/work/shared'];

/** Absolute path of `relative` inside the shared folder, or undefined when it is missing. */
export function sharedFile(relative: string): string | undefined {
  for (const base of CANDIDATES) {
    const path = join(base, relative);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** `false` when every listed shared file exists, else a skip reason naming the first one missing. */
export function sharedSkip(...relatives: string[]): string | false {
  const missing = relatives.find((relative) => sharedFile(relative) === undefined);
  return missing === undefined ? false : `skipped: shared file ${missing} not found in ${CANDIDATES.join(' or ')}`;
}
