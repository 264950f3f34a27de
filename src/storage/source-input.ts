/**
 * What tensio accepts wherever it reads a tensor file: a local path, a `URL` or
 * `http(s)://` string, bytes in memory, or any {@link ByteSource}. This module tells
 * them apart and opens each as a source (or, for layouts of several files, as a
 * {@link Store} plus a key), so no reader above storage needs to know which it got.
 */
import { fileURLToPath } from 'node:url';
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TensioError } from '../core/errors.js';
import { bytesSource, type ByteSource } from './byte-source.js';
import { fileSource } from './file-source.js';
import { folderStore } from './folder-store.js';
import type { Store } from './store.js';
import { httpSource, type HttpSourceOptions } from './http-source.js';
import { httpStore } from './http-store.js';
import type { S3Options } from './s3-client.js';
import { isS3Url } from './s3-location.js';
import { s3Store, s3StoreOf } from './s3-store.js';
import { quoteInput } from '../core/quote.js';

/** Anything a tensor file can be read from. */
export type SourceInput = string | URL | Uint8Array | ByteSource;

/** Options for {@link openSourceInput} and {@link storeOfInput}. */
export interface SourceInputOptions {
  signal?: AbortSignal;
  /** Options for `http(s)://` inputs: headers (tokens), retries, timeouts, concurrency. */
  http?: HttpSourceOptions;
  /** A name for bytes in memory (used in messages and for detection by extension). */
  name?: string;
  /**
   * Options for `s3://` inputs (endpoint, credentials, …; default: {@link setS3Defaults}
   * and the AWS chain), and where the opening request reads (`openFrom`, as for http).
   */
  s3?: S3Options & { openFrom?: 'start' | 'end' };
}

/** How remote inputs are reached: the per-call settings every reader passes down. */
export interface RemoteOptions {
  /** For `http(s)://` inputs: request headers (tokens), retries, timeouts, concurrency. */
  http?: HttpSourceOptions;
  /** For `s3://` inputs and outputs: endpoint, region, profile, credentials, anonymous, part size, concurrency (over {@link setS3Defaults} and the AWS chain). */
  s3?: S3Options;
  signal?: AbortSignal;
}

/**
 * The {@link SourceInputOptions} of a call's options: its `http`, `s3` and `signal`
 * (each only when set), so every reader passes all of them down the same way.
 *
 * @example
 * ```ts
 * const { source } = await openSourceInput(path, sourceOptionsOf(options));
 * ```
 */
export function sourceOptionsOf(options: RemoteOptions | undefined, signal: AbortSignal | undefined = options?.signal): SourceInputOptions {
  return { ...(options?.http ? { http: options.http } : {}), ...(options?.s3 ? { s3: options.s3 } : {}), ...(signal ? { signal } : {}) };
}

/**
 * Source options that open an `http(s)://` or `s3://` input with a suffix read
 * (`openFrom: 'end'`) unless the caller chose otherwise.
 *
 * @example
 * ```ts
 * await openSourceInput(url, openingFromEnd(sourceOptionsOf(options)));
 * ```
 */
export function openingFromEnd(options: SourceInputOptions): SourceInputOptions {
  return { ...options, http: { openFrom: 'end', ...(options.http ?? {}) }, s3: { openFrom: 'end', ...(options.s3 ?? {}) } };
}

/** True for a {@link ByteSource}: an object with a numeric `size` and a `read` method. */
export function isByteSource(input: unknown): input is ByteSource {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && !(input instanceof URL)
    && typeof (input as ByteSource).read === 'function' && typeof (input as ByteSource).size === 'number';
}

/** True for an `http:` or `https:` URL, given as a `URL` or a string. */
export function isHttpUrl(input: unknown): boolean {
  if (input instanceof URL) return input.protocol === 'http:' || input.protocol === 'https:';
  return typeof input === 'string' && /^https?:\/\//i.test(input);
}

/**
 * True for a location read over the network: an `http(s)://` URL or an `s3://bucket/key`.
 *
 * @example
 * ```ts
 * isRemoteLocation('s3://models/model.safetensors'); // true
 * isRemoteLocation('model.safetensors'); // false
 * ```
 */
export function isRemoteLocation(input: unknown): boolean {
  return isHttpUrl(input) || isS3Url(input);
}

/**
 * The local path an input names: a plain string, or a `file:` URL (string or `URL`).
 * Undefined for remote URLs, bytes and sources.
 *
 * @example
 * ```ts
 * localPathOf('file:///tmp/x.npy'); // '/tmp/x.npy'
 * localPathOf('https://host/x.npy'); // undefined
 * ```
 */
