/**
 * A {@link ByteSource} over an `http(s)://` URL, read with Range requests.
 *
 * Opening sends ONE request for the first 64 KiB (`Range: bytes=0-65535`): its
 * `Content-Range` gives the size (no HEAD request), its body seeds a block cache, and
 * its `ETag` / `Last-Modified` pin the file. Every later answer must carry exactly the
 * range asked for and the same validators, or the read fails (`SIZE_MISMATCH`,
 * `SOURCE_CHANGED`) instead of mixing bytes of two files.
 *
 * With `openFrom: 'end'` (formats whose index is a footer, such as zTensor, when the
 * format is known before the first byte) the opening request is a suffix range
 * (`Range: bytes=-65536`) instead: the size comes from its `Content-Range`, and the last
 * 64 KiB are held so that the footer, and often the whole index, cost no more requests.
 * A server that does not serve the suffix (416 for a non-empty file, 400/501, or a 200
 * with a body over `noRangeMaxBytes`) gets today's opening request next: one request
 * more, nothing else changes.
 *
 * A server that ignores Range (answers 200 with the whole body) is never read whole
 * into memory: a file up to `noRangeMaxBytes` (16 MiB) is held whole, a larger one is
 * served from the front of the body only, the connection closed as soon as the bytes
 * needed arrived; a read further in fails with `RANGE_NOT_SUPPORTED`.
 */
import type { IncomingMessage } from 'node:http';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { checkRange, type ByteSource, type ReadOptions } from './byte-source.js';
import { withCache, type CacheOptions, type CacheStats } from './cached-source.js';
import { SequentialReadAhead } from './read-ahead.js';
import { HttpClient, RetryableError, safeUrl, statusError, type HttpOptions, type HttpStats } from './http-client.js';
import { quoteValue } from '../core/quote.js';
import { rememberRemoteFile } from './http-sync-reader.js';
import { parseContentLength, parseContentRange, parseHttpUrl, readBodyInto, responseHeader, type ContentRange } from './http-response.js';

/** Options for {@link httpSource}. */
export interface HttpSourceOptions extends HttpOptions {
  /** Bytes asked for by the opening request (default 64 KiB: most headers fit). */
  prefetchBytes?: number;
  /** Block cache in front of the range requests (defaults: 64 KiB blocks, 64 blocks, reads ≥ 1 MiB pass through). */
  cache?: CacheOptions;
  /** Share the connections, limits and counters of an existing client (stores do). */
  client?: HttpClient;
  /**
   * Large reads that follow each other (a tensor streamed chunk by chunk) fetch this many
   * next chunks ahead, so a round trip overlaps the consumer's work (default 1; 0 turns
   * it off; 2-4 pay off on links with a long round trip). Costs one buffer and one copy
   * per chunk ahead.
   */
  readAheadDepth?: number;
  /**
   * Where the opening request reads: `'start'` (default) the first `prefetchBytes`, or
   * `'end'` the last `prefetchBytes` (a suffix range), for formats indexed by a footer.
   */
  openFrom?: 'start' | 'end';
}

