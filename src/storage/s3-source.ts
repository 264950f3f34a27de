/**
 * A {@link ByteSource} over an S3 object, read with ranged `GetObject` requests.
 *
 * Opening sends ONE request for the first 64 KiB (or, with `openFrom: 'end'`, the last
 * 64 KiB: a suffix range, for formats indexed by a footer): its `Content-Range` gives the
 * size (no `HeadObject`), its bytes are served without another request, and its `ETag`
 * pins the object. Every
 * later read sends `If-Match` with that ETag and checks the answer's ETag and range, so an
 * object replaced during a read fails with `SOURCE_CHANGED` instead of mixing bytes of
 * two versions. A connection dropped in the middle of a body is resumed from the byte
 * it stopped at, a bounded number of times. The block cache and sequential read-ahead
 * are the ones the HTTP source uses. A tensor streamed chunk by chunk (its reads say
 * `sequentialUntil`: the end of the tensor) is one streamed `GetObject` for the whole
 * tensor, pumped ahead of the reader into a bounded queue (`streamed-runs.ts`), so the
 * transfer overlaps the writer's work without a request per chunk.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { checkRange, type ByteSource, type ReadOptions } from './byte-source.js';
import { withCache, type CacheOptions, type CacheStats } from './cached-source.js';
import { S3_STREAM_BUFFER_BYTES } from '../core/limits.js';
import { SequentialReadAhead } from './read-ahead.js';
import { StreamedRuns, type OpenRunBody } from './streamed-runs.js';
import { combineSignals, resolveS3Options, s3Connect, s3Send, translateS3Error, type S3Connection, type S3Options, type S3Stats } from './s3-client.js';
import { formatS3Url, parseS3Url, type S3Location } from './s3-location.js';

/** Options for {@link s3Source}. */
export interface S3SourceOptions extends S3Options {
  /** Bytes asked for by the opening request (default 64 KiB: most headers fit). */
  prefetchBytes?: number;
  /**
   * Where the opening request reads: `'start'` (default; headers) or `'end'`, a suffix
   * range `bytes=-prefetchBytes` for formats indexed by a footer (zTensor), so the
   * footer and what precedes it come with the request that learns the size.
   */
  openFrom?: 'start' | 'end';
  /** Block cache in front of the ranged reads (defaults: 64 KiB blocks, 64 blocks, reads ≥ 1 MiB pass through). */
  cache?: CacheOptions;
  /** Large sequential reads fetch this many next ranges ahead (default 2; 0 turns it off). */
  readAheadDepth?: number;
  /**
   * A tensor streamed chunk by chunk (reads that say `sequentialUntil`) is fetched with
   * ONE `GetObject` for the rest of it, consumed as the chunks are asked for (default
   * true; false: one ranged GET per chunk with read-ahead).
   */
  streamRuns?: boolean;
  /** Refuse an object whose ETag changes while it is read (default true). */
  pin?: boolean;
  /** Share an existing connection (stores do). */
  connection?: S3Connection;
}

