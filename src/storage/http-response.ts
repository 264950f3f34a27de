/**
 * Reading an HTTP answer, for the range source (`http-source.ts`) and the store
 * (`http-store.ts`): the URL check, the `Content-Range` / `Content-Length` headers parsed
 * strictly (malformed → `HTTP_ERROR`, past 2^53 → `SIZE_OVERFLOW`), a header's first
 * value, and a body copied into place.
 */
import type { IncomingMessage } from 'node:http';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { safeUrl, translateNetworkError, type HttpStats } from './http-client.js';
import { quoteInput } from '../core/quote.js';

/** Parses a URL, accepting only `http:` and `https:`. */
export function parseHttpUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new TensioError('INVALID_ARGUMENT', `${quoteInput(String(url))} is not a valid URL`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TensioError('INVALID_ARGUMENT', `${safeUrl(parsed)} is not an http: or https: URL`);
  }
  return parsed;
}

/** A parsed Content-Range: `bytes START-END/TOTAL` (TOTAL may be a star), or a star range with TOTAL for 416 answers. */
export interface ContentRange {
  start?: number;
  end?: number;
  total?: number;
}

/** Parses a Content-Range header; throws `HTTP_ERROR` when malformed, `SIZE_OVERFLOW` for numbers past 2^53. */
export function parseContentRange(value: string | undefined, url: URL): ContentRange | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!match) throw new TensioError('HTTP_ERROR', `${safeUrl(url)} sent a malformed Content-Range ${quoteInput(value)}`, { path: safeUrl(url) });
  const number = (text: string | undefined): number | undefined => {
    if (text === undefined || text === '*') return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n)) {
      throw new TensioError('SIZE_OVERFLOW', `${safeUrl(url)} declares a size of ${text} bytes in Content-Range, beyond 2^53`, { path: safeUrl(url) });
    }
    return n;
  };
  const range: ContentRange = {};
  const start = number(match[1]);
  const end = number(match[2]);
  const total = number(match[3]);
  if (start !== undefined) range.start = start;
  if (end !== undefined) range.end = end;
  if (total !== undefined) range.total = total;
  return range;
}

/** Parses a Content-Length header; undefined when absent. */
export function parseContentLength(value: string | undefined, url: URL): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new TensioError('HTTP_ERROR', `${safeUrl(url)} sent a malformed Content-Length ${quoteInput(value)}`, { path: safeUrl(url) });
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new TensioError('SIZE_OVERFLOW', `${safeUrl(url)} declares a body of ${value} bytes, beyond 2^53`, { path: safeUrl(url) });
  return n;
}

/**
 * Copies a response body into `target[at…]` after skipping its first `skip` bytes.
 * `strict`: the body must end exactly when `target` is full (more is `SIZE_MISMATCH`);
 * otherwise the connection is closed as soon as `target` is full. Resolves with the
 * bytes written; a dropped connection rejects with {@link RetryableError}, keeping
 * what arrived in `progress.written`.
 */
export async function readBodyInto(
  response: IncomingMessage,
  target: Uint8Array,
  options: { at?: number; skip?: number; strict: boolean; url: URL; signal: AbortSignal | undefined; stats: HttpStats; progress?: { written: number } },
): Promise<number> {
  const encoding = response.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    // Ranges count bytes of the file, not of a compressed body: such an answer cannot be used.
    response.destroy();
    throw new TensioError('HTTP_ERROR', `${safeUrl(options.url)} sent a ${encoding}-encoded body although tensio asked for none (Accept-Encoding: identity)`, { path: safeUrl(options.url) });
  }
  let at = options.at ?? 0;
  let skip = options.skip ?? 0;
  const progress = options.progress ?? { written: 0 };
  try {
    for await (const piece of response as AsyncIterable<Buffer>) {
      options.stats.bytesReceived += piece.byteLength;
      let chunk: Uint8Array = piece;
      if (skip > 0) {
        if (chunk.byteLength <= skip) {
          skip -= chunk.byteLength;
          continue;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      const room = target.byteLength - at;
      if (chunk.byteLength > room) {
        if (options.strict) {
          response.destroy();
          throw new TensioError('SIZE_MISMATCH', `${safeUrl(options.url)} sent more bytes than the ${target.byteLength - (options.at ?? 0)} it announced`, { path: safeUrl(options.url) });
        }
        target.set(chunk.subarray(0, room), at);
        at += room;
        progress.written += room;
        response.destroy(); // got what was needed: close the connection, read nothing more
        return at - (options.at ?? 0);
      }
      target.set(chunk, at);
      at += chunk.byteLength;
      progress.written += chunk.byteLength;
      if (!options.strict && at === target.byteLength) {
        response.destroy();
        return at - (options.at ?? 0);
      }
    }
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    throwIfAborted(options.signal);
    throw translateNetworkError(cause, options.url, options.signal);
  }
  return at - (options.at ?? 0);
}

/** A response header's value (the first, when it came several times). */
export function responseHeader(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
