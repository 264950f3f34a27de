/**
 * A {@link Store} over an S3 prefix (`s3://bucket/folder/`): keys are object keys below
 * the prefix. Reads are ranged GETs (a suffix range is one request), `open` gives a
 * pinned {@link S3Source}, `write` is one `PutObject`, `sink` a streamed multipart
 * upload, `list` pages through `ListObjectsV2`. An object store has no rename, link or
 * folder sync, so layouts that publish with local renames (NumPack, Zarr folders) are not
 * written here; layouts that publish an index last (sharded checkpoints) are.
 *
 * The AWS SDK loads on the first request, not when the store is made, so making a store
 * for an `s3://` input costs nothing until it is used.
 */
import { TensioError } from '../core/errors.js';
import type { ByteRange, ByteSource, ReadOptions } from './byte-source.js';
import type { ByteSink } from './byte-sink.js';
import { combineSignals, s3Connect, s3Send, type S3Connection, type S3Options, type S3Stats } from './s3-client.js';
import { formatS3Url, parseS3Url, type S3Location } from './s3-location.js';
import { s3Sink, type S3SinkOptions } from './s3-sink.js';
import { s3Source, type S3SourceOptions } from './s3-source.js';
import { checkStoreKey, type Store, type StoreListOptions, type StoreWriteOptions } from './store.js';

/** Options for {@link s3Store}: connection settings plus source and upload settings. */
export interface S3StoreOptions extends S3Options {
  /** Settings of sources opened with `open` (cache, read-ahead, pin). */
  source?: Omit<S3SourceOptions, keyof S3Options | 'connection'>;
  /** Settings of uploads (`partBytes`, `queueSize`); the same top-level options do the same. */
  upload?: Pick<S3SinkOptions, 'partBytes' | 'queueSize'>;
}

/** A store over an S3 prefix, with the connection's counters. */
export interface S3Store extends Store {
  readonly bucket: string;
  /** The key prefix, `''` or ending with `/`. */
  readonly prefix: string;
  /** Counters of the connection (after the first request; zeros before). */
  readonly stats: S3Stats;
  /** The S3 location of a key. */
  locationOf(key: string): S3Location;
}

/** Every store {@link s3Store} made. */
const s3Stores = new WeakSet<Store>();

/** True when `store` was made by {@link s3Store}. */
export function isS3Store(store: Store): store is S3Store {
  return s3Stores.has(store);
}

/**
 * A store rooted at `s3://bucket/prefix/` (a `/` is added to a prefix without one).
 *
 * @example
 * ```ts
 * const store = s3Store('s3://models/llama/');
 * const index = JSON.parse(new TextDecoder().decode(await store.read('model.safetensors.index.json')));
 * ```
 */
