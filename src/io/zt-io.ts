/**
 * zTensor (`.zt`) ↔ NumPack store, NumPack IO style: `fromZtFile` copies a `.zt` (v2 or
 * v1, local or remote) into a store one tensor at a time; `toZtFile` writes a store's
 * arrays as a `.zt` (canonical by default; `compress` for zstd-seekable parts).
 */
import type { S3Options } from '../storage/s3-client.js';
import type { Metadata } from '../model/types.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import type { SourceInput } from '../storage/source-input.js';
import { copyIntoStore, exportStore, openInput, requireNames, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';

/** Options of {@link fromZtFile}. */
export interface FromZtFileOptions extends IntoStoreOptions {
  /** Tensors to copy (default all); unknown names → `NOT_FOUND` listing them. */
  keys?: readonly string[];
  /** For an `http(s)://` input: request headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/**
 * Copies the dense tensors of a `.zt` file into a NumPack store, streaming.
 *
 * @example
 * ```ts
 * await fromZtFile('model.zt', 'model.npk', { dropIfExists: true });
 * ```
 */
export async function fromZtFile(ztPath: SourceInput, npkPath: string, options: FromZtFileOptions = {}): Promise<void> {
  await using reader = await openInput(ztPath, 'zt', options);
  if (options.keys) requireNames(reader, options.keys);
  const names = options.keys ?? reader.tensors.map((info) => info.name);
  await copyIntoStore(reader, npkPath, names.map((name) => [name, name]), options);
}

/** Options of {@link toZtFile}. */
export interface ToZtFileOptions extends S3CallOptions {
  /** Arrays to write (default: all). */
  arrayNames?: readonly string[];
  /** File attributes. */
  metadata?: Metadata;
  /** zstd-seekable parts (true, or `{ level, frameBytes }`); the file is then not canonical. */
  compress?: boolean | { level?: number; frameBytes?: number };
  signal?: AbortSignal;
}

/**
 * Writes arrays of a store to a `.zt` file (atomically, streaming; canonical unless compressed).
 *
 * @example
 * ```ts
 * await toZtFile('model.npk', 'model.zt', { compress: true });
 * ```
 */
export async function toZtFile(npkPath: string, ztPath: string, options: ToZtFileOptions = {}): Promise<void> {
  await exportStore(npkPath, ztPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: 'zt',
    ...(options.arrayNames ? { arrayNames: options.arrayNames } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(options.compress ? { writeOptions: { compress: options.compress } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
