/**
 * Facts about local paths for the layers above storage (which never import `node:fs`):
 * what a path is, how big a file is, and how many bytes a folder holds.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a local path is: `'file'`, `'folder'` or `'missing'` (anything else counts as a file). */
export async function localPathKind(path: string): Promise<'file' | 'folder' | 'missing'> {
  return stat(path).then((info) => (info.isDirectory() ? 'folder' : 'file'), () => 'missing');
}

/**
 * Size of a regular file in bytes; undefined for a folder or nothing.
 *
 * @example
 * ```ts
 * await localFileSize('out.safetensors'); // 1234
 * ```
 */
export async function localFileSize(path: string): Promise<number | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

/**
 * Bytes under a path: a file's size, or the sum of every file below a folder; 0 when
 * the path does not exist.
 *
 * @example
 * ```ts
 * await localTreeSize('data.npk'); // every file of the store
 * ```
 */
export async function localTreeSize(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await localTreeSize(join(path, entry));
  return total;
}