/** A remote file: a {@link ByteSource} with counters. Close it (or `await using`). */
export interface HttpSource extends ByteSource {
  readonly name: string;
  /** The URL as given. */
  readonly url: string;
  /** False when the server ignored the Range header of the first request. */
  readonly rangeSupported: boolean;
  /** The validators the file is pinned to. */
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  /** Requests and bytes on the wire (shared with the store the source came from). */
  readonly stats: HttpStats;
  /** Cache counters. */
  readonly cacheStats: CacheStats;
  /**
   * True when the bytes `[offset, offset + length)` are already in memory (the opening
   * request's answer), so reading them sends no request. A reader may put off a check
   * of bytes that are not held (zTensor's start magic after a suffix open).
   */
  holds(offset: number, length: number): boolean;
  readInto(target: Uint8Array, offset: number, options?: ReadOptions): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_PREFETCH_BYTES = 64 * 1024;

/**
 * Opens a URL for random access (one request).
 *
 * @example
 * ```ts
 * await using source = await httpSource('https://huggingface.co/org/model/resolve/main/model.safetensors', {
 *   headers: { Authorization: `Bearer ${process.env.HF_TOKEN}` },
 * });
 * const header = await safetensorsReadHeaderFrom(source);
 * ```
 */
export async function httpSource(url: string | URL, options: HttpSourceOptions = {}): Promise<HttpSource> {
  const parsed = parseHttpUrl(url);
  const ownsClient = !options.client;
  const client = options.client ?? new HttpClient(options);
  try {
    const file = await RemoteFile.open(client, parsed, options.prefetchBytes ?? DEFAULT_PREFETCH_BYTES, options.openFrom ?? 'start', options.signal);
    const readAhead = new SequentialReadAhead(file, options.readAheadDepth ?? 1);
    const raw: ByteSource = {
      size: file.size,
      name: file.name,
      read: async (offset, length, readOptions) => {
        checkRange(file.size, offset, length, file.name);
        const target = new Uint8Array(length);
        await readAhead.readInto(target, offset, readOptions?.signal);
        return target;
      },
      readInto: (target, offset, readOptions) => {
        checkRange(file.size, offset, target.byteLength, file.name);
        return readAhead.readInto(target, offset, readOptions?.signal);
      },
    };
    const cached = withCache(raw, options.cache);
    if (file.rangeSupported) {
      cached.prime(0, file.head);
      cached.prime(file.tailStart, file.tail);
    }
    let closed = false;
    const source: HttpSource = {
      size: file.size,
      name: file.name,
      url: String(url),
      rangeSupported: file.rangeSupported,
      cached: true,
      etag: file.etag,
      lastModified: file.lastModified,
      stats: client.stats,
      cacheStats: cached.stats,
      holds: (offset, length) => file.holds(offset, length),
      read: (offset, length, readOptions) => (file.rangeSupported ? cached.read(offset, length, readOptions) : raw.read(offset, length, readOptions)),
      readInto: (target, offset, readOptions) => (file.rangeSupported ? cached.readInto(target, offset, readOptions) : raw.readInto!(target, offset, readOptions)),
      async close() {
        if (closed) return;
        closed = true;
        readAhead.clear();
        await cached.close?.();
        if (ownsClient) client.close();
      },
      async [Symbol.asyncDispose]() {
        await source.close();
      },
    };
    // For libhdf5 in a Web Worker, which reads the URL synchronously (http-sync-reader.ts).
    rememberRemoteFile(source, { url: String(url), name: file.name, size: file.size, headers: client.headers, etag: file.etag, rangeSupported: file.rangeSupported });
    return source;
  } catch (error) {
    if (ownsClient) client.close();
    throw error;
  }
}

/** The state of one remote file: its size, validators and the range logic. */
class RemoteFile {
  rangeSupported = true;
  size = 0;
  head: Uint8Array = new Uint8Array(0);
  /** The last bytes of the file, from a suffix opening (`openFrom: 'end'`), and where they start. */
  tail: Uint8Array = new Uint8Array(0);
  tailStart = 0;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Where requests go after the first one answered (redirects resolved once). */
  private target: URL;

  private constructor(private readonly client: HttpClient, private readonly url: URL) {
    this.target = url;
  }

  get name(): string {
    return safeUrl(this.url);
  }

  static async open(client: HttpClient, url: URL, prefetchBytes: number, openFrom: 'start' | 'end', signal: AbortSignal | undefined): Promise<RemoteFile> {
    const file = new RemoteFile(client, url);
    const combined = client.combinedSignal(signal);
    const bytes = Math.max(1, prefetchBytes);
    if (openFrom === 'end' && await client.withRetries(`opening ${file.name}`, combined, () => file.openFromEndOnce(bytes, combined))) return file;
    await client.withRetries(`opening ${file.name}`, combined, () => file.openOnce(bytes, combined));
    return file;
  }

  /** True when `[offset, offset + length)` lies in the bytes the opening request brought. */
  holds(offset: number, length: number): boolean {
    if (offset + length <= this.head.byteLength) return true;
    return this.tail.byteLength > 0 && offset >= this.tailStart && offset + length <= this.size;
  }

