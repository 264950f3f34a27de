/**
 * Where a writer publishes: a local path (an atomic file), any {@link ByteSink}, or a
 * key of a {@link Store}. Writers open their output through {@link openWriteSink}, so
 * every format treats the three the same way; layouts of several files (sharded
 * checkpoints) use the store of a path or of a {@link StoreKey} directly.
 */
import { TensioError } from '../core/errors.js';
import { atomicFileSink } from './atomic-file-sink.js';
import type { ByteSink } from './byte-sink.js';
import { folderStore, isFolderStore } from './folder-store.js';
import { isS3Url } from './s3-location.js';
import { s3Sink } from './s3-sink.js';
import { s3Store, s3StoreOf } from './s3-store.js';
import type { S3Options } from './s3-client.js';
import { stagedSink } from './staged-sink.js';
import type { Store } from './store.js';

/** A key of a store as an output: `{ store: folderStore('out'), key: 'model.safetensors' }`. */
export interface StoreKey {
  readonly store: Store;
  /** The key written (for a layout of several files: the key of its main file or index). */
  readonly key: string;
}

/** Where a writer publishes: a local path, a sink, or a key of a store. */
export type WriteTarget = string | ByteSink | StoreKey;

/**
 * What a writer does when it must patch bytes already written (`writeAt`) and the
 * target cannot: `'local'` (default) stages the file in a local temporary file and
 * copies it to the target on `close()`; `'never'` refuses with `UNSUPPORTED_FEATURE`.
 */
export type StagingPolicy = 'local' | 'never';

/**
 * True when `target` is a {@link ByteSink} (has `write`, `close`, `abort`).
 *
 * @example
 * ```ts
 * isByteSink(memorySink()); // true
 * isByteSink('out.npy');    // false
 * ```
 */
export function isByteSink(target: unknown): target is ByteSink {
  const candidate = target as Partial<ByteSink> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.write === 'function' && typeof candidate.close === 'function' && typeof candidate.abort === 'function';
}

/**
 * True when `target` is a {@link StoreKey}.
 *
 * @example
 * ```ts
 * isStoreKey({ store: folderStore('out'), key: 'x.npy' }); // true
 * ```
 */
export function isStoreKey(target: unknown): target is StoreKey {
  const candidate = target as Partial<StoreKey> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.key === 'string' && typeof candidate.store === 'object' && candidate.store !== null && typeof candidate.store.sink === 'function';
}

/**
 * The target for messages and `ConvertResult.files`: the path, the store's full name of
 * the key, or `undefined` for a bare sink.
 *
 * @example
 * ```ts
 * describeWriteTarget({ store: folderStore('out'), key: 'a.npy' }); // 'out/a.npy'
 * ```
 */
export function describeWriteTarget(target: WriteTarget): string | undefined {
  if (typeof target === 'string') return target;
  if (isStoreKey(target)) return target.store.locate(target.key);
  return undefined;
}

/** Options for {@link openWriteSink}. */
export interface OpenWriteSinkOptions {
  /** Refuse with `ALREADY_EXISTS` when the path or key exists. */
  noOverwrite?: boolean;
  /** fsync before publishing (paths and stores). Default true. */
  durable?: boolean;
  /** The writer patches bytes already written: the sink must `writeAt`, or be staged. */
  needsWriteAt?: boolean;
  /** What to do when `needsWriteAt` and the target cannot: see {@link StagingPolicy}. */
  staging?: StagingPolicy;
  /** Format name and why patching is needed, for the refusal's message. */
  format?: string;
  why?: string;
}

/**
 * Opens the sink a single-file writer writes to: an atomic file for a path, the
 * store's sink for a key, the sink itself otherwise. When the writer needs `writeAt`
 * and the result cannot, it is staged through a local temporary file (`staging:
 * 'local'`) or refused with `UNSUPPORTED_FEATURE` saying why (`'never'`).
 *
 * @example
 * ```ts
 * const sink = await openWriteSink('out.safetensors', { needsWriteAt: true });
 * ```
 */
