/**
 * The S3 connection shared by sources, stores and upload sinks: an `S3Client` of the
 * AWS SDK v3 configured once (credentials from the standard chain, endpoint, region,
 * path-style addressing and checksum settings for S3-compatible stores), a cap on
 * requests in flight, counters, and the translation of S3 errors into `TensioError`s
 * with their own codes and the bucket and key in the message.
 *
 * The SDK is imported dynamically on first use, so code that only recognises `s3://`
 * locations never loads it.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { TensioError } from '../core/errors.js';
import { S3_IDLE_TIMEOUT_MS, S3_MAX_CONCURRENCY, S3_MAX_RETRIES } from '../core/limits.js';
import { RequestLimiter } from './http-client.js';
import { formatS3Url, type S3Location } from './s3-location.js';

/**
 * How to reach S3 or an S3-compatible store. Everything left out comes from the AWS
 * standard chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
 * `AWS_PROFILE` and the shared `~/.aws/config` and `~/.aws/credentials` files,
 * `AWS_REGION`, and `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
 */
export interface S3Options {
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); implies path-style addressing and checksums only when required. */
  endpoint?: string;
  /** The region; default from the environment or profile, else `us-east-1` with redirects to the bucket's region followed. */
  region?: string;
  /** A named profile of the shared config files. */
  profile?: string;
  /** Explicit credentials (tests, or keys held by the caller). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Send unsigned requests (public buckets), like the AWS CLI's `--no-sign-request`. */
  noSignRequest?: boolean;
  /** Path-style addressing (`endpoint/bucket/key`); default true with `endpoint`, else false. */
  forcePathStyle?: boolean;
  /** Requests in flight at once per connection (default {@link S3_MAX_CONCURRENCY}). */
  concurrency?: number;
  /** Retries after throttling, 5xx answers or dropped connections (default {@link S3_MAX_RETRIES}). */
  retries?: number;
  /** Milliseconds a connection may stay silent (default {@link S3_IDLE_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Uploads: bytes per part (default `S3_PART_BYTES`, 8 MiB; at least 5 MiB). */
  partBytes?: number;
  /** Uploads: parts in flight at once (default `S3_UPLOAD_QUEUE`, 4); memory ≈ (this + 1) × `partBytes`. */
  queueSize?: number;
  /** Reads: bytes a streamed `GetObject` (a tensor read chunk by chunk) may hold ahead of its reader (default `S3_STREAM_BUFFER_BYTES`, 16 MiB). */
  streamBufferBytes?: number;
  /** Cancels every request made with these options (not shared with other users of the connection). */
  signal?: AbortSignal;
  /** Use this client instead of building one (its settings win; tensio never destroys it). */
  client?: S3Client;
}

/** Counters of one connection, for tests, `--debug` and benchmarks. */
export interface S3Stats {
  /** Requests sent by tensio (the SDK's own retries not counted). */
  requests: number;
  /** Object bytes received. */
  bytesReceived: number;
  /** Object bytes sent (part and object bodies). */
  bytesSent: number;
  /** Reads retried after a dropped connection. */
  retries: number;
}

/** One configured client with its limiter and counters. */
export interface S3Connection {
  readonly client: S3Client;
  readonly limiter: RequestLimiter;
  readonly stats: S3Stats;
  readonly retries: number;
  readonly signal: AbortSignal | undefined;
  /** The SDK module (commands), loaded once. */
  readonly sdk: typeof import('@aws-sdk/client-s3');
  /**
   * What the store was seen to support: `conditionalPut` turns false once a
   * `PutObject` with `If-None-Match: *` was answered 501 (Swift), so later uploads
   * skip that request and go straight to a conditional one-part multipart upload.
   */
  readonly supports: { conditionalPut: boolean };
}

let sdkModule: Promise<typeof import('@aws-sdk/client-s3')> | undefined;

/** Loads the SDK once; a missing package is a clear error, not a module-not-found crash. */
export function loadS3Sdk(): Promise<typeof import('@aws-sdk/client-s3')> {
  // A name in a variable: bundlers (the browser build) leave the SDK out instead of inlining it.
  const packageName = '@aws-sdk/client-s3';
  sdkModule ??= (import(packageName) as Promise<typeof import('@aws-sdk/client-s3')>).catch((cause: unknown) => {
    sdkModule = undefined;
    throw new TensioError('UNSUPPORTED_FEATURE', `s3:// locations need the package @aws-sdk/client-s3, which could not be loaded: ${(cause as Error).message}`, { cause });
  });
  return sdkModule;
}

/** Process-wide defaults (the CLI sets `--endpoint-url`, `--no-sign-request`, `--profile`, `--region` here). */
let defaults: S3Options = {};

/**
 * Sets the S3 options used when a call gives none (the CLI's flags; a program's
 * settings for every `s3://` path it passes to tensio). Options given to a call win.
 *
 * @example
 * ```ts
 * setS3Defaults({ endpoint: 'http://127.0.0.1:9000', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
 * const reader = await openTensorFile('s3://models/model.safetensors');
 * ```
 */
