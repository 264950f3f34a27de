/**
 * A {@link Store} over a local folder: keys are relative paths inside it. Writes go
 * through {@link atomicFileSink} (temporary file, fsync, rename), so a crash leaves the
 * old bytes of a key or the new ones.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { atomicFileSink } from './atomic-file-sink.js';
import { sinkWriteAll, type ByteSink } from './byte-sink.js';
import { readRange, type ByteRange, type ReadOptions } from './byte-source.js';
import { fileSource, type FileSource } from './file-source.js';
import { localFolder, type LocalFolder } from './local-folder.js';
import { checkStoreKey, type Store, type StoreListOptions, type StoreWriteOptions } from './store.js';

/**
 * A {@link Store} backed by a local folder, with the local operations a multi-file
 * publish needs (rename, exclusive link, folder fsync, in-place and random-access files:
 * {@link LocalFolder}).
 */
export interface FolderStore extends Omit<Store, 'rename' | 'link' | 'syncFolder'>, LocalFolder {
  /** The folder's path as given. */
  readonly root: string;
  open(key: string, options?: ReadOptions): Promise<FileSource>;
}

/** Every store {@link folderStore} made: writers that need a local folder check membership. */
const folderStores = new WeakSet<Store>();

/**
 * True when `store` is a {@link folderStore} (a local folder, so its keys are paths).
 *
 * @example
 * ```ts
 * isFolderStore(folderStore('out')); // true
 * isFolderStore(httpStore('https://host/models/')); // false
 * ```
 */
export function isFolderStore(store: Store): store is FolderStore {
  return folderStores.has(store);
}

/**
 * A store over the folder `root` (which need not exist until the first write).
 *
 * @example
 * ```ts
 * const store = folderStore('out/model');
 * await store.write('config.json', new TextEncoder().encode('{}'));
 * console.log(await store.list()); // ['config.json']
 * ```
 */
export function folderStore(root: string): FolderStore {
  const pathOf = (key: string): string => {
    checkStoreKey(key);
    return join(root, ...key.split('/'));
  };

  async function walk(folderKey: string, recursive: boolean, out: string[], signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    const folder = folderKey === '' ? root : join(root, ...folderKey.slice(0, -1).split('/'));
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw new TensioError('IO_ERROR', `cannot list ${folder}: ${(cause as Error).message}`, { path: folder, cause });
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (recursive) await walk(`${folderKey}${entry.name}/`, true, out, signal);
        else out.push(`${folderKey}${entry.name}/`);
      } else if (entry.isFile()) out.push(`${folderKey}${entry.name}`);
    }
  }

  const store: FolderStore = {
    ...localFolder(root),
    name: root,
    root,
    canList: true,
    canWrite: true,
    locate: (key) => pathOf(key),
    async list(prefix = '', options: StoreListOptions = {}) {
      checkStoreKey(prefix, { folder: true });
      const out: string[] = [];
      const folderKey = prefix === '' || prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
      await walk(folderKey, options.recursive ?? true, out, options.signal);
      return out.filter((key) => key.startsWith(prefix)).sort();
    },
    async has(key) {
      return stat(pathOf(key)).then((s) => s.isFile(), () => false);
    },
    async read(key, range?: ByteRange, options?: ReadOptions) {
      const source = await store.open(key, options);
      try {
        return await readRange(source, range ?? { offset: 0, length: source.size }, options);
      } finally {
        await source.close();
      }
    },
    async open(key, options) {
      throwIfAborted(options?.signal);
      return fileSource(pathOf(key));
    },
    async readWholeInto(key, target, options) {
      throwIfAborted(options?.signal);
      return readFileWholeInto(pathOf(key), target);
    },
    async write(key, bytes, options = {}) {
      await sinkWriteAll(await store.sink(key, options), bytes);
    },
    async sink(key, options: StoreWriteOptions = {}): Promise<ByteSink> {
      throwIfAborted(options.signal);
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true }).catch((cause: unknown) => {
        throw new TensioError('IO_ERROR', `cannot create the folder of ${path}: ${(cause as Error).message}`, { path, cause });
      });
      return atomicFileSink(path, { ...(options.noOverwrite ? { noOverwrite: true } : {}), ...(options.durable === false ? { durable: false } : {}) });
    },
    async delete(key, options) {
      throwIfAborted(options?.signal);
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new TensioError('IO_ERROR', `cannot delete ${path}: ${(cause as Error).message}`, { path, cause });
      }
    },
  };
  folderStores.add(store);
  return store;
}

/**
 * Reads the file at `path` into `target` when it is exactly `target.byteLength` bytes
 * long; returns its size either way (nothing read when it differs). Synchronous system
 * calls: for chunk-sized files in the page cache, four thread-pool hops (open, stat,
 * read, close) cost more than the copy itself.
 */
function readFileWholeInto(path: string, target: Uint8Array): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new TensioError(code, `cannot open ${path}: ${(cause as Error).message}`, { path, cause });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new TensioError('INVALID_ARGUMENT', `${path} is not a regular file`, { path });
    if (info.size !== target.byteLength) return info.size;
    let done = 0;
    while (done < info.size) {
      const count = readSync(fd, target, done, info.size - done, done);
      if (count === 0) throw new TensioError('TRUNCATED', `${path} ended at ${done} while ${info.size - done} more bytes were expected (was it changed while reading?)`, { path, offset: done });
      done += count;
    }
    return info.size;
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    throw new TensioError('IO_ERROR', `cannot read ${path}: ${(cause as Error).message}`, { path, cause });
  } finally {
    closeSync(fd);
  }
}

/** The key of `path` inside `root` when it lies inside, else undefined. */
export function folderStoreKey(root: string, path: string): string | undefined {
  const prefix = root.endsWith(sep) ? root : root + sep;
  if (!path.startsWith(prefix)) return undefined;
  return path.slice(prefix.length).split(sep).join('/');
}
