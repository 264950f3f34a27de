/**
 * NumPack's `from_zarr` / `to_zarr`: arrays of a Zarr group into a NumPack store and
 * back, streaming through the model seam. As NumPack, `fromZarr` takes the direct child
 * arrays of one group (`group`, default the root); `recursive: true` also takes the
 * arrays of its sub-groups, named by their path with `/` replaced by `.` (NumPack names
 * cannot hold `/`). `toZarr` writes one array per store member into `group`.
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError } from '../core/errors.js';
import { convertReader } from '../operations/index.js';
import { openTensorFile } from '../operations/index.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { copyIntoStore, requireNames, type IntoStoreOptions } from './store-transfer.js';

/** Options of {@link fromZarr}. */
export interface FromZarrOptions extends IntoStoreOptions {
  /** Arrays to import (names relative to `group`; default all). Unknown names → `NOT_FOUND` listing them. */
  arrayNames?: readonly string[];
  /** The group whose arrays are imported (default `'/'`). */
  group?: string;
  /** Also import arrays of sub-groups (default false, as NumPack), named `sub.array`. */
  recursive?: boolean;
  /** For an `http(s)://` store: request headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/**
 * Imports the arrays of a Zarr group (a folder, a `.zarr.zip`, or an http(s) URL) into
 * a NumPack store.
 *
 * @example
 * ```ts
 * await fromZarr('data.zarr', 'data.npk', { group: '/features', dropIfExists: true });
 * ```
 */
export async function fromZarr(zarrPath: string, npkPath: string, options: FromZarrOptions = {}): Promise<void> {
  await using reader = await openTensorFile(zarrPath, {
    format: 'zarr',
    formatOptions: { group: options.group ?? '/', recursive: options.recursive ?? false },
    ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
  });
  if (options.arrayNames) requireNames(reader, options.arrayNames);
  const names = options.arrayNames ?? reader.tensors.map((info) => info.name);
  const plan: [string, string][] = names.map((name) => [name, name.split('/').join('.')]);
  const seen = new Map<string, string>();
  for (const [source, target] of plan) {
    const other = seen.get(target);
    if (other !== undefined) throw new TensioError('DUPLICATE_NAME', `zarr arrays ${JSON.stringify(other)} and ${JSON.stringify(source)} both become NumPack array ${JSON.stringify(target)}`);
    seen.set(target, source);
  }
  await copyIntoStore(reader, npkPath, plan, options);
}

/** Options of {@link toZarr}. */
export interface ToZarrOptions {
  /** Arrays to export (default all). */
  arrayNames?: readonly string[];
  /** Group to write the arrays into (default `'/'`). */
  group?: string;
  /** `'default'` (Blosc zstd level 3, bitshuffle: NumPack's), `'none'`, `'blosc'`, `'zstd'`, `'gzip'`, `'zlib'`, `'lz4'`. NumPack's `None` is `'none'`. */
  compressor?: 'default' | 'none' | 'blosc' | 'zstd' | 'gzip' | 'zlib' | 'lz4' | null;
  /** Zarr format version, 3 (default) or 2. */
  version?: 2 | 3;
  /** Chunk shape (for arrays of that rank) or a target chunk size in bytes. */
  chunks?: readonly number[] | number;
  /** v3 only: shard shape, or chunk rows per shard. */
  shards?: readonly number[] | number;
  signal?: AbortSignal;
}

/**
 * Writes arrays of a NumPack store to a Zarr store (a folder), replacing it atomically.
 *
 * @example
 * ```ts
 * await toZarr('data.npk', 'data.zarr', { version: 2, compressor: 'none' });
 * ```
 */
export async function toZarr(npkPath: string, zarrPath: string, options: ToZarrOptions = {}): Promise<void> {
  const group = (options.group ?? '/').replace(/^\/+|\/+$/g, '');
  await using reader = await openTensorFile(npkPath, { format: 'npk' });
  if (options.arrayNames) requireNames(reader, options.arrayNames);
  await convertReader(reader, zarrPath, {
    to: 'zarr',
    overwrite: true,
    metadata: {},
    ...(options.arrayNames ? { tensors: options.arrayNames } : {}),
    ...(group ? { rename: (name: string) => `${group}/${name}` } : {}),
    writeOptions: {
      compressor: options.compressor === null ? 'none' : options.compressor ?? 'default',
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(options.chunks !== undefined ? { chunks: options.chunks } : {}),
      ...(options.shards !== undefined ? { shards: options.shards } : {}),
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
