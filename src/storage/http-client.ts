/**
 * One HTTP(S) GET done carefully, on Node's own `http`/`https` (no dependency): redirects
 * followed a bounded number of times and never carrying credentials to another origin,
 * retries with exponential backoff after 5xx/429 answers and dropped connections, an
 * idle timeout, an `AbortSignal`, and a cap on requests in flight. The range logic on
 * top lives in `http-source.ts`.
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { HTTP_IDLE_TIMEOUT_MS, HTTP_MAX_CONCURRENCY, HTTP_MAX_REDIRECTS, HTTP_MAX_RETRIES, HTTP_NO_RANGE_MAX_BYTES } from '../core/limits.js';
import { quoteInput } from '../core/quote.js';

/** Options for HTTP(S) sources and stores. Every limit has a default in `core/limits.ts`. */
export interface HttpOptions {
  /**
   * Request headers sent with every request (`{ Authorization: 'Bearer …' }`).
   * `Authorization`, `Cookie` and `Proxy-Authorization` are dropped when a redirect
   * leads to another origin (scheme, host or port).
   */
  headers?: Readonly<Record<string, string>>;
  /** Cancels every request of the source or store. */
  signal?: AbortSignal;
  /** Most redirects followed per request (default 5). */
  maxRedirects?: number;
  /** Retries after a 5xx/429 answer or a dropped connection (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled after each retry (default 200). */
  retryDelayMs?: number;
  /** Milliseconds a connection may stay silent before it counts as dropped (default 30 000). */
  timeoutMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Most bytes read from the front of a body when the server ignores Range (default 16 MiB). */
  noRangeMaxBytes?: number;
  /** Refuse a file whose ETag / Last-Modified changes while it is read (default true). */
  pin?: boolean;
}

/** Counters a remote source or store keeps, for tests, `--debug` and benchmarks. */
export interface HttpStats {
  /** Requests sent (redirect hops and retries included). */
  requests: number;
  /** Body bytes received. */
  bytesReceived: number;
  /** Retries made. */
  retries: number;
}

/** Headers that carry credentials: never forwarded to another origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Statuses worth a retry: the server said "try again". */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** A URL with any `user:password@` and query string left out, for messages. */
export function safeUrl(url: URL | string): string {
  const copy = new URL(String(url));
  copy.username = '';
  copy.password = '';
  copy.search = '';
  return copy.toString();
}

/** A bounded queue of requests: at most `limit` run at once. */
export class RequestLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** A request failure that another attempt may cure (dropped connection, 5xx). */
export class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Node's HTTP modules, which the first request loads. */
interface Transports {
  http: typeof import('node:http');
  https: typeof import('node:https');
}

let transportsLoading: Promise<Transports> | undefined;

/**
 * `node:http` and `node:https` are imported on the first request, not with the module:
 * the root entry exports the HTTP sources, and `import('tensio')` should not pay for
 * Node's HTTP and TLS stacks when nothing remote is read.
 */
function loadTransports(): Promise<Transports> {
  return (transportsLoading ??= Promise.all([import('node:http'), import('node:https')]).then(([http, https]) => ({ http: http.default, https: https.default })));
}

/** The shared machinery of one source or store: options resolved, agents, limiter, stats. */
export class HttpClient {
  readonly stats: HttpStats = { requests: 0, bytesReceived: 0, retries: 0 };
  readonly maxRedirects: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
  readonly noRangeMaxBytes: number;
  readonly pin: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal | undefined;
  private readonly limiter: RequestLimiter;
  private readonly concurrency: number;
  /** Keep-alive agents, made with the first request. */
  private agents: { http: HttpAgent; https: HttpsAgent } | undefined;

  constructor(options: HttpOptions = {}) {
    this.maxRedirects = options.maxRedirects ?? HTTP_MAX_REDIRECTS;
    this.retries = options.retries ?? HTTP_MAX_RETRIES;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? HTTP_IDLE_TIMEOUT_MS;
    this.noRangeMaxBytes = options.noRangeMaxBytes ?? HTTP_NO_RANGE_MAX_BYTES;
    this.pin = options.pin ?? true;
    this.headers = { ...(options.headers ?? {}) };
    this.signal = options.signal;
    const concurrency = options.concurrency ?? HTTP_MAX_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new TensioError('INVALID_ARGUMENT', `http: concurrency must be a positive integer, not ${concurrency}`);
    this.limiter = new RequestLimiter(concurrency);
    this.concurrency = concurrency;
  }