export async function openWriteSink(target: WriteTarget, options: OpenWriteSinkOptions = {}): Promise<ByteSink> {
  const durable = options.durable === false ? { durable: false } : {};
  let sink: ByteSink;
  if (typeof target === 'string' && isS3Url(target)) {
    // A streamed multipart upload, visible only once complete (S3 settings: setS3Defaults and the AWS chain).
    sink = await s3Sink(target, { ...(options.noOverwrite ? { noOverwrite: true } : {}) });
  } else if (typeof target === 'string') {
    sink = await atomicFileSink(target, { noOverwrite: options.noOverwrite === true, ...durable });
  } else if (isStoreKey(target)) {
    if (!target.store.canWrite) {
      throw new TensioError('UNSUPPORTED_FEATURE', `${target.store.name} is a read-only store; cannot write ${target.key} there`, { ...(options.format ? { format: options.format } : {}) });
    }
    sink = await target.store.sink(target.key, { ...(options.noOverwrite ? { noOverwrite: true } : {}), ...durable });
  } else if (isByteSink(target)) {
    sink = target;
  } else {
    throw new TensioError('INVALID_ARGUMENT', `a write target is a path, a ByteSink or { store, key }; got ${target === null ? 'null' : typeof target}`);
  }
  if (!options.needsWriteAt || (sink.canWriteAt && sink.writeAt)) return sink;
  if (options.staging === 'never') {
    await sink.abort().catch(() => undefined);
    const format = options.format ? `${options.format}: ` : '';
    const why = options.why ? ` (${options.why})` : '';
    throw new TensioError('UNSUPPORTED_FEATURE', `${format}this writer must patch bytes it already wrote${why}, and the target cannot (canWriteAt is false); allow staging through a local temporary file (staging: 'local'), write to a local file and upload it, or turn off the option that needs patching`, { ...(options.format ? { format: options.format } : {}) });
  }
  try {
    return await stagedSink(sink);
  } catch (error) {
    await sink.abort().catch(() => undefined);
    throw error;
  }
}

/**
 * An `s3://` output bound to a call's own S3 settings: the same key of an S3 store made
 * with them (`s3://b/dir/out.npz` → `{ store: s3Store('s3://b/dir/', s3), key: 'out.npz' }`;
 * a location ending in `/` is the store itself with key `''`). Every writer takes a
 * `{ store, key }` as it takes a path, so the settings reach single files, sharded
 * checkpoints and split parts alike. Any other target, or no settings, is returned as is.
 *
 * @example
 * ```ts
 * const target = bindS3Target('s3://models/out.npz', { endpoint: 'http://127.0.0.1:9000', partBytes: 16 * 2 ** 20 });
 * ```
 */
export function bindS3Target(target: WriteTarget, s3: S3Options | undefined): WriteTarget {
  if (!s3 || typeof target !== 'string' || !isS3Url(target)) return target;
  return target.endsWith('/') ? { store: s3Store(target, s3), key: '' } : s3StoreOf(target, s3);
}

/**
 * The store a multi-file output is written into, for a folder location: an S3 prefix
 * for `s3://bucket/prefix`, else a local folder.
 *
 * @example
 * ```ts
 * outputFolderStore('s3://models/llama'); // s3Store over s3://models/llama/
 * outputFolderStore('out/llama');         // folderStore('out/llama')
 * ```
 */
export function outputFolderStore(folder: string): Store {
  return isS3Url(folder) ? s3Store(folder) : folderStore(folder);
}

/**
 * The local folder path of a target, for formats whose output is a folder written with
 * local renames (NumPack stores, Zarr folders): a path, or a key of a `folderStore`.
 * A bare sink or another store is refused with `UNSUPPORTED_FEATURE`, naming `format`.
 *
 * @example
 * ```ts
 * localFolderTarget({ store: folderStore('out'), key: 'a.npk' }, 'npk'); // 'out/a.npk'
 * ```
 */
export function localFolderTarget(target: WriteTarget, format: string): string {
  if (typeof target === 'string' && !isS3Url(target)) return target;
  if (isStoreKey(target) && isFolderStore(target.store)) return target.store.locate(target.key);
  const what = isStoreKey(target) ? `the store ${target.store.name}` : typeof target === 'string' ? target : 'a byte sink';
  // Why not S3 (or any object store): the folder is built beside its target and renamed into
  // place, replaced or merged under a hard-link lock, and NumPack's journal is updated in place;
  // an object store has no rename, link or in-place write, so a reader could see half a store.
  const remote = isS3Url(what) || (isStoreKey(target) && !isFolderStore(target.store)) ? '; object stores have no rename, hard link or in-place write, which publishing it needs: write it to a local folder and upload that (reading it from s3:// works)' : '';
  throw new TensioError('UNSUPPORTED_FEATURE', `${format}: its output is a folder of files published with local renames, so it is written to a local folder (a path or a folderStore key), not to ${what}${remote}`, { format });
}
