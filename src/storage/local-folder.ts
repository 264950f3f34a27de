/**
 * What a multi-file publish needs from a local folder beyond the plain {@link Store}
 * operations: rename (atomic replace of a file; a folder moved whole), exclusive
 * creation by hard link (a lock primitive: a file that appears complete or not at all),
 * fsync of the folder so renames survive a power cut, files written in place under
 * staged names, random-access file handles, and entry facts (kind, size, mtime, inode).
 * `folderStore` implements these for its folder; the NumPack store's publish protocol,
 * its lock and its data files run on them, so nothing outside `src/storage/` touches
 * the file system.
 *
 * Errors: these operations reject with the Node error itself (its `code` is the errno
 * name, `ENOENT`, `EEXIST`, `EXDEV`…), because the protocols above branch on exactly
 * those (a missing name is "already done", `EEXIST` is "held", no hard links is a
 * fallback); a missing entry is `undefined` where the method says so.
 */
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkStoreKey } from './store.js';

/** Facts about one entry of a local folder. */
export interface LocalEntryInfo {
  readonly kind: 'file' | 'folder';
  readonly size: number;
  readonly mtimeMs: number;
  /** The inode number: tells two files of the same name apart over time. */
  readonly inode: number;
}

/** How {@link LocalFolder.openFile} opens a file. */
export type LocalFileMode = 'read' | 'update' | 'create';