  /** The signal of one call combined with the client's own. */
  combinedSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (!signal) return this.signal;
    if (!this.signal) return signal;
    return AbortSignal.any([signal, this.signal]);
  }

  /**
   * Runs `attempt` with retries: a {@link RetryableError} is retried after a backoff
   * (doubling from `retryDelayMs`, or the server's `Retry-After` up to 10 s) at most
   * `retries` times; anything else is thrown at once.
   */
  async withRetries<T>(what: string, signal: AbortSignal | undefined, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
    for (let attemptNumber = 0; ; attemptNumber++) {
      throwIfAborted(signal);
      try {
        return await this.limiter.run(() => attempt(attemptNumber));
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (attemptNumber >= this.retries) {
          const code = /timed out/.test(error.message) ? 'TIMEOUT' : /status \d/.test(error.message) ? 'HTTP_ERROR' : 'IO_ERROR';
          throw new TensioError(code, `${what} failed after ${attemptNumber + 1} attempts: ${error.message} (raise retries to try longer)`, { cause: error });
        }
        this.stats.retries += 1;
        const delay = Math.min(error.retryAfterMs ?? this.retryDelayMs * 2 ** attemptNumber, 10_000);
        await sleep(delay, signal);
      }
    }
  }

  /**
   * Sends one GET (following redirects) and resolves with the final response, whatever
   * its status, and the URL that answered. Dropped connections and timeouts reject with
   * {@link RetryableError}; callers decide what statuses mean. Credential headers go to
   * `trustedOrigin` only (the origin of the URL the caller was given).
   */
  async get(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, trustedOrigin = url.origin): Promise<{ response: IncomingMessage; url: URL }> {
    const origin = trustedOrigin;
    const visited = new Set<string>();
    let current = url;
    for (let hop = 0; ; hop++) {
      visited.add(current.toString());
      const sameOrigin = current.origin === origin;
      const sent: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...this.headers, ...headers })) {
        if (!sameOrigin && CREDENTIAL_HEADERS.has(name.toLowerCase())) continue;
        sent[name] = value;
      }
      if (current.username || current.password) {
        // Credentials in the URL itself become Basic auth for that origin only.
        if (sameOrigin && !Object.keys(sent).some((name) => name.toLowerCase() === 'authorization')) {
          sent.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(current.username)}:${decodeURIComponent(current.password)}`).toString('base64')}`;
        }
      }
      const response = await this.sendOnce(current, sent, signal);
      const status = response.statusCode ?? 0;
      if (![301, 302, 303, 307, 308].includes(status)) return { response, url: current };
      const location = response.headers.location;
      response.destroy();
      if (!location) throw new TensioError('HTTP_ERROR', `${safeUrl(current)} answered ${status} without a Location header`, { path: safeUrl(url) });
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (cause) {
        throw new TensioError('HTTP_ERROR', `${safeUrl(current)} redirects to an invalid URL ${quoteInput(location)}`, { path: safeUrl(url), cause });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new TensioError('HTTP_ERROR', `${safeUrl(current)} redirects to ${next.protocol} URL, which tensio does not follow`, { path: safeUrl(url) });
      }
      if (visited.has(next.toString())) {
        throw new TensioError('TOO_MANY_REDIRECTS', `${safeUrl(url)} redirects in a loop (back to ${safeUrl(next)} after ${hop + 1} redirects)`, { path: safeUrl(url) });
      }
      if (hop + 1 > this.maxRedirects) {
        throw new TensioError('TOO_MANY_REDIRECTS', `${safeUrl(url)} redirected more than ${this.maxRedirects} times (raise maxRedirects to follow more)`, { path: safeUrl(url) });
      }
      current = next;
    }
  }

  private async sendOnce(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
    throwIfAborted(signal);
    this.stats.requests += 1;
    const { http, https } = await loadTransports();
    throwIfAborted(signal);
    const agents = (this.agents ??= { http: new http.Agent({ keepAlive: true, maxSockets: this.concurrency }), https: new https.Agent({ keepAlive: true, maxSockets: this.concurrency }) });
    const isHttps = url.protocol === 'https:';
    const transport = isHttps ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, {
        method: 'GET',
        headers,
        agent: isHttps ? agents.https : agents.http,
        ...(signal ? { signal } : {}),
      });
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(new RetryableError(`${safeUrl(url)} timed out (no answer for ${this.timeoutMs} ms)`));
      });
      request.once('response', (response) => {
        const status = response.statusCode ?? 0;
        if (RETRY_STATUSES.has(status)) {
          response.destroy();
          reject(new RetryableError(`${safeUrl(url)} answered status ${status}`, parseRetryAfter(response.headers['retry-after'])));
          return;
        }
        resolve(response);
      });
      request.once('error', (cause) => reject(translateNetworkError(cause, url, signal)));
      request.end();
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agents?.http.destroy();
    this.agents?.https.destroy();
  }
}

/** Turns a socket or abort error into what the retry loop understands. */
export function translateNetworkError(cause: unknown, url: URL, signal: AbortSignal | undefined): Error {
  if (cause instanceof TensioError || cause instanceof RetryableError) return cause;
  if (signal?.aborted || (cause as Error)?.name === 'AbortError') return new TensioError('ABORTED', `reading ${safeUrl(url)} was aborted`, { path: safeUrl(url), cause });
  const code = (cause as NodeJS.ErrnoException)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TensioError('NOT_FOUND', `cannot resolve the host of ${safeUrl(url)} (${code}); check the URL and your network`, { path: safeUrl(url), cause });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || String(code ?? '').startsWith('ERR_TLS') || /certificate/i.test((cause as Error)?.message ?? '')) {
    return new TensioError('IO_ERROR', `TLS failed for ${safeUrl(url)}: ${(cause as Error).message}`, { path: safeUrl(url), cause });
  }
  return new RetryableError(`connection to ${safeUrl(url)} failed: ${(cause as Error)?.message ?? String(cause)}`, undefined, { cause });
}

/** The status of a final response as a TensioError (404 → NOT_FOUND, 401/403 → ACCESS_DENIED). */
export function statusError(status: number, url: URL): TensioError {
  if (status === 404 || status === 410) return new TensioError('NOT_FOUND', `${safeUrl(url)} does not exist (HTTP ${status})`, { path: safeUrl(url) });
  if (status === 401 || status === 403) {
    return new TensioError('ACCESS_DENIED', `${safeUrl(url)} refused access (HTTP ${status}); pass a token with --header 'Authorization: Bearer …' or TENSIO_HTTP_TOKEN`, { path: safeUrl(url) });
  }
  return new TensioError('HTTP_ERROR', `${safeUrl(url)} answered HTTP ${status}`, { path: safeUrl(url) });
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TensioError('ABORTED', 'operation aborted', { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TensioError('ABORTED', 'operation aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
