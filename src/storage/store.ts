/**
 * A small key-value store for layouts made of several files (sharded checkpoints, NumPack
 * stores, Zarr, zTensor shards): list keys, read a key whole or by range (suffix ranges
 * included), write a key atomically, delete. A local folder and an HTTP base URL are
 * stores; S3 will be one. Keys are `/`-separated relative names (`data/0.npkd`), never
 * absolute and never containing `..`.
 */
import { TensioError } from '../core/errors.js';
import type { ByteRange, ByteSource, ReadOptions } from './byte-source.js';
import type { ByteSink } from './byte-sink.js';
import { quoteInput } from '../core/quote.js';

/** Options for {@link Store.write} and {@link Store.sink}. */
export interface StoreWriteOptions {
  signal?: AbortSignal;
  /** Refuse with `ALREADY_EXISTS` when the key exists. Default false (replace). */
  noOverwrite?: boolean;
  /** Make the write durable (fsync) before it is visible. Default true. */
  durable?: boolean;
}

/** Options for {@link Store.list}. */
export interface StoreListOptions {
  signal?: AbortSignal;
  /** Descend into sub-folders (default true); false lists one level, folders ending in `/`. */
  recursive?: boolean;
}

/**
 * Keys to bytes. Reading is always available; writing and listing are declared by
 * `canWrite` and `canList` (an HTTP server can do neither).
 *
 * @example
 * ```ts
 * const store = folderStore('checkpoints/llama');
 * const index = JSON.parse(new TextDecoder().decode(await store.read('model.safetensors.index.json')));
 * await using shard = await store.open('model-00001-of-00002.safetensors');
 * ```
 */
export interface Store {
  /** Where the store is (a folder path or a base URL), for messages. */
  readonly name: string;
  /** Whether {@link Store.list} works (false for plain HTTP). */
  readonly canList: boolean;
  /** Whether {@link Store.write}, {@link Store.sink} and {@link Store.delete} work. */
  readonly canWrite: boolean;
  /** The full name of a key for messages and `TensorReader.path` (a path or URL). */
  locate(key: string): string;
  /** Keys under `prefix` (a folder key such as `'data/'`, or `''` for all), sorted. Throws `UNSUPPORTED_FEATURE` when `canList` is false. */
  list(prefix?: string, options?: StoreListOptions): Promise<string[]>;
  /** True when the key exists (a file, not a folder). */
  has(key: string, options?: ReadOptions): Promise<boolean>;
  /**
   * A key's bytes: whole, or a {@link ByteRange} (`{ suffix: n }` = the last n bytes,
   * clamped to the size). Throws `NOT_FOUND` for a missing key and `TRUNCATED` for a
   * range past the end.
   */
  read(key: string, range?: ByteRange, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Reads a whole key straight into `target` when the key holds exactly
   * `target.byteLength` bytes, and returns the key's size; when the size differs, reads
   * nothing and returns it (the caller then reads the key its usual way, and reports
   * it). Throws `NOT_FOUND` for a missing key. Optional: a local folder has it (a chunk
   * lands in its place in a result with no buffer of its own); other stores are read
   * with {@link Store.read} and a copy.
   */
  readWholeInto?(key: string, target: Uint8Array, options?: ReadOptions): Promise<number>;
  /** A random-access source over one key; close it when done. Throws `NOT_FOUND`. */
  open(key: string, options?: ReadOptions): Promise<ByteSource>;
  /** Writes a whole key atomically: readers see the old bytes or the new, never a mix. */
  write(key: string, bytes: Uint8Array, options?: StoreWriteOptions): Promise<void>;
  /** A sink that publishes the key atomically on `close()` (nothing on `abort()`). */
  sink(key: string, options?: StoreWriteOptions): Promise<ByteSink>;
  /** Removes a key; a missing key is not an error. */
  delete(key: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Releases connections (remote stores); safe to call twice. */
  close?(): Promise<void>;
  /**
   * Publishing primitives, where the store has them (a local folder does; an HTTP
   * server does not; an object store would have none of them): rename a key (a file
   * replaces a file atomically), make `key` a second name of `existing` failing when it
   * exists (exclusive creation: the basis of a lock), and make the renames in a folder
   * durable. Protocols that publish several files (NumPack stores) need all three.
   */
  rename?(from: string, to: string): Promise<void>;
  link?(existing: string, key: string): Promise<void>;
  syncFolder?(folderKey?: string): Promise<void>;
}

/**
 * Checks a store key: non-empty `/`-separated segments, none of them `.` or `..`, no
 * backslash, no leading `/`, no NUL. Throws `INVALID_NAME`. A trailing `/` is allowed
 * only when `folder` is set (list prefixes).
 *
 * @example
 * ```ts
 * checkStoreKey('data/x.npkd'); // ok
 * checkStoreKey('../etc/passwd'); // throws INVALID_NAME
 * ```
 */
export function checkStoreKey(key: string, options: { folder?: boolean } = {}): void {
  const body = options.folder && key.endsWith('/') ? key.slice(0, -1) : key;
  if (options.folder && body === '') return;
  const bad =
    typeof key !== 'string' ||
    body === '' ||
    body.includes('\\') ||
    body.includes('\0') ||
    body.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) throw new TensioError('INVALID_NAME', `store key ${quoteInput(key)} is not a relative name made of /-separated parts (no "..", ".", "\\\\" or empty parts)`);
}

/**
 * The folder part of a key with its trailing `/` (`'a/b/c.bin'` → `'a/b/'`, `'c.bin'` → `''`).
 *
 * @example
 * ```ts
 * keyFolder('shards/model-00001-of-00002.safetensors'); // 'shards/'
 * ```
 */
export function keyFolder(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

/**
 * Joins a folder key and a relative name, refusing names that leave the store.
 *
 * @example
 * ```ts
 * joinKey('shards/', 'model-00001-of-00002.safetensors'); // 'shards/model-00001-of-00002.safetensors'
 * ```
 */
export function joinKey(folder: string, name: string): string {
  const key = folder === '' ? name : folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`;
  checkStoreKey(key);
  return key;
}

/**
 * Reads a key as UTF-8 text (an index file, a manifest).
 *
 * @example
 * ```ts
 * const index = JSON.parse(await readStoreText(store, 'model.safetensors.index.json'));
 * ```
 */
export async function readStoreText(store: Store, key: string, options?: ReadOptions): Promise<string> {
  return new TextDecoder().decode(await store.read(key, undefined, options));
}
