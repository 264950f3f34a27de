/**
 * A NumPack store read through a {@link Store} (an HTTP base URL today, any store
 * tomorrow): `metadata.npkm`, then per array its segment manifest and deletion bitmap
 * when it has them. Data files are opened on first read, so listing a remote store
 * costs one request for the catalogue and one per array for its bitmap. Read-only:
 * writing a store goes through `NumPack` on a local folder.
 */
import { itemSize } from '../core/dtype.js';
import { TensioError, isTensioError } from '../core/errors.js';
import { NPK_MAX_ROW_BYTES } from '../core/limits.js';
import { elementCount, tensorByteLength } from '../core/sizes.js';
import { createTensorReader } from '../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../model/types.js';
import { checkRange, readIntoFrom, type ByteSource, type ReadOptions } from '../storage/byte-source.js';
import { concatSource } from '../storage/concat-source.js';
import type { Store } from '../storage/store.js';
import { NpkBitmap } from './bitmap.js';
import { npkDtypeName } from './dtype-codes.js';
import { NPK_METADATA_FILE, npkDecodeMetadata, type NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName } from './names.js';
import { npkDecodeManifest, npkIsManifestPath } from './segments.js';
import { quoteInput } from '../core/quote.js';
import { allocateUninitialized } from '../core/memory.js';

/** Options for {@link npkOpenStoreReader}. */
export interface NpkStoreReaderOptions {
  signal?: AbortSignal;
  /** Largest row an array may declare (default `NPK_MAX_ROW_BYTES`, 2 GiB). */
  maxRowBytes?: number;
}

/**
 * Opens a NumPack store held by a {@link Store} as a {@link TensorReader} with logical
 * shapes (deleted rows left out), like `npkOpenReader` does for a local folder.
 *
 * @example
 * ```ts
 * await using reader = await npkOpenStoreReader(httpStore('https://host/data.npk/'));
 * ```
 */
export async function npkOpenStoreReader(store: Store, options: NpkStoreReaderOptions = {}): Promise<TensorReader> {
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  let catalogue: Uint8Array;
  try {
    catalogue = await store.read(NPK_METADATA_FILE, undefined, readOptions);
  } catch (error) {
    if (isTensioError(error, 'NOT_FOUND')) throw new TensioError('NOT_FOUND', `npk: ${store.name} has no ${NPK_METADATA_FILE}; is it a NumPack store?`, { format: 'npk', path: store.name, cause: error });
    throw error;
  }
  const metadata = npkDecodeMetadata(catalogue);
  const entries = new Map<string, NpkArrayEntry>();
  for (const entry of metadata.arrays) entries.set(entry.name, entry); // a repeated name keeps its last entry
  const maxRowBytes = options.maxRowBytes ?? NPK_MAX_ROW_BYTES;
  const tensors: TensorInfo[] = [];
  const sources = new Map<string, ByteSource>();
  const close = async (): Promise<void> => {
    await Promise.all([...sources.values()].map((source) => source.close?.()));
    await store.close?.();
  };
  try {
    for (const entry of entries.values()) {
      tensorByteLength(entry.dtype, entry.shape, 'npk');
      const rowBytes = itemSize(entry.dtype)! * elementCount(entry.shape.slice(1), 'npk');
      if (rowBytes > maxRowBytes) {
        throw new TensioError('LIMIT_EXCEEDED', `npk: rows of ${quoteInput(entry.name)} are ${rowBytes} bytes each, above maxRowBytes ${maxRowBytes}`, { format: 'npk' });
      }
      const physicalRows = entry.shape.length === 0 ? 1 : entry.shape[0]!;
      const physicalBytes = physicalRows * rowBytes;
      const physical = await physicalSource(store, entry, rowBytes, physicalBytes, readOptions);
      const bitmapBytes = await store.read(npkBitmapFileName(entry.name), undefined, readOptions).catch((error: unknown) => {
        if (isTensioError(error, 'NOT_FOUND')) return undefined;
        throw error;
      });
      const bitmap = bitmapBytes && entry.shape.length > 0 ? NpkBitmap.decode(bitmapBytes, physicalRows, entry.name) : undefined;
      const logicalRows = bitmap ? bitmap.activeCount : physicalRows;
      const source = bitmap && bitmap.deletedCount > 0 ? activeRowsSource(physical, rowBytes, bitmap, entry.name) : physical;
      sources.set(entry.name, source);
      tensors.push({
        name: entry.name,
        dtype: entry.dtype,
        shape: entry.shape.length === 0 ? [] : [logicalRows, ...entry.shape.slice(1)],
        byteLength: logicalRows * rowBytes,
        formatDtype: npkDtypeName(entry.dtype),
        extras: {
          physicalShape: entry.shape, physicalRows, deletedRows: physicalRows - logicalRows,
          dataFile: entry.dataFile, segmented: npkIsManifestPath(entry.dataFile), npkDtype: npkDtypeName(entry.dtype), lastModified: entry.lastModified,
        },
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return createTensorReader({
    format: 'npk',
    path: store.name,
    size: tensors.reduce((sum, info) => sum + info.byteLength, 0),
    metadata: {},
    tensors,
    locate: (info) => ({ kind: 'span', source: sources.get(info.name)!, offset: 0 }),
    close,
  });
}

/** The physical bytes of an array: its data file, or its segments end to end; opened on first read. */
async function physicalSource(store: Store, entry: NpkArrayEntry, rowBytes: number, physicalBytes: number, readOptions: ReadOptions | undefined): Promise<ByteSource> {
  if (!npkIsManifestPath(entry.dataFile)) {
    return concatSource([{ size: physicalBytes, name: store.locate(entry.dataFile), open: (options) => store.open(entry.dataFile, options) }], store.locate(entry.dataFile));
  }
  const segments = npkDecodeManifest(await store.read(entry.dataFile, undefined, readOptions), rowBytes, entry.name);
  const parts = segments.map((segment) => ({ size: segment.rows * rowBytes, name: store.locate(segment.file), open: (options?: ReadOptions) => store.open(segment.file, options) }));
  const source = concatSource(parts, store.locate(entry.dataFile));
  if (source.size < physicalBytes) {
    throw new TensioError('TRUNCATED', `npk: the segments of ${quoteInput(entry.name)} hold ${source.size} bytes, fewer than the ${physicalBytes} of its shape`, { format: 'npk' });
  }
  return source;
}

/** The logical bytes of an array with deleted rows: active rows only, read in physical runs. */
function activeRowsSource(physical: ByteSource, rowBytes: number, bitmap: NpkBitmap, name: string): ByteSource {
  const size = bitmap.activeCount * rowBytes;
  async function readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void> {
    checkRange(size, offset, target.byteLength, name);
    if (target.byteLength === 0 || rowBytes === 0) return;
    const end = offset + target.byteLength;
    const firstRow = Math.floor(offset / rowBytes);
    let logical = firstRow;
    for (const [physicalStart, count] of bitmap.physicalRuns(firstRow, Math.ceil(end / rowBytes))) {
      const from = Math.max(offset, logical * rowBytes);
      const to = Math.min(end, (logical + count) * rowBytes);
      if (from < to) await readIntoFrom(physical, target.subarray(from - offset, to - offset), physicalStart * rowBytes + (from - logical * rowBytes), options);
      logical += count;
    }
  }
  return {
    size,
    ...(physical.name !== undefined ? { name: physical.name } : {}),
    async read(offset, length, options) {
      const target = allocateUninitialized(length);
      await readInto(target, offset, options);
      return target;
    },
    readInto,
    close: () => physical.close?.() ?? Promise.resolve(),
  };
}