export function s3Store(root: string | URL | S3Location, options: S3StoreOptions = {}): S3Store {
  const parsed = typeof root === 'string' || root instanceof URL ? parseS3Url(root) : root;
  const prefix = parsed.key === '' || parsed.key.endsWith('/') ? parsed.key : `${parsed.key}/`;
  const bucket = parsed.bucket;
  const emptyStats: S3Stats = { requests: 0, bytesReceived: 0, bytesSent: 0, retries: 0 };
  let connecting: Promise<S3Connection> | undefined;
  let connection: S3Connection | undefined;
  const connect = async (): Promise<S3Connection> => {
    connecting ??= s3Connect(options);
    connection = await connecting;
    return connection;
  };
  const locationOf = (key: string): S3Location => {
    checkStoreKey(key);
    return { bucket, key: `${prefix}${key}` };
  };
  const send = async <T>(key: string, action: string, run: (c: S3Connection, abortSignal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const c = await connect();
    return s3Send(c, { location: key === '' ? { bucket, key: prefix } : locationOf(key), action }, (abortSignal) => run(c, abortSignal), combineSignals(options.signal, signal));
  };
  const withSignal = (abortSignal: AbortSignal | undefined): { abortSignal?: AbortSignal } => (abortSignal ? { abortSignal } : {});

  const store: S3Store = {
    name: formatS3Url({ bucket, key: prefix }),
    bucket,
    prefix,
    get stats() {
      return connection?.stats ?? emptyStats;
    },
    canList: true,
    canWrite: true,
    locationOf,
    locate: (key) => formatS3Url(locationOf(key)),
    async list(listPrefix = '', listOptions: StoreListOptions = {}) {
      checkStoreKey(listPrefix, { folder: true });
      const recursive = listOptions.recursive ?? true;
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await send('', 'list', (c, abortSignal) => c.client.send(new c.sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${listPrefix}`, ...(recursive ? {} : { Delimiter: '/' }), ...(token ? { ContinuationToken: token } : {}) }), withSignal(abortSignal)), listOptions.signal);
        for (const object of page.Contents ?? []) if (object.Key !== undefined && object.Key.length > prefix.length) keys.push(object.Key.slice(prefix.length));
        for (const folder of page.CommonPrefixes ?? []) if (folder.Prefix !== undefined) keys.push(folder.Prefix.slice(prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async has(key, readOptions) {
      try {
        await send(key, 'check', (c, abortSignal) => c.client.send(new c.sdk.HeadObjectCommand({ Bucket: bucket, Key: locationOf(key).key }), withSignal(abortSignal)), readOptions?.signal);
        return true;
      } catch (error) {
        if (error instanceof TensioError && error.code === 'NOT_FOUND') return false;
        throw error;
      }
    },
    async read(key, range?: ByteRange, readOptions?: ReadOptions) {
      const header = range === undefined ? undefined : 'suffix' in range ? (range.suffix === 0 ? undefined : `bytes=-${range.suffix}`) : range.length === 0 ? undefined : `bytes=${range.offset}-${range.offset + range.length - 1}`;
      if (range !== undefined && header === undefined) {
        // An empty range: only whether the key exists matters.
        if (!(await store.has(key, readOptions))) throw new TensioError('NOT_FOUND', `${store.locate(key)} does not exist`, { path: store.locate(key) });
        return new Uint8Array(0);
      }
      const response = await send(key, 'read', (c, abortSignal) => c.client.send(new c.sdk.GetObjectCommand({ Bucket: bucket, Key: locationOf(key).key, ...(header ? { Range: header } : {}) }), withSignal(abortSignal)), readOptions?.signal).catch((error: unknown) => {
        // A suffix range on an empty object is unsatisfiable (416): the object's last n bytes are none.
        if (range && 'suffix' in range && error instanceof TensioError && error.code === 'TRUNCATED') return undefined;
        throw error;
      });
      if (!response) return new Uint8Array(0);
      const bytes = await response.Body!.transformToByteArray();
      connection!.stats.bytesReceived += bytes.byteLength;
      if (range && 'offset' in range && bytes.byteLength !== range.length) {
        throw new TensioError('TRUNCATED', `read of ${range.length} bytes at offset ${range.offset} runs past the end of ${store.locate(key)} (got ${bytes.byteLength})`, { path: store.locate(key) });
      }
      return bytes;
    },
    async open(key, readOptions): Promise<ByteSource> {
      const c = await connect();
      const signal = combineSignals(options.signal, readOptions?.signal);
      return s3Source(locationOf(key), { ...(options.source ?? {}), connection: c, ...(signal ? { signal } : {}) });
    },
    async write(key, bytes, writeOptions: StoreWriteOptions = {}) {
      if (writeOptions.noOverwrite) {
        // Through a sink: its HEAD and conditional publish (If-None-Match) keep an existing key.
        const sink = await store.sink(key, writeOptions);
        try {
          await sink.write(bytes);
        } catch (error) {
          await sink.abort().catch(() => undefined);
          throw error;
        }
        await sink.close();
        return;
      }
      await send(key, 'write', (c, abortSignal) => c.client.send(new c.sdk.PutObjectCommand({ Bucket: bucket, Key: locationOf(key).key, Body: bytes, ContentLength: bytes.byteLength }), withSignal(abortSignal)), writeOptions.signal);
      connection!.stats.bytesSent += bytes.byteLength;
    },
    async sink(key, writeOptions: StoreWriteOptions = {}): Promise<ByteSink> {
      const c = await connect();
      const signal = combineSignals(options.signal, writeOptions.signal);
      const { partBytes, queueSize } = { ...options, ...(options.upload ?? {}) };
      return s3Sink(locationOf(key), { ...(partBytes !== undefined ? { partBytes } : {}), ...(queueSize !== undefined ? { queueSize } : {}), connection: c, ...(writeOptions.noOverwrite ? { noOverwrite: true } : {}), ...(signal ? { signal } : {}) });
    },
    async delete(key, deleteOptions) {
      await send(key, 'delete', (c, abortSignal) => c.client.send(new c.sdk.DeleteObjectCommand({ Bucket: bucket, Key: locationOf(key).key }), withSignal(abortSignal)), deleteOptions?.signal).catch((error: unknown) => {
        if (error instanceof TensioError && error.code === 'NOT_FOUND') return;
        throw error;
      });
    },
    async close() {
      // Connections are shared per settings and kept for the process (sockets idle out).
    },
  };
  s3Stores.add(store);
  return store;
}

/**
 * The store holding an `s3://` object and the object's key in it (everything up to the
 * last `/` is the store's prefix): how a shard is found beside its index.
 *
 * @example
 * ```ts
 * const { store, key } = s3StoreOf('s3://models/llama/model.safetensors.index.json');
 * // store.name === 's3://models/llama/', key === 'model.safetensors.index.json'
 * ```
 */
export function s3StoreOf(location: string | URL, options: S3StoreOptions = {}): { store: S3Store; key: string } {
  const { bucket, key } = parseS3Url(location);
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  if (name === '') throw new TensioError('INVALID_ARGUMENT', `${String(location)} names a prefix, not an object`);
  return { store: s3Store({ bucket, key: key.slice(0, slash + 1) }, options), key: name };
}
