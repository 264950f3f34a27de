/**
 * The registry entry for NumPack stores: `.npk` folders open as {@link TensorReader}s
 * with logical shapes (deleted rows left out) and are written through a
 * {@link TensorWriter}, so `convert()` and the CLI handle them like any file.
 */
import { basename, dirname, resolve } from 'node:path';
import { TensioError } from '../core/errors.js';
import { createTensorReader } from '../model/create-reader.js';
import { createPlannedWriter } from '../model/planned-writer.js';
import type { OpenOptions, TensorFormat, TensorInfo, TensorReader, TensorSpec, TensorWriter, WriterOptions } from '../model/types.js';
import type { ByteSource } from '../storage/byte-source.js';
import { fileSource, type FileSource } from '../storage/file-source.js';
import { memoryMapAvailable } from '../storage/memory-map.js';
import { localFolder } from '../storage/local-folder.js';
import { localFolderTarget, type WriteTarget } from '../storage/write-target.js';
import { removeStaleTemporaries, temporaryPathFor } from '../storage/temporary-names.js';
import { npkCrashPoint } from './crash-points.js';
import { npkCannotWrite, npkDescriptor } from './descriptor.js';
import type { LazyArray } from './lazy-array.js';
import { NPK_METADATA_FILE } from './metadata.js';
import { npkCheckName } from './names.js';
import { NumPack } from './numpack.js';
import { npkVerifyStore } from './verify.js';
import { isRemoteLocation, storeAtInput, sourceOptionsOf } from '../storage/source-input.js';
import { npkOpenStoreReader } from './store-reader.js';
import { verifyByReading } from '../model/verify-by-reading.js';
import { quoteInput } from '../core/quote.js';
import { allocateUninitialized } from '../core/memory.js';

/**
 * True when `path` is a folder holding `metadata.npkm`.
 *
 * @example
 * ```ts
 * await npkIsStore('data.npk'); // true
 * ```
 */
export async function npkIsStore(path: string): Promise<boolean> {
  const info = await localFolder(path).stat(NPK_METADATA_FILE).catch(() => undefined);
  return info?.kind === 'file';
}

/** A logical byte range of one array as a {@link ByteSource}: reads map to rows, honouring deletions. */
function lazySource(lazy: LazyArray): ByteSource {
  const size = lazy.nbytes;
  const rowBytes = lazy.rowBytes;
  const readInto = async (target: Uint8Array, offset: number) => {
    if (offset < 0 || offset + target.byteLength > size) {
      throw new TensioError('TRUNCATED', `npk: read of ${target.byteLength} bytes at ${offset} runs past ${lazy.name} (${size} bytes)`, { format: 'npk' });
    }
    if (target.byteLength === 0) return;
    if (lazy.ndim === 0) {
      target.set((await lazy.toTensor()).data.subarray(offset, offset + target.byteLength));
      return;
    }
    const first = Math.floor(offset / rowBytes);
    const end = Math.ceil((offset + target.byteLength) / rowBytes);
    const rows = await lazy.slice(first, end);
    const skip = offset - first * rowBytes;
    target.set(rows.data.subarray(skip, skip + target.byteLength));
  };
  return {
    size,
    name: lazy.name,
    readInto,
    async read(offset, length) {
      const out = allocateUninitialized(length);
      await readInto(out, offset);
      return out;
    },
  };
}

/**
 * Opens a store read-only as a {@link TensorReader}. `extras` carry `physicalShape`,
 * `physicalRows`, `deletedRows`, `dataFile`, `segmented`, `npkDtype`, `lastModified`.
 *
 * @example
 * ```ts
 * await using reader = await npkOpenReader('data.npk');
 * reader.tensors[0].extras?.deletedRows;
 * ```
 */
