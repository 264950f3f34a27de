/** The shared test inputs (`../shared` beside the repository), found from any worktree. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const candidates = [fileURLToPath(new URL('../../../shared', import.meta.url)), '/work/shared'];

/** Absolute path of `relative` inside the shared folder, or undefined when it is not there. */
export function sharedPath(relative: string): string | undefined {
  for (const root of candidates) {
    const path = join(root, relative);
    if (existsSync(path)) return path;
  }
  return undefined;
}
