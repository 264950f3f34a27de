/**
 * `s3://bucket/key` locations: telling them apart from paths and URLs, and splitting
 * them into bucket and key. Pure string work; the AWS SDK is not loaded here, so the
 * rest of storage can recognise S3 locations without paying for the SDK.
 */
import { TensioError } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';

/** A bucket and a key (the key may be `''` or end with `/` for a prefix). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/**
 * True for an `s3://` location given as a string or `URL`.
 *
 * @example
 * ```ts
 * isS3Url('s3://models/llama/model.safetensors'); // true
 * isS3Url('models/llama'); // false
 * ```
 */
export function isS3Url(input: unknown): boolean {
  if (input instanceof URL) return input.protocol === 's3:';
  return typeof input === 'string' && /^s3:\/\//i.test(input);
}

/**
 * Splits `s3://bucket/key` into bucket and key. The key is everything after the first
 * `/` following the bucket, taken literally (no percent-decoding: S3 keys may hold `%`).
 * Throws `INVALID_ARGUMENT` for a missing or malformed bucket name.
 *
 * @example
 * ```ts
 * parseS3Url('s3://models/llama/model.safetensors'); // { bucket: 'models', key: 'llama/model.safetensors' }
 * ```
 */
export function parseS3Url(input: string | URL): S3Location {
  const text = String(input);
  const match = /^s3:\/\/([^/?#]*)\/?(.*)$/is.exec(text);
  if (!match) throw new TensioError('INVALID_ARGUMENT', `${quoteInput(text)} is not an s3://bucket/key location`);
  const bucket = match[1]!;
  // S3's rule for bucket names (3-63 of a-z 0-9 . -, starting and ending with a letter or digit);
  // S3-compatible stores accept the same set, and anything else would be sent as another path.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new TensioError('INVALID_ARGUMENT', `${quoteInput(text)}: ${quoteInput(bucket)} is not a valid bucket name (3-63 characters: lower-case letters, digits, dots and hyphens)`);
  }
  return { bucket, key: match[2]! };
}

/**
 * The `s3://` form of a bucket and key.
 *
 * @example
 * ```ts
 * formatS3Url({ bucket: 'models', key: 'a/b.npy' }); // 's3://models/a/b.npy'
 * ```
 */
export function formatS3Url(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}
