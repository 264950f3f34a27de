/**
 * A read-only {@link Store} over an HTTP(S) base URL: key `a/b.bin` is the URL
 * `<base>a/b.bin`. Multi-file layouts served by a plain web server (a sharded
 * checkpoint's index and shards, a NumPack store's files) are read through it; HTTP
 * cannot list a folder or write, so `canList` and `canWrite` are false.
 */
import { TensioError } from '../core/errors.js';
import { readRange, type ByteRange, type ReadOptions } from './byte-source.js';
import { HttpClient, RetryableError, safeUrl, statusError, type HttpOptions, type HttpStats } from './http-client.js';
import { httpSource, type HttpSource, type HttpSourceOptions } from './http-source.js';
import { parseContentLength, parseContentRange, parseHttpUrl, readBodyInto } from './http-response.js';
import { checkStoreKey, type Store } from './store.js';
import { quoteValue } from '../core/quote.js';

/** Options for {@link httpStore}: the HTTP options every request of the store uses. */
export interface HttpStoreOptions extends HttpOptions {
  /** Options for the sources {@link HttpStore.open} returns (prefetch, cache). */
  source?: Pick<HttpSourceOptions, 'prefetchBytes' | 'cache'>;
}

/** A read-only store over a base URL, with request counters. */
export interface HttpStore extends Store {
  /** The base URL, ending in `/`. */
  readonly baseUrl: string;
  /** Requests and bytes of the store and every source it opened. */
  readonly stats: HttpStats;
  open(key: string, options?: ReadOptions): Promise<HttpSource>;
  close(): Promise<void>;
}

/**
 * A store whose keys are URLs relative to `baseUrl` (a `/` is added when missing).
 *
 * @example
 * ```ts
 * const store = httpStore('https://example.com/checkpoints/llama/');
 * const index = await readStoreText(store, 'model.safetensors.index.json');
 * await using shard = await store.open('model-00001-of-00002.safetensors');
 * ```
 */