/** An S3 object open for random access. Close it (or `await using`). */
export interface S3Source extends ByteSource {
  readonly name: string;
  readonly location: S3Location;
  /** The ETag the object is pinned to. */
  readonly etag: string | undefined;
  /** True when `[offset, offset + length)` came with the opening request (reading it sends nothing). */
  holds(offset: number, length: number): boolean;
  /** Requests and bytes of the connection (shared with its store). */
  readonly stats: S3Stats;
  readonly cacheStats: CacheStats;
  readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_PREFETCH_BYTES = 64 * 1024;
/** Sequential runs shorter than this are read through the block cache (the cache's pass-through size). */
const RUN_MIN_BYTES = 1024 * 1024;

/**
 * Opens `s3://bucket/key` for random access (one request).
 *
 * @example
 * ```ts
 * await using source = await s3Source('s3://models/llama/model.safetensors', { endpoint: 'http://127.0.0.1:9000' });
 * console.log(source.size, source.etag);
 * ```
 */
export async function s3Source(location: string | URL | S3Location, options: S3SourceOptions = {}): Promise<S3Source> {
  const where = typeof location === 'string' || location instanceof URL ? parseS3Url(location) : location;
  const connection = options.connection ?? (await s3Connect(options));
  const name = formatS3Url(where);
  const pin = options.pin !== false;
  const prefetch = Math.max(1, options.prefetchBytes ?? DEFAULT_PREFETCH_BYTES);
  const { size, etag, head, tail, tailStart } = await (options.openFrom === 'end' ? openObjectEnd : openObject)(connection, where, prefetch, options.signal);
  const holds = (offset: number, length: number): boolean => offset + length <= head.byteLength || (tail.byteLength > 0 && offset >= tailStart && offset + length <= size);
  /**
   * Bytes the opening request brought, served as they are: the block cache keeps whole
   * blocks only, so a read just past the suffix's (unaligned) start would otherwise fetch
   * its block's first part again.
   */
  const held = (offset: number, length: number): Uint8Array => (offset + length <= head.byteLength ? head.subarray(offset, offset + length) : tail.subarray(offset - tailStart, offset - tailStart + length));

  /** Ranged reads; the part of a range the suffix opening brought is copied, not asked for again. */
  const readRange = async (target: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<void> => {
    let wanted = target;
    if (tail.byteLength > 0 && offset + target.byteLength > tailStart) {
      const from = Math.max(offset, tailStart);
      target.set(tail.subarray(from - tailStart, offset + target.byteLength - tailStart), from - offset);
      wanted = target.subarray(0, from - offset);
    }
    return readObjectRange(connection, where, wanted, offset, pin ? etag : undefined, combineSignals(options.signal, signal));
  };
  const object = { size, rangeSupported: true, readInto: readRange };
  const readAhead = new SequentialReadAhead(object, options.readAheadDepth ?? 2);
  const runs = new StreamedRuns(openRunBody(connection, where, pin ? etag : undefined, options.signal), {
    bufferBytes: Math.max(1, resolveS3Options(options).streamBufferBytes ?? S3_STREAM_BUFFER_BYTES),
    retries: connection.retries,
    name,
    onRetry: () => void (connection.stats.retries += 1),
  });
  const streaming = options.streamRuns !== false;
  const raw: ByteSource = {
    size,
    name,
    read: async (offset, length, readOptions) => {
      checkRange(size, offset, length, name);
      const target = new Uint8Array(length);
      await readAhead.readInto(target, offset, readOptions?.signal);
      return target;
    },
    readInto: async (target, offset, readOptions) => {
      checkRange(size, offset, target.byteLength, name);
      // A run goes on to the object's end: the next tensor in file order continues it (no
      // new request, and the pump fetches it while the writer works on this one); a reader
      // that jumps elsewhere starts another run, and the old one is closed with at most
      // its queue fetched in vain.
      if (readOptions?.sequentialUntil !== undefined && (await runs.readInto(target, offset, size, readOptions.signal))) return;
      return readAhead.readInto(target, offset, readOptions?.signal);
    },
  };
  const cached = withCache(raw, options.cache);
  /**
   * A tensor streamed chunk by chunk (`sequentialUntil`: its end) of at least a block
   * cache pass-through's size is one GET for the rest of it, whatever the chunk size;
   * a run already open serves its reader to the end (also its short last chunk).
   * Other reads go through the block cache as before.
   */
  const inRun = (offset: number, readOptions: ReadOptions | undefined): boolean => {
    const until = readOptions?.sequentialUntil;
    if (!streaming || until === undefined || !Number.isSafeInteger(until) || until > size) return false;
    return runs.standsAt(offset) || until - offset >= RUN_MIN_BYTES;
  };
  cached.prime(0, head);
  cached.prime(tailStart, tail);
  let closed = false;
  const source: S3Source = {
    size,
    name,
    location: where,
    cached: true,
    etag,
    holds,
    stats: connection.stats,
    cacheStats: cached.stats,
    read: async (offset, length, readOptions) => {
      checkRange(size, offset, length, name);
      return holds(offset, length) ? held(offset, length) : cached.read(offset, length, readOptions);
    },
    readInto: async (target, offset, readOptions) => {
      checkRange(size, offset, target.byteLength, name);
      if (holds(offset, target.byteLength)) return target.set(held(offset, target.byteLength));
      return inRun(offset, readOptions) ? raw.readInto!(target, offset, readOptions) : cached.readInto(target, offset, readOptions);
    },
    async close() {
      if (closed) return;
      closed = true;
      readAhead.clear();
      runs.close();
      await cached.close?.();
    },
    async [Symbol.asyncDispose]() {
      await source.close();
    },
  };
  return source;
}

/** What the opening request brought: the size, the ETag, and the first (`head`) or last (`tail`, from `tailStart`) bytes. */
interface OpenedObject {
  size: number;
  etag: string | undefined;
  head: Uint8Array;
  tail: Uint8Array;
  tailStart: number;
}

/** The first bytes, size and ETag of an object, from one ranged GET (a HEAD for an empty object). */
async function openObject(connection: S3Connection, where: S3Location, prefetch: number, signal: AbortSignal | undefined): Promise<OpenedObject> {
  const { sdk, client } = connection;
  const context = { location: where, action: 'read' };
  try {
    const response = await s3Send(connection, context, (abortSignal) => client.send(new sdk.GetObjectCommand({ Bucket: where.bucket, Key: where.key, Range: `bytes=0-${prefetch - 1}` }), abortSignal ? { abortSignal } : {}), signal);
    const size = totalOf(response.ContentRange, response.ContentLength, where);
    const head = new Uint8Array(Math.min(prefetch, size));
    const written = await readBody(response.Body, head, 0, connection, where, signal);
    // A connection dropped during the first answer: the rest comes pinned to its ETag.
    if (written < head.byteLength) await readObjectRange(connection, where, head.subarray(written), written, response.ETag, signal);
    return { size, etag: response.ETag, head, tail: new Uint8Array(0), tailStart: size };
  } catch (error) {
    return emptyObjectOr(error, connection, where, signal);
  }
}

/**
 * The last bytes, size and ETag of an object, from one suffix GET (`bytes=-N`): the
 * answer's `Content-Range` says where they start and the size. An object shorter than
 * N comes whole (from byte 0, so it is the head too).
 */
async function openObjectEnd(connection: S3Connection, where: S3Location, prefetch: number, signal: AbortSignal | undefined): Promise<OpenedObject> {
  const { sdk, client } = connection;
  try {
    const response = await s3Send(connection, { location: where, action: 'read' }, (abortSignal) => client.send(new sdk.GetObjectCommand({ Bucket: where.bucket, Key: where.key, Range: `bytes=-${prefetch}` }), abortSignal ? { abortSignal } : {}), signal);
    const size = totalOf(response.ContentRange, response.ContentLength, where);
    const tailStart = Math.max(0, size - prefetch);
    const range = response.ContentRange === undefined ? undefined : /^bytes (\d+)-(\d+)\//.exec(response.ContentRange.trim());
    if (range && (Number(range[1]) !== tailStart || Number(range[2]) !== size - 1)) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new TensioError('SIZE_MISMATCH', `${formatS3Url(where)} answered ${response.ContentRange} to a request for its last ${prefetch} bytes`, { path: formatS3Url(where) });
    }
    const tail = new Uint8Array(size - tailStart);
    const written = await readBody(response.Body, tail, 0, connection, where, signal);
    if (written < tail.byteLength) await readObjectRange(connection, where, tail.subarray(written), tailStart + written, response.ETag, signal);
    return { size, etag: response.ETag, head: tailStart === 0 ? tail : new Uint8Array(0), tail, tailStart };
  } catch (error) {
    return emptyObjectOr(error, connection, where, signal);
  }
}

/** 416 to the opening range: the object is empty, and a HEAD gives its ETag. Any other error is thrown. */
async function emptyObjectOr(error: unknown, connection: S3Connection, where: S3Location, signal: AbortSignal | undefined): Promise<OpenedObject> {
  const status = ((error as TensioError).cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (!(error instanceof TensioError && error.code === 'TRUNCATED' && status === 416)) throw error;
  const { sdk, client } = connection;
  const response = await s3Send(connection, { location: where, action: 'read' }, (abortSignal) => client.send(new sdk.HeadObjectCommand({ Bucket: where.bucket, Key: where.key }), abortSignal ? { abortSignal } : {}), signal);
  return { size: response.ContentLength ?? 0, etag: response.ETag, head: new Uint8Array(0), tail: new Uint8Array(0), tailStart: 0 };
}

/** The object's total size from `Content-Range: bytes a-b/TOTAL` (or the length of a whole-object answer). */
function totalOf(contentRange: string | undefined, contentLength: number | undefined, where: S3Location): number {
  if (contentRange !== undefined) {
    const match = /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim());
    const total = match ? Number(match[1]) : NaN;
    if (!Number.isSafeInteger(total)) throw new TensioError('HTTP_ERROR', `${formatS3Url(where)}: the store sent a Content-Range tensio cannot use (${contentRange.slice(0, 80)})`, { path: formatS3Url(where) });
    return total;
  }
  if (contentLength !== undefined && Number.isSafeInteger(contentLength)) return contentLength;
  throw new TensioError('HTTP_ERROR', `${formatS3Url(where)}: the store said neither the range nor the length of its answer`, { path: formatS3Url(where) });
}

/**
 * Copies a GetObject body into `target` from `at`. Resolves with the bytes written; a
 * connection dropped mid-body resolves early (the caller resumes) unless it was aborted.
 */
async function readBody(body: unknown, target: Uint8Array, at: number, connection: S3Connection, where: S3Location, signal: AbortSignal | undefined): Promise<number> {
  let position = at;
  if (!body) return 0;
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  try {
    for await (const piece of stream) {
      connection.stats.bytesReceived += piece.byteLength;
      const room = target.byteLength - position;
      if (piece.byteLength > room) {
        stream.destroy?.();
        throw new TensioError('SIZE_MISMATCH', `${formatS3Url(where)} sent more bytes than the range asked for`, { path: formatS3Url(where) });
      }
      target.set(piece, position);
      position += piece.byteLength;
    }
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    throwIfAborted(signal);
    throwIfAborted(connection.signal);
    // A dropped connection: return what arrived; the caller asks for the rest.
  }
  return position - at;
}

/**
 * Reads `target.byteLength` bytes at `offset`, pinned to `etag` (If-Match, and the
 * answer's ETag compared). A body cut short is resumed where it stopped, at most
 * `connection.retries` times.
 */
async function readObjectRange(connection: S3Connection, where: S3Location, target: Uint8Array, offset: number, etag: string | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (target.byteLength === 0) return;
  let done = 0;
  let failures = 0;
  while (done < target.byteLength) {
    const from = offset + done;
    const to = offset + target.byteLength - 1;
    const response = await getCheckedRange(connection, where, from, to, etag, signal);
    const view = target.subarray(done);
    const written = await readBody(response.Body, view, 0, connection, where, signal);
    done += written;
    if (done < target.byteLength) {
      failures += 1;
      if (failures > connection.retries) {
        throw new TensioError('HTTP_ERROR', `${formatS3Url(where)}: the connection dropped ${failures} times while reading bytes ${offset}-${to} (got ${done} of ${target.byteLength}); giving up`, { path: formatS3Url(where) });
      }
      connection.stats.retries += 1;
      await new Promise((resolveWait) => setTimeout(resolveWait, 100 * 2 ** (failures - 1)));
    }
  }
}

/**
 * One ranged `GetObject` of bytes `from..to` (inclusive), pinned to `etag`: `If-Match`
 * sent, and the answer's ETag and `Content-Range` compared (`SOURCE_CHANGED`,
 * `SIZE_MISMATCH`). The body is left to the caller.
 */
async function getCheckedRange(connection: S3Connection, where: S3Location, from: number, to: number, etag: string | undefined, signal: AbortSignal | undefined): Promise<{ Body?: unknown }> {
  const { sdk, client } = connection;
  const context = { location: where, action: 'read' };
  const response = await s3Send(connection, context, (abortSignal) => client.send(new sdk.GetObjectCommand({ Bucket: where.bucket, Key: where.key, Range: `bytes=${from}-${to}`, ...(etag ? { IfMatch: etag } : {}) }), abortSignal ? { abortSignal } : {}), signal);
  if (etag !== undefined && response.ETag !== undefined && response.ETag !== etag) {
    (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
    throw translateS3Error(Object.assign(new Error('ETag changed'), { name: 'PreconditionFailed' }), context);
  }
  const expected = `bytes ${from}-${to}/`;
  if (response.ContentRange !== undefined && !response.ContentRange.startsWith(expected)) {
    (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
    throw new TensioError('SIZE_MISMATCH', `${formatS3Url(where)} answered ${response.ContentRange} to a request for bytes ${from}-${to}`, { path: formatS3Url(where) });
  }
  return response;
}

/** The body of a run `from..end-1` for {@link StreamedRuns}: one checked ranged GET, its bytes counted. */
function openRunBody(connection: S3Connection, where: S3Location, etag: string | undefined, sourceSignal: AbortSignal | undefined): OpenRunBody {
  return async (from, end, signal) => {
    const response = await getCheckedRange(connection, where, from, end - 1, etag, combineSignals(sourceSignal, signal));
    const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    const stats = connection.stats;
    return {
      async *[Symbol.asyncIterator]() {
        if (!body) return; // no body: the run sees a dropped connection and asks again
        for await (const piece of body) {
          stats.bytesReceived += piece.byteLength;
          yield piece;
        }
      },
      destroy: () => body?.destroy?.(),
    };
  };
}