/** A random-access handle on one local file. */
export interface LocalFile {
  /** Reads up to `length` bytes at `position` into `target[offset…]`, synchronously (C speed, no thread-pool hop); returns the count (0 at the end). */
  readSync(target: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes `bytes[offset…offset+length]` at `position` synchronously; returns the count. */
  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes on the thread pool (large writes keep the event loop free); returns the count. */
  write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Flushes the file's data to disk. */
  datasync(): Promise<void>;
  /** Cuts (or extends with zeros) the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** The operating system's descriptor, for memory mapping (`memory-map.ts`); valid until `close()`. */
  readonly fd: number;
  close(): Promise<void>;
}

/** Options of the in-place writes and renames: `blocking` uses synchronous calls (cheap for small files without fsync). */
export interface LocalWriteOptions {
  /** Fail with `EEXIST` when the name exists. */
  exclusive?: boolean;
  /** fsync the file before resolving. */
  durable?: boolean;
  /** Use synchronous system calls (only sensible without `durable`). */
  blocking?: boolean;
}

/** The local operations of a folder store; keys as in {@link Store} (`''` is the folder itself where a folder is meant). */
export interface LocalFolder {
  /** The folder's path. */
  readonly root: string;
  /** The local path of a key (or of the folder for `''`). */
  pathOf(key: string): string;
  /** Facts about a key, or undefined when nothing is there. */
  stat(key: string, options?: { blocking?: boolean }): Promise<LocalEntryInfo | undefined>;
  /** Names directly in a folder key (`''`: the root), files and folders alike. Rejects with `ENOENT` when it is missing. */
  names(folderKey?: string): Promise<string[]>;
  /** Creates a folder key and its parents. */
  makeFolder(folderKey?: string): Promise<void>;
  /** The bytes of a key; rejects with `ENOENT` when it is missing. */
  readBytes(key: string): Promise<Uint8Array>;
  /** Writes a whole key in place (not atomic: for staged names and private files). */
  writeInPlace(key: string, bytes: Uint8Array | string, options?: LocalWriteOptions): Promise<void>;
  /** Renames a file or folder within the folder; a file replaces a file atomically. */
  rename(from: string, to: string, options?: { blocking?: boolean }): Promise<void>;
  /** Makes `key` a second name of `existing`; rejects with `EEXIST` when `key` exists (atomic exclusive creation). */
  link(existing: string, key: string): Promise<void>;
  /** Removes a file, or a folder with everything in it; a missing one is fine. */
  removeTree(key: string, options?: { blocking?: boolean }): Promise<void>;
  /** Removes one file; a missing one is fine; other failures are ignored when `quiet`. */
  unlink(key: string, options?: { quiet?: boolean }): Promise<void>;
  /** fsyncs a folder (`''`: the root) so renames in it are durable; file systems that cannot (EINVAL) are skipped. */
  syncFolder(folderKey?: string): Promise<void>;
  /** Opens a file for random access: `read`, `update` (created if missing) or `create` (truncated). */
  openFile(key: string, mode: LocalFileMode): Promise<LocalFile>;
}

function entryInfo(info: { isDirectory(): boolean; size: number; mtimeMs: number; ino: number }): LocalEntryInfo {
  return { kind: info.isDirectory() ? 'folder' : 'file', size: info.size, mtimeMs: info.mtimeMs, inode: info.ino };
}

function localFile(handle: FileHandle): LocalFile {
  return {
    readSync: (target, offset, length, position) => readSync(handle.fd, target, offset, length, position),
    writeSync: (bytes, offset, length, position) => writeSync(handle.fd, bytes, offset, length, position),
    write: async (bytes, offset, length, position) => (await handle.write(bytes, offset, length, position)).bytesWritten,
    datasync: () => handle.datasync(),
    truncate: (length) => handle.truncate(length),
    fd: handle.fd,
    close: () => handle.close(),
  };
}

/**
 * The local operations over the folder `root`.
 *
 * @example
 * ```ts
 * const folder = localFolder('data.npk');
 * await folder.writeInPlace('metadata.npkm.staged', bytes, { durable: true });
 * await folder.rename('metadata.npkm.staged', 'metadata.npkm');
 * await folder.syncFolder();
 * ```
 */
export function localFolder(root: string): LocalFolder {
  const pathOf = (key: string): string => {
    if (key === '') return root;
    checkStoreKey(key);
    return join(root, ...key.split('/'));
  };
  return {
    root,
    pathOf,
    async stat(key, options) {
      if (options?.blocking) {
        const info = statSync(pathOf(key), { throwIfNoEntry: false });
        return info ? entryInfo(info) : undefined;
      }
      return stat(pathOf(key)).then(entryInfo, () => undefined);
    },
    names: (folderKey = '') => readdir(pathOf(folderKey)),
    async makeFolder(folderKey = '') {
      await mkdir(pathOf(folderKey), { recursive: true });
    },
    readBytes: (key) => readFile(pathOf(key)),
    async writeInPlace(key, bytes, options = {}) {
      const path = pathOf(key);
      const flag = options.exclusive ? 'wx' : 'w';
      if (options.blocking && !options.durable) {
        writeFileSync(path, bytes, { flag });
        return;
      }
      if (!options.durable) {
        await writeFile(path, bytes, { flag });
        return;
      }
      const handle = await open(path, flag);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    async rename(from, to, options) {
      if (options?.blocking) renameSync(pathOf(from), pathOf(to));
      else await rename(pathOf(from), pathOf(to));
    },
    link: (existing, key) => link(pathOf(existing), pathOf(key)),
    async removeTree(key, options) {
      const path = pathOf(key);
      if (options?.blocking) {
        rmSync(path, { recursive: true, force: true });
        return;
      }
      try {
        await unlink(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code === 'EISDIR' || code === 'EPERM') await rm(path, { recursive: true, force: true });
        else throw error;
      }
    },
    async unlink(key, options) {
      try {
        await unlink(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || options?.quiet) return;
        throw error;
      }
    },
    async syncFolder(folderKey = '') {
      const handle = await open(pathOf(folderKey), 'r');
      try {
        await handle.sync();
      } catch (error) {
        // Some file systems cannot fsync a folder (EINVAL); their renames are as durable as they get.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
      } finally {
        await handle.close();
      }
    },
    async openFile(key, mode) {
      const path = pathOf(key);
      // Update handles are never O_APPEND: appends are positional writes.
      const handle = mode === 'read'
        ? await open(path, 'r')
        : mode === 'create'
          ? await open(path, 'w')
          : await open(path, 'r+').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? open(path, 'w+') : Promise.reject(error)));
      return localFile(handle);
    },
  };
}
