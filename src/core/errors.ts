/**
 * The one error class tensio throws for bad input, bad arguments and failed I/O.
 *
 * Every failure carries a stable string `code` that scripts and tests can rely on;
 * the message is for people and carries the numbers that explain it.
 */
import { boundMessage } from './quote.js';

/** Every error code tensio uses. Codes are stable; messages are not. */
export type TensioErrorCode =
  // generic input problems
  | 'BAD_MAGIC'
  | 'UNKNOWN_FORMAT'
  | 'TRUNCATED'
  | 'TRAILING_BYTES'
  | 'HEADER_TOO_SMALL'
  | 'HEADER_TOO_LARGE'
  | 'INVALID_HEADER'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'DUPLICATE_KEY'
  | 'INVALID_METADATA'
  | 'INVALID_OFFSET'
  | 'OVERLAPPING_DATA'
  | 'INVALID_SHAPE'
  | 'INVALID_LAYOUT'
  // a text value that is not a number of the asked type, or missing where the type has no NaN (CSV/TXT)
  | 'INVALID_VALUE'
  | 'SIZE_MISMATCH'
  | 'SIZE_OVERFLOW'
  | 'LIMIT_EXCEEDED'
  | 'UNSUPPORTED_DTYPE'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_FEATURE'
  | 'UNSUPPORTED_FILTER'
  | 'RESERVED_NAME'
  | 'INVALID_NAME'
  | 'DUPLICATE_NAME'
  | 'NOT_FOUND'
  | 'CHECKSUM_MISMATCH'
  | 'UNSAFE_PICKLE'
  | 'INVALID_PICKLE'
  | 'INVALID_ZIP'
  | 'INVALID_SLICE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'OUT_OF_ORDER'
  | 'INCOMPLETE'
  | 'ALREADY_EXISTS'
  | 'LOCKED'
  | 'ABORTED'
  | 'IO_ERROR'
  // remote sources (HTTP)
  | 'HTTP_ERROR'
  | 'ACCESS_DENIED'
  | 'TOO_MANY_REDIRECTS'
  | 'SOURCE_CHANGED'
  | 'RANGE_NOT_SUPPORTED'
  | 'TIMEOUT'
  // object stores (S3)
  | 'BAD_CREDENTIALS'
  | 'BUCKET_NOT_FOUND'
  | 'WRONG_REGION';

/** Options accepted by the {@link TensioError} constructor. */
export interface TensioErrorOptions {
  /** The format whose rules were broken, e.g. `'safetensors'`; `'tensio'` for generic errors. */
  format?: string;
  /** The file or URL involved, when known. */
  path?: string;
  /** Byte offset in the input where the problem was found, when known. */
  offset?: number;
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/**
 * The error tensio throws. Test `code`, never the message text.
 *
 * @example
 * ```ts
 * try { await openTensorFile('model.safetensors'); }
 * catch (err) { if (isTensioError(err, 'HEADER_TOO_LARGE')) console.error(err.message); }
 * ```
 */
export class TensioError extends Error {
  /** Stable machine-readable reason. */
  readonly code: TensioErrorCode;
  /** Format whose rules were broken (`'tensio'` for generic problems). */
  readonly format: string;
  /** File or URL involved, when known. */
  readonly path?: string;
  /** Byte offset of the problem in the input, when known. */
  readonly offset?: number;

  constructor(code: TensioErrorCode, message: string, options: TensioErrorOptions = {}) {
    // Bounded whatever the caller interpolated: a 900 KB file name once made a 900 KB error line.
    super(boundMessage(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TensioError';
    this.code = code;
    this.format = options.format ?? 'tensio';
    if (options.path !== undefined) this.path = options.path;
    if (options.offset !== undefined) this.offset = options.offset;
  }
}

/**
 * True when `err` is a {@link TensioError}, optionally with one of the given codes.
 *
 * @example
 * ```ts
 * if (isTensioError(err, 'NOT_FOUND', 'BAD_MAGIC')) { ... }
 * ```
 */
export function isTensioError(err: unknown, ...codes: TensioErrorCode[]): err is TensioError {
  if (!(err instanceof TensioError)) return false;
  return codes.length === 0 || codes.includes(err.code);
}

/**
 * Builds a function that throws {@link TensioError}s for one format, so parsers read
 * `fail('INVALID_OFFSET', 'tensor x ...')` instead of repeating the format name.
 *
 * @example
 * ```ts
 * const fail = errorFactory('npy');
 * fail('BAD_MAGIC', 'npy: file does not start with \\x93NUMPY');
 * ```
 */
export function errorFactory(format: string) {
  return function fail(code: TensioErrorCode, message: string, options: Omit<TensioErrorOptions, 'format'> = {}): never {
    throw new TensioError(code, message, { ...options, format });
  };
}

/** Throws `ABORTED` if the signal has fired; call at every await point of a long operation. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new TensioError('ABORTED', 'operation aborted', { cause: signal.reason });
  }
}