export function setS3Defaults(options: S3Options): void {
  defaults = { ...options };
  connections.clear();
}

/** The options in force: a call's own over the defaults. */
export function resolveS3Options(options: S3Options = {}): S3Options {
  return { ...defaults, ...options };
}

const connections = new Map<string, Promise<S3Connection>>();

/** Reads an environment variable only where there is a `process` (not in a browser). */
function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name] || undefined;
}

/**
 * The connection for `options` (merged over the defaults). Connections with the same
 * settings are shared: their sockets, limiter and counters.
 *
 * @example
 * ```ts
 * const { client, sdk } = await s3Connect({ endpoint: 'http://127.0.0.1:8080' });
 * ```
 */
export function s3Connect(options: S3Options = {}): Promise<S3Connection> {
  const resolved = resolveS3Options(options);
  const cacheable = !resolved.client;
  const key = cacheable ? JSON.stringify([resolved.endpoint, resolved.region, resolved.profile, resolved.credentials, resolved.noSignRequest, resolved.forcePathStyle, resolved.concurrency, resolved.retries, resolved.timeoutMs]) : undefined;
  if (key !== undefined) {
    const existing = connections.get(key);
    if (existing) return existing;
  }
  const made = makeConnection(resolved);
  if (key !== undefined) {
    connections.set(key, made);
    made.catch(() => connections.delete(key));
  }
  return made;
}

async function makeConnection(options: S3Options): Promise<S3Connection> {
  const sdk = await loadS3Sdk();
  const retries = options.retries ?? S3_MAX_RETRIES;
  const concurrency = options.concurrency ?? S3_MAX_CONCURRENCY;
  const idleTimeout = options.timeoutMs ?? S3_IDLE_TIMEOUT_MS;
  let client = options.client;
  if (!client) {
    const endpoint = options.endpoint ?? env('AWS_ENDPOINT_URL_S3') ?? env('AWS_ENDPOINT_URL');
    const config: S3ClientConfig = {
      region: options.region ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION') ?? (await discoverRegion(sdk, options.profile)),
      // The bucket may live in another region than the one guessed: follow S3's redirect.
      followRegionRedirects: true,
      maxAttempts: retries + 1,
      // `socketTimeout` is the idle limit (no byte either way for that long: a dropped
      // connection, which the SDK retries as a TimeoutError). Not `requestTimeout`: since
      // @smithy/node-http-handler 4 it only logs a warning unless `throwOnRequestTimeout`,
      // and it bounds a whole request (a slow but moving 8 MiB part would fail).
      requestHandler: { connectionTimeout: idleTimeout, socketTimeout: idleTimeout, httpsAgent: { maxSockets: concurrency * 2 }, httpAgent: { maxSockets: concurrency * 2 } },
    };
    if (options.profile) config.profile = options.profile;
    if (endpoint) {
      config.endpoint = endpoint;
      // Non-AWS stores: bucket in the path, and no default CRC32 trailers (some stores
      // answer NotImplemented to aws-chunked uploads, one stores the framing as data).
      config.forcePathStyle = options.forcePathStyle ?? true;
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    } else if (options.forcePathStyle !== undefined) {
      config.forcePathStyle = options.forcePathStyle;
    }
    if (options.credentials) config.credentials = options.credentials;
    if (options.noSignRequest) {
      // Anonymous: a signer that leaves the request as it is, and credentials never looked up.
      config.credentials = { accessKeyId: '', secretAccessKey: '' };
      config.signer = { sign: async (request) => request };
    }
    client = new sdk.S3Client(config);
  }
  // The signal is per use, not per connection: connections are shared between callers.
  return { client, limiter: new RequestLimiter(concurrency), stats: { requests: 0, bytesReceived: 0, bytesSent: 0, retries: 0 }, retries, signal: undefined, sdk, supports: { conditionalPut: true } };
}

/** The region from the profile or shared config; `us-east-1` when none is set (redirects fix a wrong guess). */
async function discoverRegion(sdk: typeof import('@aws-sdk/client-s3'), profile: string | undefined): Promise<string> {
  const probe = new sdk.S3Client(profile ? { profile } : {});
  try {
    const region = await probe.config.region();
    return region || 'us-east-1';
  } catch {
    return 'us-east-1';
  } finally {
    probe.destroy();
  }
}

/** What an S3 call was about, for messages. */
export interface S3ErrorContext {
  readonly location: S3Location;
  /** `'read'`, `'write'`, `'list'`, `'delete'`, … */
  readonly action: string;
}

const CREDENTIAL_ERRORS = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'AuthorizationHeaderMalformed', 'CredentialsProviderError', 'InvalidClientTokenId']);