export async function npkOpenReader(path: string): Promise<TensorReader> {
  const store = await NumPack.open(path, { readOnly: true });
  try {
    const meta = store.getMetadata();
    const tensors: TensorInfo[] = [];
    const sources = new Map<string, ByteSource>();
    for (const name of store.getMemberList()) {
      const array = meta.arrays[name]!;
      const lazy = await store.loadLazy(name);
      sources.set(name, lazySource(lazy));
      tensors.push({
        name, dtype: array.dtype, shape: array.logicalShape, byteLength: lazy.nbytes, formatDtype: array.npkDtype,
        extras: {
          physicalShape: array.shape, physicalRows: array.shape.length ? array.shape[0] : 1, deletedRows: array.deletedRows,
          dataFile: array.dataFile, segmented: array.dataFile.endsWith('.npkseg'), npkDtype: array.npkDtype, lastModified: array.lastModified,
        },
      });
    }
    const size = Object.values(meta.arrays).reduce((sum, array) => sum + array.sizeBytes, 0);
    // An array of one plain data file with no deleted rows (and no rows a live writer
    // journaled but has not yet written) is its file's first bytes, so
    // with the mmap addon in use it is read as a span of that file (mapped views, §11);
    // each such file is opened on the first read of its array and closed with the reader.
    const direct = new Map<string, Promise<FileSource>>();
    const directSource = (name: string): Promise<FileSource> | undefined => {
      const array = meta.arrays[name]!;
      if (!memoryMapAvailable() || array.deletedRows > 0 || store.hasPendingRows(name) || array.shape.length === 0 || array.dataFile.endsWith('.npkseg')) return undefined;
      let opened = direct.get(name);
      if (!opened) {
        opened = fileSource(resolve(store.path, array.dataFile));
        direct.set(name, opened);
      }
      return opened;
    };
    return createTensorReader({
      format: 'npk', path: store.path, size, metadata: {}, tensors,
      locate: async (info) => {
        const file = directSource(info.name);
        return { kind: 'span', source: file ? await file : sources.get(info.name)!, offset: 0 };
      },
      close: async () => {
        await Promise.all([...direct.values()].map((opened) => opened.then((file) => file.close(), () => undefined)));
        await store.close();
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Format options of the npk writer (`formatOptions`, convert's `writeOptions`). */
export type NpkWriterOptions = {
  /** Write into an existing store, keeping its other arrays (NumPack's `from_*` with drop_if_exists=False). */
  merge?: boolean;
  /** Segment target in bytes (default 256 MiB). */
  segmentTargetBytes?: number;
  /** fsync before publishing (default true). */
  durable?: boolean;
};

/**
 * Creates a writer producing a store at `path`; nothing is visible there until `close()`.
 *
 * - Nothing at `path` yet: the store is built in a sibling temporary folder and renamed
 *   into place (one atomic rename; a crash leaves nothing at `path`).
 * - A folder at `path` (overwrite, or `formatOptions.merge` into it): the writer takes that
 *   store's lock (`LOCKED` while another process writes it), stages every array beside
 *   the old files and publishes them all at `close()` in one commit (see `publish.ts`),
 *   so at every instant `path` holds the old store or the new one. Without `merge` the
 *   new store replaces the old as a whole; with it, the arrays are added or replaced.
 *
 * @example
 * ```ts
 * const writer = await npkCreateWriter('out.npk', { tensors: [{ name: 'x', dtype: 'float32', shape: [2] }] });
 * await writer.add('x', bytes);
 * await writer.close();
 * ```
 */
export async function npkCreateWriter(output: WriteTarget, options: WriterOptions<NpkWriterOptions>): Promise<TensorWriter> {
  const target = resolve(localFolderTarget(output, 'npk'));
  const formatOptions = options.formatOptions ?? {};
  const plan = new Map<string, TensorSpec>();
  for (const spec of options.tensors) {
    npkCheckName(spec.name);
    const reason = npkCannotWrite(spec);
    if (reason) throw new TensioError('UNSUPPORTED_DTYPE', `npk: cannot hold ${quoteInput(spec.name)}: ${reason}`, { format: 'npk' });
    if (plan.has(spec.name)) throw new TensioError('DUPLICATE_NAME', `npk: ${quoteInput(spec.name)} is planned twice`, { format: 'npk' });
    plan.set(spec.name, spec);
  }
  // The target's folder: the store is built beside the target and renamed into place there.
  const parent = localFolder(dirname(target));
  const targetKey = basename(target);
  const existing = await parent.stat(targetKey);
  const merge = formatOptions.merge === true;
  if (existing && !merge && options.overwrite === false) {
    throw new TensioError('ALREADY_EXISTS', `${target} already exists (use --force / overwrite to replace it)`, { format: 'npk', path: target });
  }
  if (existing && existing.kind !== 'folder') {
    throw new TensioError('ALREADY_EXISTS', `${target} exists and is not a folder, so it cannot be replaced by a NumPack store atomically; remove it first`, { format: 'npk', path: target });
  }
  const inPlace = existing !== undefined;
  if (!inPlace) await removeStaleTemporaries(dirname(target));
  const building = inPlace ? target : temporaryPathFor(target);
  const removeBuilding = () => parent.removeTree(basename(building));
  const store = await NumPack.open(building, {
    commitOnClose: true,
    ...(merge ? {} : { dropIfExists: true }),
    ...(formatOptions.segmentTargetBytes ? { segmentTargetBytes: formatOptions.segmentTargetBytes } : {}),
    ...(formatOptions.durable !== undefined ? { durable: formatOptions.durable } : {}),
  });
  return createPlannedWriter({
    format: 'npk',
    order: [...plan.values()],
    async writeTensor(spec, chunks, signal) {
      await store.saveStream(spec.name, spec, chunks, signal ? { signal } : {});
    },
    async publish() {
      try {
        await store.close(); // publishes everything in one commit
      } catch (error) {
        if (!inPlace) await removeBuilding();
        throw error;
      }
      if (inPlace) return;
      npkCrashPoint('store built beside the target');
      try {
        // rename() refuses a non-empty folder that appeared meanwhile: never replaced underneath.
        await parent.rename(basename(building), targetKey);
        npkCrashPoint('store renamed into place (commit)');
      } catch (error) {
        await removeBuilding();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
          throw new TensioError('ALREADY_EXISTS', `${target} appeared while the store was being written; not replacing it`, { format: 'npk', path: target, cause: error });
        }
        throw error;
      }
    },
    async discard() {
      await store.abandon();
      if (!inPlace) await removeBuilding();
    },
  });
}

export { npkCannotWrite } from './descriptor.js';

/**
 * The `npk` implementation (open, write, verify, store detection) over its cheap
 * descriptor (`descriptor.ts`). The registry's entry (`getFormat('npk')`) is the lazy
 * one built from `npkDescriptor`, which imports this module on first use.
 *
 * @example
 * ```ts
 * const writer = await npkFormat.createWriter!('data.npk', { tensors: [{ name: 'x', dtype: 'float32', shape: [4] }] });
 * ```
 */
export const npkFormat: TensorFormat<Record<string, never>, NpkWriterOptions> = {
  ...npkDescriptor,
  sniffFolder: npkIsStore,
  async open(input: string | ByteSource, options?: OpenOptions) {
    if (typeof input !== 'string') throw new TensioError('UNSUPPORTED_FEATURE', 'npk: a NumPack store is a folder; open it by path', { format: 'npk' });
    // A store served over HTTP is read through the Store seam (read-only).
    if (isRemoteLocation(input)) return npkOpenStoreReader(storeAtInput(input, sourceOptionsOf(options)), options?.signal ? { signal: options.signal } : {});
    return npkOpenReader(input);
  },
  createWriter: npkCreateWriter,
  async verify(input, options) {
    if (typeof input !== 'string') throw new TensioError('UNSUPPORTED_FEATURE', 'npk: a NumPack store is a folder; verify it by path', { format: 'npk' });
    // A store over HTTP is checked by reading every array through (its files cannot be listed).
    if (isRemoteLocation(input)) return verifyByReading(npkFormat, input, options);
    return npkVerifyStore(input, npkFormat, options);
  },
};
