/**
 * Parsing `.npy` bytes: the fixed prefix (magic, version, header length), then the
 * header literal. Synchronous over bytes; `reader.ts` fetches them.
 */
import { errorFactory } from '../../core/errors.js';
import { NPY_MAX_HEADER_BYTES } from '../../core/limits.js';
import { npyParseLiteral } from './literal.js';
import type { NpyHeader, NpyReadOptions, NpyVersion } from './types.js';
import { npyValidateHeaderDict } from './validate.js';

import { npyHasMagic } from './sniff.js';

export { NPY_MAGIC, npyHasMagic } from './sniff.js';

/** Bytes to read first: enough for the prefix of every version. */
export const NPY_PREFIX_BYTES = 12;

/** What the first bytes say. */
export interface NpyPrefix {
  version: NpyVersion;
  /** Where the header text starts (10 for v1, 12 for v2/v3). */
  headerStart: number;
  headerLength: number;
}

/** One shared tuple per version: an npz of a million members keeps a million headers. */
const NPY_VERSIONS: Readonly<Record<1 | 2 | 3, NpyVersion>> = Object.freeze({ 1: Object.freeze([1, 0] as const), 2: Object.freeze([2, 0] as const), 3: Object.freeze([3, 0] as const) });

/** Descr strings seen so far, so equal ones share one string (few distinct, many headers). */
const descrs = new Map<string, string>();
function sharedDescr(descr: string): string {
  const known = descrs.get(descr);
  if (known !== undefined) return known;
  if (descrs.size < 256) descrs.set(descr, descr);
  return descr;
}

/**
 * Reads magic, version and header length from the first bytes (up to 12), checking the
 * header fits the limit and the input (`totalSize` bytes).
 *
 * @example
 * ```ts
 * const prefix = npyReadPrefix(first12, file.size);
 * ```
 */
export function npyReadPrefix(bytes: Uint8Array, totalSize: number, options: NpyReadOptions = {}): NpyPrefix {
  const format = options.format ?? 'npy';
  const fail = errorFactory(format);
  if (bytes.byteLength < 10) fail('TRUNCATED', `${format}: ${bytes.byteLength} bytes is too short for a .npy prefix (at least 10)`);
  if (!npyHasMagic(bytes)) fail('BAD_MAGIC', `${format}: data does not start with \\x93NUMPY`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    fail('UNSUPPORTED_VERSION', `${format}: .npy version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart = 10;
  let headerLength: number;
  if (major === 1) headerLength = view.getUint16(8, true);
  else {
    if (bytes.byteLength < 12) fail('TRUNCATED', `${format}: ${bytes.byteLength} bytes is too short for a version ${major}.0 prefix (12)`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? NPY_MAX_HEADER_BYTES;
  if (headerLength > maxHeaderBytes) {
    fail('HEADER_TOO_LARGE', `${format}: header length ${headerLength} exceeds the limit ${maxHeaderBytes} (raise maxHeaderBytes for a trusted file)`);
  }
  if (headerStart + headerLength > totalSize) {
    fail('TRUNCATED', `${format}: header of ${headerLength} bytes at ${headerStart} runs past the end (${totalSize} bytes)`);
  }
  return { version: NPY_VERSIONS[major as 1 | 2 | 3], headerStart, headerLength };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Parses the header text (latin-1 for v1/v2, UTF-8 for v3) into a checked {@link NpyHeader}.
 *
 * @example
 * ```ts
 * const header = npyParseHeader(headerBytes, prefix, file.size);
 * ```
 */
export function npyParseHeader(headerBytes: Uint8Array, prefix: NpyPrefix, totalSize: number, options: NpyReadOptions = {}): NpyHeader {
  const format = options.format ?? 'npy';
  const fail = errorFactory(format);
  let text: string;
  if (prefix.version[0] === 3) {
    try {
      text = utf8.decode(headerBytes);
    } catch (cause) {
      return fail('INVALID_UTF8', `${format}: version 3.0 header is not valid UTF-8`, { cause });
    }
  } else {
    text = latin1.decode(headerBytes);
  }
  const fields = npyValidateHeaderDict(npyParseLiteral(text, format), options);
  const dataOffset = prefix.headerStart + prefix.headerLength;
  const byteLength = fields.count * fields.itemSize;
  if (!Number.isSafeInteger(byteLength)) fail('SIZE_OVERFLOW', `${format}: array of ${fields.count} items of ${fields.itemSize} bytes is too large`);
  if (dataOffset + byteLength > totalSize) {
    fail('TRUNCATED', `${format}: array data needs ${byteLength} bytes at offset ${dataOffset}, but the input has ${totalSize - dataOffset}`, { offset: dataOffset });
  }
  return {
    version: prefix.version,
    descr: sharedDescr(fields.descr),
    dtype: fields.dtype,
    itemSize: fields.itemSize,
    bigEndian: fields.bigEndian,
    swapUnit: fields.swapUnit,
    fortranOrder: fields.fortranOrder,
    shape: fields.shape,
    headerLength: prefix.headerLength,
    dataOffset,
    byteLength,
  };
}

/**
 * Parses a whole `.npy` held in memory (prefix and header), for callers with the bytes.
 *
 * @example
 * ```ts
 * const header = npyReadHeaderFromBytes(fileBytes);
 * const data = fileBytes.subarray(header.dataOffset, header.dataOffset + header.byteLength);
 * ```
 */
export function npyReadHeaderFromBytes(bytes: Uint8Array, options: NpyReadOptions = {}): NpyHeader {
  const prefix = npyReadPrefix(bytes.subarray(0, NPY_PREFIX_BYTES), bytes.byteLength, options);
  return npyParseHeader(bytes.subarray(prefix.headerStart, prefix.headerStart + prefix.headerLength), prefix, bytes.byteLength, options);
}