/**
 * Turns an SDK error into a `TensioError`: wrong credentials → `BAD_CREDENTIALS`, a
 * missing bucket → `BUCKET_NOT_FOUND`, a missing key → `NOT_FOUND`, refused →
 * `ACCESS_DENIED`, a changed object (If-Match failed) → `SOURCE_CHANGED`, a range past
 * the end → `TRUNCATED`, cancelled → `ABORTED`, anything else → `HTTP_ERROR`. A
 * `TensioError` passes through.
 */
export function translateS3Error(cause: unknown, context: S3ErrorContext): TensioError {
  if (cause instanceof TensioError) return cause;
  const error = cause as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = error?.Code ?? error?.name ?? 'Error';
  const status = error?.$metadata?.httpStatusCode;
  const where = formatS3Url(context.location);
  const path = { path: where, cause };
  if (name === 'AbortError' || name === 'ABORTED') return new TensioError('ABORTED', `${context.action} of ${where} was aborted`, path);
  const regionHint = name === 'AuthorizationHeaderMalformed' || name === 'PermanentRedirect' || name === 'IllegalLocationConstraintException' ? expectedRegion(error) : undefined;
  if (regionHint !== undefined || (name === 'AuthorizationHeaderMalformed' && /region/i.test(error?.message ?? ''))) {
    // Stores that do not redirect (Swift) refuse a signature made for another region and name theirs.
    const which = regionHint ? `; the store expects ${regionHint}: pass --region ${regionHint} (or region: '${regionHint}', or set AWS_REGION)` : '; pass the bucket\'s region with --region (or region, or AWS_REGION)';
    return new TensioError('WRONG_REGION', `${context.action} of ${where} was signed for the wrong region (${error?.message ?? name})${which}`, path);
  }
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials/i.test(error?.message ?? '')) {
    return new TensioError('BAD_CREDENTIALS', `the S3 credentials were refused or not found for ${context.action} of ${where} (${name}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials, or pass --no-sign-request for a public bucket`, path);
  }
  if (name === 'NoSuchBucket') return new TensioError('BUCKET_NOT_FOUND', `the bucket ${context.location.bucket} does not exist (${context.action} of ${where}); check the name, the endpoint and the region`, path);
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) return new TensioError('NOT_FOUND', `${where} does not exist (${context.action})`, path);
  if (status === 401) {
    // Swift's own API (a public container read with --no-sign-request) answers 401 to anonymous reads of a private one.
    return new TensioError('ACCESS_DENIED', `access denied for ${context.action} of ${where} (HTTP 401: the store wants credentials); drop --no-sign-request and give credentials, or make the bucket public`, path);
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403) {
    return new TensioError('ACCESS_DENIED', `access denied for ${context.action} of ${where} (${name}); the credentials in use have no right to it`, path);
  }
  if (name === 'PreconditionFailed' || status === 412) return new TensioError('SOURCE_CHANGED', `${where} was replaced while it was read (its ETag changed); read it again`, path);
  if (name === 'InvalidRange' || status === 416) return new TensioError('TRUNCATED', `${context.action} of ${where} asked for bytes past its end`, path);
  if (name === 'TimeoutError' || name === 'RequestTimeout') return new TensioError('TIMEOUT', `${context.action} of ${where} timed out (${error?.message ?? name})`, path);
  if (status === 404) return new TensioError('NOT_FOUND', `${where} was not found (${name})`, path);
  return new TensioError('HTTP_ERROR', `${context.action} of ${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}${error?.message && error.message !== name ? `: ${error.message}` : ''}`, path);
}

/** The region a store said it expects: S3's `<Region>` / `x-amz-bucket-region`, or Swift's "expecting 'r'" text. */
function expectedRegion(error: { message?: string; Region?: unknown; $response?: { headers?: Record<string, string> } }): string | undefined {
  const header = error.$response?.headers?.['x-amz-bucket-region'];
  if (typeof header === 'string' && /^[a-z0-9-]{1,40}$/.test(header)) return header;
  if (typeof error.Region === 'string' && /^[a-z0-9-]{1,40}$/.test(error.Region)) return error.Region;
  const match = /expecting '([a-z0-9-]{1,40})'/i.exec(error.message ?? '');
  return match?.[1];
}

/**
 * Sends one command through the connection's limiter, translating errors. The SDK
 * retries throttling, 5xx and connection errors itself (`maxAttempts`).
 */
export async function s3Send<T>(connection: S3Connection, context: S3ErrorContext, send: (abortSignal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const abortSignal = combineSignals(connection.signal, signal);
  return connection.limiter.run(async () => {
    if (abortSignal?.aborted) throw new TensioError('ABORTED', `${context.action} of ${formatS3Url(context.location)} was aborted`, { cause: abortSignal.reason });
    connection.stats.requests += 1;
    try {
      return await send(abortSignal);
    } catch (cause) {
      throw translateS3Error(cause, context);
    }
  });
}

/** One signal for two optional ones. */
export function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}