export function httpStore(baseUrl: string | URL, options: HttpStoreOptions = {}): HttpStore {
  const base = parseHttpUrl(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const client = new HttpClient(options);

  const urlOf = (key: string): URL => {
    checkStoreKey(key);
    const url = new URL(key.split('/').map(encodeURIComponent).join('/'), base);
    url.search = base.search;
    return url;
  };
  const readOnly = (what: string): never => {
    throw new TensioError('UNSUPPORTED_FEATURE', `cannot ${what} at ${safeUrl(base)}: an HTTP store is read-only (write to a local folder and upload it)`, { path: safeUrl(base) });
  };

  /** One ranged GET for a key, with the answer checked against the range asked. */
  async function fetchRange(key: string, range: ByteRange, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const url = urlOf(key);
    const combined = client.combinedSignal(signal);
    const isSuffix = 'suffix' in range;
    const asked = isSuffix ? range.suffix : range.length;
    if (!Number.isSafeInteger(asked) || asked < 0 || (!isSuffix && (!Number.isSafeInteger(range.offset) || range.offset < 0))) {
      throw new TensioError('INVALID_ARGUMENT', `invalid range ${quoteValue(range)} for ${safeUrl(url)}`);
    }
    if (asked === 0) return new Uint8Array(0);
    const rangeHeader = isSuffix ? `bytes=-${range.suffix}` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    return client.withRetries(`reading ${rangeHeader} of ${safeUrl(url)}`, combined, async () => {
      const { response, url: answered } = await client.get(url, { Range: rangeHeader, 'Accept-Encoding': 'identity' }, combined);
      const status = response.statusCode ?? 0;
      if (status === 206) {
        const got = parseContentRange(response.headers['content-range'], answered);
        const total = got?.total;
        const wantStart = isSuffix ? (total === undefined ? undefined : Math.max(0, total - range.suffix)) : range.offset;
        const wantEnd = isSuffix ? (total === undefined ? undefined : total - 1) : Math.min(range.offset + range.length, total ?? Infinity) - 1;
        if (!got || got.start === undefined || got.start !== wantStart || got.end !== wantEnd) {
          response.destroy();
          throw new TensioError('SIZE_MISMATCH', `${safeUrl(answered)} answered ${quoteValue(response.headers['content-range'] ?? null)} to Range ${rangeHeader}`, { path: safeUrl(url) });
        }
        if (!isSuffix && wantEnd! - wantStart! + 1 < range.length) {
          response.destroy();
          throw new TensioError('TRUNCATED', `read of ${range.length} bytes at offset ${range.offset} runs past the end of ${safeUrl(url)} (${total} bytes)`, { path: safeUrl(url) });
        }
        const bytes = new Uint8Array(wantEnd! - wantStart! + 1);
        const declared = parseContentLength(response.headers['content-length'], answered);
        if (declared !== undefined && declared !== bytes.byteLength) {
          response.destroy();
          throw new TensioError('SIZE_MISMATCH', `${safeUrl(answered)} announced ${declared} body bytes for a range of ${bytes.byteLength}`, { path: safeUrl(url) });
        }
        const written = await readBodyInto(response, bytes, { strict: true, url: answered, signal: combined, stats: client.stats });
        if (written !== bytes.byteLength) throw new RetryableError(`${safeUrl(url)}: connection closed after ${written} of ${bytes.byteLength} bytes`);
        return bytes;
      }
      if (status === 416) {
        const got = parseContentRange(response.headers['content-range'], answered);
        response.destroy();
        if (isSuffix && got?.total === 0) return new Uint8Array(0);
        throw new TensioError('TRUNCATED', `${rangeHeader} lies past the end of ${safeUrl(url)} (${got?.total ?? 'unknown'} bytes)`, { path: safeUrl(url) });
      }
      if (status === 200) {
        // No range support: a small body is read whole and cut; a large one only from its front.
        const declared = parseContentLength(response.headers['content-length'], answered);
        const limit = client.noRangeMaxBytes;
        if (!isSuffix && range.offset + range.length <= limit) {
          const bytes = new Uint8Array(range.length);
          const written = await readBodyInto(response, bytes, { skip: range.offset, strict: false, url: answered, signal: combined, stats: client.stats });
          if (written < range.length) throw new TensioError('TRUNCATED', `read of ${range.length} bytes at offset ${range.offset} runs past the end of ${safeUrl(url)}`, { path: safeUrl(url) });
          return bytes;
        }
        if (isSuffix && declared !== undefined && declared <= limit) {
          const whole = new Uint8Array(declared);
          const written = await readBodyInto(response, whole, { strict: true, url: answered, signal: combined, stats: client.stats });
          if (written !== declared) throw new RetryableError(`${safeUrl(url)}: connection closed after ${written} of ${declared} bytes`);
          return whole.subarray(Math.max(0, declared - range.suffix));
        }
        response.destroy();
        throw new TensioError('RANGE_NOT_SUPPORTED', `${safeUrl(url)} ignores Range requests and is larger than ${limit} bytes (or does not say its size), so ${rangeHeader} cannot be read without downloading it; download it first or raise noRangeMaxBytes`, { path: safeUrl(url) });
      }
      response.destroy();
      throw statusError(status, answered);
    });
  }

  const store: HttpStore = {
    name: safeUrl(base),
    baseUrl: base.toString(),
    stats: client.stats,
    canList: false,
    canWrite: false,
    locate: (key) => safeUrl(urlOf(key)),
    async list() {
      throw new TensioError('UNSUPPORTED_FEATURE', `cannot list ${safeUrl(base)}: HTTP has no folder listing; open the index or manifest file by its name`, { path: safeUrl(base) });
    },
    async has(key, options) {
      try {
        await fetchRange(key, { offset: 0, length: 1 }, options?.signal);
        return true;
      } catch (error) {
        if (error instanceof TensioError && error.code === 'NOT_FOUND') return false;
        if (error instanceof TensioError && error.code === 'TRUNCATED') return true; // an empty file exists
        throw error;
      }
    },
    async read(key, range, options) {
      if (range) return fetchRange(key, range, options?.signal);
      const source = await store.open(key, options);
      try {
        return await readRange(source, { offset: 0, length: source.size }, options);
      } finally {
        await source.close();
      }
    },
    open(key, readOptions) {
      // The source shares the store's client: its connections, limits, headers and counters.
      return httpSource(urlOf(key), { ...(options.source ?? {}), client, ...(readOptions?.signal ? { signal: readOptions.signal } : {}) });
    },
    write: async () => readOnly('write'),
    sink: async () => readOnly('write'),
    delete: async () => readOnly('delete'),
    async close() {
      client.close();
    },
  };
  return store;
}
