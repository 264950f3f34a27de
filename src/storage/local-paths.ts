/**
 * Facts about local paths for the layers above storage (which never import `node:fs`):
 * what a path is, how big a file is, and how many bytes a folder holds; plus the few
 * local chores the CLI has (a scratch folder, its removal, reading package.json).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

/**
 * A fresh, empty folder in the OS temporary folder (`<tmp>/<prefix>XXXXXX`), for scratch
 * work such as `tensio selftest`; remove it with {@link removeLocalTree}.
 *
 * @example
 * ```ts
 * const folder = await makeTemporaryFolder('tensio-selftest-');
 * ```
 */
export async function makeTemporaryFolder(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes a file or a folder with everything in it; a missing one is fine.
 *
 * @example
 * ```ts
 * await removeLocalTree(folder);
 * ```
 */
export async function removeLocalTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/**
 * A small local text file read synchronously (a `file:` URL or a path), e.g. the
 * package's own `package.json`; throws what `readFileSync` throws.
 *
 * @example
 * ```ts
 * const pkg = JSON.parse(readLocalTextSync(new URL('../../package.json', import.meta.url)));
 * ```
 */
export function readLocalTextSync(location: string | URL): string {
  return readFileSync(location, 'utf8');
}

/**
 * A small local file's bytes read synchronously (a `file:` URL or a path), e.g. a
 * WebAssembly plugin library copied into an in-memory file system; throws what
 * `readFileSync` throws.
 *
 * @example
 * ```ts
 * const bytes = readLocalBytesSync('/path/to/libH5Zlz4.so');
 * ```
 */
export function readLocalBytesSync(location: string | URL): Uint8Array {
  return readFileSync(location);
}