export function localPathOf(input: SourceInput): string | undefined {
  if (input instanceof URL) return input.protocol === 'file:' ? fileURLToPath(input) : undefined;
  if (typeof input !== 'string') return undefined;
  if (/^file:\/\//i.test(input)) return fileURLToPath(input);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return undefined;
  return input;
}

/**
 * A name for an input in messages and reports: the path, the URL (credentials left
 * out), the source's name, or `'<bytes>'`.
 *
 * @example
 * ```ts
 * describeSourceInput(new Uint8Array(4)); // '<bytes>'
 * ```
 */
export function describeSourceInput(input: SourceInput, fallback = '<bytes>'): string {
  if (input instanceof Uint8Array) return fallback;
  if (input instanceof URL || isHttpUrl(input)) return redactUrl(String(input));
  if (isS3Url(input)) return String(input);
  if (typeof input === 'string') return localPathOf(input) ?? input;
  return input.name ?? fallback;
}

/** A URL with any `user:password@` part removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** An opened input: the source, and whether the caller must close it. */
export interface OpenedSource {
  readonly source: ByteSource;
  /** True when {@link openSourceInput} opened it (a path or URL): close it when done. */
  readonly owned: boolean;
}

/**
 * Opens any {@link SourceInput} as a {@link ByteSource}. Paths and URLs are opened
 * (`owned: true`, close the source when done); bytes are wrapped; sources pass through.
 *
 * @example
 * ```ts
 * const { source, owned } = await openSourceInput('https://host/model.safetensors');
 * try { console.log(source.size); } finally { if (owned) await source.close?.(); }
 * ```
 */
export async function openSourceInput(input: SourceInput, options: SourceInputOptions = {}): Promise<OpenedSource> {
  if (input instanceof Uint8Array) return { source: bytesSource(input, options.name), owned: false };
  if (isByteSource(input)) return { source: input, owned: false };
  if (isHttpUrl(input)) return { source: await httpSource(String(input), httpOptionsOf(options)), owned: true };
  if (isS3Url(input)) {
    const { s3Source } = await import('./s3-source.js');
    return { source: await s3Source(String(input), s3OptionsOf(options)), owned: true };
  }
  const path = localPathOf(input as string | URL);
  if (path === undefined) throw new TensioError('UNSUPPORTED_FEATURE', `cannot read ${describeSourceInput(input)}: only local paths, file:, http(s): and s3: URLs are supported`);
  return { source: await fileSource(path), owned: true };
}

/**
 * The store holding an input and the input's key in it: the folder of a local path, or
 * the base URL (everything up to the last `/`) of an `http(s)://` URL. Multi-file
 * layouts use it to reach their sibling files (shards next to an index).
 *
 * @example
 * ```ts
 * const { store, key } = storeOfInput('https://host/llama/model.safetensors.index.json');
 * // store.name === 'https://host/llama/', key === 'model.safetensors.index.json'
 * ```
 */
export function storeOfInput(input: string | URL, options: SourceInputOptions = {}): { store: Store; key: string } {
  if (isHttpUrl(input)) {
    const url = new URL(String(input));
    const slash = url.pathname.lastIndexOf('/');
    const key = decodeURIComponent(url.pathname.slice(slash + 1));
    url.pathname = url.pathname.slice(0, slash + 1);
    url.search = '';
    url.hash = '';
    return { store: httpStore(url, httpOptionsOf(options)), key };
  }
  if (isS3Url(input)) return s3StoreOf(input, s3OptionsOf(options));
  const path = localPathOf(input);
  if (path === undefined) throw new TensioError('UNSUPPORTED_FEATURE', `cannot read ${describeSourceInput(input)}: only local paths, file: and http(s): URLs are supported`);
  const absolute = resolve(path);
  return { store: folderStore(dirname(absolute)), key: basename(absolute) };
}

/**
 * The store rooted at an input that names a folder: a local folder, or a URL taken as a
 * base (a `/` is added when missing). Used for NumPack stores and checkpoint folders.
 *
 * @example
 * ```ts
 * const store = storeAtInput('https://host/data.npk/');
 * ```
 */
export function storeAtInput(input: string | URL, options: SourceInputOptions = {}): Store {
  if (isHttpUrl(input)) {
    const url = new URL(String(input));
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return httpStore(url, httpOptionsOf(options));
  }
  if (isS3Url(input)) return s3Store(String(input), s3OptionsOf(options));
  const path = localPathOf(input);
  if (path === undefined) throw new TensioError('UNSUPPORTED_FEATURE', `cannot read ${describeSourceInput(input)}: only local paths, file: and http(s): URLs are supported`);
  return folderStore(path);
}

function s3OptionsOf(options: SourceInputOptions): NonNullable<SourceInputOptions['s3']> {
  return { ...(options.s3 ?? {}), ...(options.signal ? { signal: options.signal } : {}) };
}

function httpOptionsOf(options: SourceInputOptions): HttpSourceOptions {
  const signal = options.signal ?? options.http?.signal;
  return { ...(options.http ?? {}), ...(signal ? { signal } : {}) };
}

/** What a location (a path or URL) names, as far as can be told without reading it. */
export type LocationKind = 'file' | 'folder' | 'missing' | 'remote';

/**
 * Whether a local path is a file, a folder or missing; `'remote'` for an `http(s)://` or
 * `s3://` URL (which cannot be asked without a request).
 *
 * @example
 * ```ts
 * if ((await locationKind(input)) === 'folder') { ... }
 * ```
 */
export async function locationKind(location: string): Promise<LocationKind> {
  if (isRemoteLocation(location)) return 'remote';
  const path = localPathOf(location) ?? location;
  return stat(path).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing');
}

/**
 * The location of `name` beside `location` (a shard beside its index): a path in the
 * same folder, or a URL relative to the same base. `name` must be a plain file name.
 *
 * @example
 * ```ts
 * siblingLocation('https://h/llama/model.safetensors.index.json', 'model-00001-of-00002.safetensors');
 * // 'https://h/llama/model-00001-of-00002.safetensors'
 * ```
 */
export function siblingLocation(location: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new TensioError('INVALID_NAME', `${quoteInput(name)} is not a plain file name beside ${describeSourceInput(location)}`);
  }
  if (isHttpUrl(location)) {
    // A sibling gets no query string: a signed URL's query belongs to its own file.
    return new URL(encodeURIComponent(name), location).toString();
  }
  if (isS3Url(location)) return `${location.slice(0, location.lastIndexOf('/') + 1)}${name}`;
  const path = localPathOf(location) ?? location;
  return join(dirname(path), name);
}