  /**
   * The suffix opening: `Range: bytes=-N`. Resolves false when the server did not serve
   * the suffix and did not send a whole body that may be held (416 for a non-empty file,
   * 400/501, a 200 over `noRangeMaxBytes`): the caller then opens from the start.
   */
  private async openFromEndOnce(suffixBytes: number, signal: AbortSignal | undefined): Promise<boolean> {
    const { response, url: answered } = await this.client.get(this.url, { Range: `bytes=-${suffixBytes}`, 'Accept-Encoding': 'identity' }, signal);
    const status = response.statusCode ?? 0;
    this.target = answered;
    if (status === 206) {
      const range = this.sizedRange(response, answered);
      const expectedStart = Math.max(0, range.total - suffixBytes);
      if (range.start !== expectedStart || range.end !== range.total - 1) {
        response.destroy();
        throw new TensioError('SIZE_MISMATCH', `${this.name} answered bytes ${range.start}-${range.end} to a request for its last ${suffixBytes} bytes (bytes ${expectedStart}-${range.total - 1} of ${range.total})`, { path: this.name });
      }
      this.checkContentLength(response, range.total - expectedStart, answered);
      this.pinTo(response);
      this.size = range.total;
      this.tailStart = expectedStart;
      this.tail = new Uint8Array(range.total - expectedStart);
      await this.readExactly(response, this.tail, answered, signal);
      if (expectedStart === 0) this.head = this.tail; // the whole file came back
      return true;
    }
    if (status === 200) {
      const declared = parseContentLength(responseHeader(response, 'content-length'), answered);
      if (declared !== undefined && declared > this.client.noRangeMaxBytes) {
        response.destroy(); // a large whole body: ask from the start, which tells whether ranges work at all
        return false;
      }
      this.pinTo(response);
      await this.readWholeBody(response, answered, suffixBytes, signal);
      return true;
    }
    response.destroy();
    if (status === 416) {
      const range = parseContentRange(responseHeader(response, 'content-range'), answered);
      if (range?.total === 0) {
        this.size = 0;
        this.pinTo(response);
        return true;
      }
      return false; // refused the suffix of a non-empty file (a server that serves no suffix ranges)
    }
    if (status === 400 || status === 501) return false;
    throw statusError(status, answered);
  }

  /** The Content-Range of a 206 answer, which must say the file's size. */
  private sizedRange(response: IncomingMessage, answered: URL): ContentRange & { total: number } {
    const range = parseContentRange(responseHeader(response, 'content-range'), answered);
    if (!range || range.total === undefined) {
      response.destroy();
      throw new TensioError('RANGE_NOT_SUPPORTED', `${this.name} answered a range request without saying the file's size (Content-Range ${quoteValue(responseHeader(response, 'content-range') ?? null)}); tensio needs it for random access`, { path: this.name });
    }
    return range as ContentRange & { total: number };
  }

  /** Reads a whole body of `target.byteLength` bytes (a short one is retried). */
  private async readExactly(response: IncomingMessage, target: Uint8Array, answered: URL, signal: AbortSignal | undefined): Promise<void> {
    const got = await readBodyInto(response, target, { strict: true, url: answered, signal, stats: this.client.stats });
    if (got !== target.byteLength) throw new RetryableError(`${this.name}: connection closed after ${got} of ${target.byteLength} bytes`);
  }

  /** Pins the file to an answer's validators. */
  private pinTo(response: IncomingMessage): void {
    this.etag = responseHeader(response, 'etag');
    this.lastModified = responseHeader(response, 'last-modified');
  }

  private async openOnce(prefetchBytes: number, signal: AbortSignal | undefined): Promise<void> {
    const { response, url: answered } = await this.client.get(this.url, { Range: `bytes=0-${prefetchBytes - 1}`, 'Accept-Encoding': 'identity' }, signal);
    const status = response.statusCode ?? 0;
    this.target = answered;
    this.pinTo(response);
    if (status === 206) {
      const range = this.sizedRange(response, answered);
      const expectedEnd = Math.min(prefetchBytes, range.total) - 1;
      if (range.start !== 0 || range.end !== expectedEnd) {
        response.destroy();
        throw new TensioError('SIZE_MISMATCH', `${this.name} answered bytes ${range.start}-${range.end} to a request for bytes 0-${expectedEnd} of ${range.total}`, { path: this.name });
      }
      this.checkContentLength(response, expectedEnd + 1, answered);
      this.size = range.total;
      this.head = new Uint8Array(expectedEnd + 1);
      await this.readExactly(response, this.head, answered, signal);
      return;
    }
    if (status === 416) {
      const range = parseContentRange(responseHeader(response, 'content-range'), answered);
      response.destroy();
      if (range?.total === 0) {
        this.size = 0;
        return;
      }
      throw new TensioError('SIZE_MISMATCH', `${this.name} refused the range bytes=0-${prefetchBytes - 1} (HTTP 416) although the file is not empty (${range?.total ?? 'unknown'} bytes)`, { path: this.name });
    }
    if (status === 200) {
      await this.readWholeBody(response, answered, prefetchBytes, signal);
      return;
    }
    response.destroy();
    throw statusError(status, answered);
  }

