/**
 * NumPack's `from_hdf5` / `to_hdf5`: datasets of an HDF5 group into a NumPack store and
 * back, streaming through the model seam. As NumPack, `fromHdf5` takes the direct child
 * datasets of one group (`group`, default the root; sub-groups skipped);
 * `recursive: true` also takes the datasets of its sub-groups, named by their path
 * relative to `group` with `/` replaced by `.` (NumPack names cannot hold `/`).
 * `toHdf5` writes one dataset per store member into `group`, gzip level 4 in chunks of
 * NumPack's `estimate_chunk_rows` rows by default, as NumPack does.
 */
import { TensioError } from '../core/errors.js';
import { convertReader, openTensorFile } from '../operations/index.js';
import { DEFAULT_CHUNK_SIZE } from './constants.js';
import { estimateChunkRows } from './file-utils.js';
import { copyIntoStore, requireNames, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';

/** Options of {@link fromHdf5}. */
export interface FromHdf5Options extends IntoStoreOptions, S3CallOptions {
  /** Datasets to import (paths relative to `group`; default all). Unknown names → `NOT_FOUND` listing them. */
  datasetNames?: readonly string[];
  /** The group whose datasets are imported (default `'/'`). */
  group?: string;
  /** Also import datasets of sub-groups (default false, as NumPack), named `sub.dataset`. */
  recursive?: boolean;
}

function groupPrefix(group: string | undefined): string {
  const trimmed = (group ?? '/').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * Imports the datasets of an HDF5 group into a NumPack store.
 *
 * @example
 * ```ts
 * await fromHdf5('data.h5', 'data.npk', { group: '/features', dropIfExists: true });
 * ```
 */
export async function fromHdf5(hdf5Path: string, npkPath: string, options: FromHdf5Options = {}): Promise<void> {
  await using reader = await openTensorFile(hdf5Path, { format: 'hdf5', ...(options.s3 ? { s3: options.s3 } : {}) });
  const prefix = groupPrefix(options.group);
  const inGroup = reader.tensors
    .map((info) => info.name)
    .filter((name) => name.startsWith(prefix) && (options.recursive || !name.slice(prefix.length).includes('/')));
  let sources: string[];
  if (options.datasetNames) {
    sources = options.datasetNames.map((name) => `${prefix}${name.replace(/^\/+/, '')}`);
    requireNames(reader, sources);
  } else {
    sources = inGroup;
  }
  const plan: [string, string][] = sources.map((source) => [source, source.slice(prefix.length).split('/').join('.')]);
  const seen = new Map<string, string>();
  for (const [source, target] of plan) {
    const other = seen.get(target);
    if (other !== undefined) throw new TensioError('DUPLICATE_NAME', `hdf5 datasets ${JSON.stringify(other)} and ${JSON.stringify(source)} both become NumPack array ${JSON.stringify(target)}`);
    seen.set(target, source);
  }
  await copyIntoStore(reader, npkPath, plan, options);
}

/** Options of {@link toHdf5}. */
export interface ToHdf5Options extends S3CallOptions {
  /** Arrays to export (default all). */
  arrayNames?: readonly string[];
  /** Group to write the datasets into (default `'/'`). */
  group?: string;
  /** `'gzip'` (default, as NumPack) or `'none'` (NumPack's `None`). */
  compression?: 'gzip' | 'none' | null;
  /** gzip level (default 4, NumPack's `compression_opts`). */
  compressionOpts?: number;
  /** Byte-shuffle before compressing (default false, as NumPack). */
  shuffle?: boolean;
  /** Target bytes per chunk for NumPack's `estimate_chunk_rows` (default 100 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/**
 * Writes arrays of a NumPack store to an HDF5 file (atomically), one dataset each.
 *
 * @example
 * ```ts
 * await toHdf5('data.npk', 'data.h5', { compression: 'none' });
 * ```
 */
export async function toHdf5(npkPath: string, hdf5Path: string, options: ToHdf5Options = {}): Promise<void> {
  const prefix = groupPrefix(options.group);
  await using reader = await openTensorFile(npkPath, { format: 'npk' });
  if (options.arrayNames) requireNames(reader, options.arrayNames);
  const names = options.arrayNames ?? reader.tensors.map((info) => info.name);
  const compression = options.compression === null || options.compression === 'none' ? 'none' : 'gzip';
  const chunkRows: Record<string, number> = {};
  for (const name of names) {
    const info = reader.info(name);
    if (info.shape.length > 0 && info.shape[0]! > 0) chunkRows[`${prefix}${name}`] = estimateChunkRows(info.shape, info.dtype, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }
  await convertReader(reader, hdf5Path, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: 'hdf5',
    overwrite: true,
    metadata: {},
    tensors: names,
    ...(prefix ? { rename: (name: string) => `${prefix}${name}` } : {}),
    writeOptions: {
      compression,
      ...(options.compressionOpts !== undefined ? { compressionLevel: options.compressionOpts } : {}),
      ...(options.shuffle ? { shuffle: true } : {}),
      chunkRows,
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