  /**
   * A 200 answer to a range request: no range support. The body is held whole up to
   * `noRangeMaxBytes`; of a larger one only the first `prefetchBytes` are read and the
   * connection is closed.
   */
  private async readWholeBody(response: IncomingMessage, answered: URL, prefetchBytes: number, signal: AbortSignal | undefined): Promise<void> {
    // No range support: read from the front only, never the whole of a large body.
    this.rangeSupported = false;
    const declared = parseContentLength(responseHeader(response, 'content-length'), answered);
    const limit = this.client.noRangeMaxBytes;
    if (declared !== undefined && declared <= limit) {
      this.head = new Uint8Array(declared);
      await this.readExactly(response, this.head, answered, signal);
      this.size = declared;
      return;
    }
    if (declared !== undefined) {
      this.size = declared;
      this.head = new Uint8Array(Math.min(prefetchBytes, declared));
      const got = await readBodyInto(response, this.head, { strict: false, url: answered, signal, stats: this.client.stats });
      if (got !== this.head.byteLength) throw new RetryableError(`${this.name}: connection closed after ${got} of ${this.head.byteLength} bytes`);
      return;
    }
    // Neither ranges nor a length: the size is known only by reading to the end, which is allowed up to the limit.
    const buffer = new Uint8Array(limit + 1);
    const got = await readBodyInto(response, buffer, { strict: false, url: answered, signal, stats: this.client.stats });
    if (got > limit) {
      throw new TensioError('RANGE_NOT_SUPPORTED', `${this.name} ignores Range requests and does not say its size, and it is larger than ${limit} bytes; download it first (e.g. curl -o) or raise noRangeMaxBytes`, { path: this.name });
    }
    this.head = buffer.slice(0, got);
    this.size = got;
  }

  private checkContentLength(response: IncomingMessage, expected: number, url: URL): void {
    const declared = parseContentLength(responseHeader(response, 'content-length'), url);
    if (declared !== undefined && declared !== expected) {
      response.destroy();
      throw new TensioError('SIZE_MISMATCH', `${this.name} announced ${declared} body bytes for a range of ${expected}`, { path: this.name });
    }
  }

  /** Fails with `SOURCE_CHANGED` when an answer's validators or size differ from the pinned ones. */
  private checkPinned(response: IncomingMessage, total: number | undefined): void {
    if (!this.client.pin) return;
    const etag = responseHeader(response, 'etag');
    const lastModified = responseHeader(response, 'last-modified');
    const changed =
      (total !== undefined && total !== this.size) ||
      (this.etag !== undefined && etag !== undefined && etag !== this.etag) ||
      (this.etag === undefined && this.lastModified !== undefined && lastModified !== undefined && lastModified !== this.lastModified);
    if (changed) {
      response.destroy();
      throw new TensioError('SOURCE_CHANGED', `${this.name} changed while it was being read (was ${this.etag ?? this.lastModified ?? `${this.size} bytes`}, now ${etag ?? lastModified ?? `${total} bytes`}); open it again`, { path: this.name });
    }
  }

  async readInto(target: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<void> {
    const length = target.byteLength;
    if (length === 0) return;
    const combined = this.client.combinedSignal(signal);
    throwIfAborted(combined);
    if (!this.rangeSupported) return this.readFromFront(target, offset, combined);
    if (this.tail.byteLength > 0 && offset + length > this.tailStart) {
      // The end of the range was brought by the suffix opening: copy it, ask only for the rest.
      const from = Math.max(offset, this.tailStart);
      target.set(this.tail.subarray(from - this.tailStart, offset + length - this.tailStart), from - offset);
      if (from === offset) return;
      return this.readInto(target.subarray(0, from - offset), offset, signal);
    }
    const progress = { written: 0 };
    const end = offset + length - 1;
    await this.client.withRetries(`reading bytes ${offset}-${end} of ${this.name}`, combined, async () => {
      const from = offset + progress.written; // a retry resumes after the bytes already received
      const headers: Record<string, string> = { Range: `bytes=${from}-${end}`, 'Accept-Encoding': 'identity' };
      if (this.client.pin && this.etag && !this.etag.startsWith('W/')) headers['If-Match'] = this.etag;
      const { response, url: answered } = await this.client.get(this.target, headers, combined, this.url.origin);
      const status = response.statusCode ?? 0;
      if (status === 412) {
        response.destroy();
        throw new TensioError('SOURCE_CHANGED', `${this.name} changed while it was being read (its ETag no longer matches ${this.etag}); open it again`, { path: this.name });
      }
      if (status === 200) {
        // The server stopped honouring Range: take the bytes from the front, if near enough.
        this.checkPinned(response, parseContentLength(responseHeader(response, 'content-length'), answered));
        if (end + 1 > this.client.noRangeMaxBytes) {
          response.destroy();
          throw this.noRangeError(offset, length);
        }
        const got = await readBodyInto(response, target, { at: progress.written, skip: from, strict: false, url: answered, signal: combined, stats: this.client.stats, progress });
        if (progress.written < length) throw new RetryableError(`${this.name}: connection closed after ${got} bytes`);
        return;
      }
      if (status !== 206) {
        response.destroy();
        if (status === 416) throw new TensioError('SOURCE_CHANGED', `${this.name} refused bytes ${from}-${end} (HTTP 416): it is shorter than the ${this.size} bytes it had`, { path: this.name });
        throw statusError(status, answered);
      }
      const range = parseContentRange(responseHeader(response, 'content-range'), answered);
      this.checkPinned(response, range?.total);
      if (!range || range.start !== from || range.end !== end) {
        response.destroy();
        throw new TensioError('SIZE_MISMATCH', `${this.name} answered bytes ${range?.start ?? '?'}-${range?.end ?? '?'} to a request for bytes ${from}-${end}`, { path: this.name });
      }
      this.checkContentLength(response, end - from + 1, answered);
      await readBodyInto(response, target, { at: progress.written, strict: true, url: answered, signal: combined, stats: this.client.stats, progress });
      if (progress.written < length) throw new RetryableError(`${this.name}: connection closed after ${progress.written} of ${length} bytes`);
    });
  }

  /** Reads from a server without range support: from the head, or from the front of a new body. */
  private async readFromFront(target: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<void> {
    const end = offset + target.byteLength;
    if (end <= this.head.byteLength) {
      target.set(this.head.subarray(offset, end));
      return;
    }
    if (end > this.client.noRangeMaxBytes) throw this.noRangeError(offset, target.byteLength);
    const progress = { written: 0 };
    await this.client.withRetries(`reading bytes ${offset}-${end - 1} of ${this.name}`, signal, async () => {
      progress.written = 0;
      const { response, url: answered } = await this.client.get(this.target, { 'Accept-Encoding': 'identity' }, signal, this.url.origin);
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        response.destroy();
        throw statusError(status, answered);
      }
      this.checkPinned(response, parseContentLength(responseHeader(response, 'content-length'), answered));
      await readBodyInto(response, target, { skip: offset, strict: false, url: answered, signal, stats: this.client.stats, progress });
      if (progress.written < target.byteLength) throw new RetryableError(`${this.name}: connection closed after ${progress.written} of ${target.byteLength} bytes`);
    });
  }

  private noRangeError(offset: number, length: number): TensioError {
    return new TensioError(
      'RANGE_NOT_SUPPORTED',
      `${this.name} ignores Range requests, so reading ${length} bytes at offset ${offset} of its ${this.size} bytes would mean downloading everything before them (tensio reads at most ${this.client.noRangeMaxBytes} bytes from the front); download the file first (e.g. curl -o) or raise noRangeMaxBytes`,
      { path: this.name, offset },
    );
  }
}
