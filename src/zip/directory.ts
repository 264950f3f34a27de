/**
 * Finding and parsing a zip's end records and central directory. Synchronous over
 * bytes already read; `read.ts` fetches exactly the ranges these need.
 */
import { errorFactory } from '../core/errors.js';
import {
  DEFLATE_MAX_RATIO, ZIP16_MAX, ZIP32_MAX, ZIP64_END_BYTES, ZIP64_END_SIGNATURE, ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_BYTES, ZIP64_LOCATOR_SIGNATURE, ZIP_CENTRAL_HEADER_BYTES, ZIP_CENTRAL_HEADER_SIGNATURE,
  ZIP_END_BYTES, ZIP_END_SIGNATURE, ZIP_LOCAL_HEADER_BYTES, ZIP_METHOD_STORE,
} from './constants.js';
import { zipCheckName, zipDecodeName } from './names.js';
import type { ZipEntry } from './types.js';
import { quoteInput } from '../core/quote.js';

/** Where the central directory is, from the (zip64) end records. */
export interface ZipDirectoryLocation {
  entryCount: number;
  directoryOffset: number;
  directorySize: number;
  /** Where the central directory must end: the zip64 end record, else the classic one. */
  directoryLimit: number;
  /** Offset of the classic end record; a zip64 locator sits just before it. */
  endOffset: number;
  /** Whether end values must come from the zip64 record. */
  needsZip64: boolean;
  comment: Uint8Array;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(data: DataView, at: number, format: string, what: string): number {
  const value = data.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) errorFactory(format)('SIZE_OVERFLOW', `${format}: zip ${what} ${value} is beyond 2^53`);
  return Number(value);
}

/**
 * Finds the classic end record in the file's tail (`tail` = the last bytes, starting at
 * `tailOffset`). Scans back from the end for `PK\x05\x06` whose comment length reaches
 * exactly the end of file; accepts a shorter comment only when no exact one exists.
 *
 * @example
 * ```ts
 * const end = zipFindEnd(tail, source.size - tail.byteLength, 'npz');
 * ```
 */
export function zipFindEnd(tail: Uint8Array, tailOffset: number, format: string): ZipDirectoryLocation {
  const fail = errorFactory(format);
  const fileSize = tailOffset + tail.byteLength;
  if (fileSize < ZIP_END_BYTES) fail('TRUNCATED', `${format}: ${fileSize} bytes is too small for a zip (end record is ${ZIP_END_BYTES} bytes)`);
  const data = view(tail);
  let found = -1;
  let loose = -1;
  for (let at = tail.byteLength - ZIP_END_BYTES; at >= 0; at--) {
    if (data.getUint32(at, true) !== ZIP_END_SIGNATURE) continue;
    const commentLength = data.getUint16(at + 20, true);
    if (at + ZIP_END_BYTES + commentLength === tail.byteLength) {
      found = at;
      break;
    }
    if (loose < 0 && at + ZIP_END_BYTES + commentLength <= tail.byteLength) loose = at;
  }
  if (found < 0) found = loose;
  if (found < 0) fail('INVALID_ZIP', `${format}: no zip end-of-central-directory record in the last ${tail.byteLength} bytes`);
  const diskNumber = data.getUint16(found + 4, true);
  const directoryDisk = data.getUint16(found + 6, true);
  const entriesOnDisk = data.getUint16(found + 8, true);
  const entryCount = data.getUint16(found + 10, true);
  const directorySize = data.getUint32(found + 12, true);
  const directoryOffset = data.getUint32(found + 16, true);
  const commentLength = data.getUint16(found + 20, true);
  const needsZip64 = entryCount === ZIP16_MAX || entriesOnDisk === ZIP16_MAX || directorySize === ZIP32_MAX || directoryOffset === ZIP32_MAX;
  if (!needsZip64 && (diskNumber !== 0 || directoryDisk !== 0 || entriesOnDisk !== entryCount)) {
    fail('UNSUPPORTED_FEATURE', `${format}: multi-disk zip archives are not supported (disk ${diskNumber}, directory disk ${directoryDisk})`);
  }
  const endOffset = tailOffset + found;
  return {
    entryCount,
    directoryOffset,
    directorySize,
    directoryLimit: endOffset,
    endOffset,
    needsZip64,
    comment: tail.slice(found + ZIP_END_BYTES, found + ZIP_END_BYTES + commentLength),
  };
}

/** Offset of the zip64 end record named by the locator just before the classic end, or -1 when there is no locator. */
export function zipReadLocator(locator: Uint8Array, format: string): number {
  const data = view(locator);
  if (locator.byteLength < ZIP64_LOCATOR_BYTES || data.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) return -1;
  const disk = data.getUint32(4, true);
  const disks = data.getUint32(16, true);
  if (disk !== 0 || disks > 1) errorFactory(format)('UNSUPPORTED_FEATURE', `${format}: multi-disk zip64 archives are not supported (disk ${disk} of ${disks})`);
  return u64(data, 8, format, 'zip64 end record offset');
}

/** Applies the zip64 end record (56 bytes at `offset`) to the classic end's location. */
export function zipApplyZip64End(record: Uint8Array, offset: number, location: ZipDirectoryLocation, format: string): ZipDirectoryLocation {
  const fail = errorFactory(format);
  const data = view(record);
  if (record.byteLength < ZIP64_END_BYTES || data.getUint32(0, true) !== ZIP64_END_SIGNATURE) {
    fail('INVALID_ZIP', `${format}: zip64 locator points at offset ${offset}, which holds no zip64 end record`, { offset });
  }
  const disk = data.getUint32(16, true);
  const directoryDisk = data.getUint32(20, true);
  const onDisk = u64(data, 24, format, 'entry count');
  const entryCount = u64(data, 32, format, 'entry count');
  if (disk !== 0 || directoryDisk !== 0 || onDisk !== entryCount) fail('UNSUPPORTED_FEATURE', `${format}: multi-disk zip64 archives are not supported`);
  return {
    ...location,
    entryCount,
    directorySize: u64(data, 40, format, 'central directory size'),
    directoryOffset: u64(data, 48, format, 'central directory offset'),
    directoryLimit: offset,
  };
}

/** Limits for {@link zipParseCentralDirectory}. */
export interface ZipDirectoryLimits {
  format: string;
  maxEntries: number;
}

/**
 * Parses `count` central directory headers from `bytes` (the whole directory), applying
 * zip64 extras, checking names (traversal, duplicates) and that every entry's local
 * header and data lie before the directory and do not overlap each other.
 *
 * @example
 * ```ts
 * const entries = zipParseCentralDirectory(directoryBytes, location, { format: 'npz', maxEntries: 1000 });
 * ```
 */
export function zipParseCentralDirectory(bytes: Uint8Array, location: ZipDirectoryLocation, limits: ZipDirectoryLimits): ZipEntry[] {
  const { format } = limits;
  const fail = errorFactory(format);
  const data = view(bytes);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let at = 0;
  for (let index = 0; index < location.entryCount; index++) {
    const where = location.directoryOffset + at;
    if (at + ZIP_CENTRAL_HEADER_BYTES > bytes.byteLength) fail('INVALID_ZIP', `${format}: central directory (${bytes.byteLength} bytes) ends inside entry ${index} of ${location.entryCount}`, { offset: where });
    if (data.getUint32(at, true) !== ZIP_CENTRAL_HEADER_SIGNATURE) fail('INVALID_ZIP', `${format}: bad central directory signature for entry ${index} at offset ${where}`, { offset: where });
    const flags = data.getUint16(at + 8, true);
    const method = data.getUint16(at + 10, true);
    const crc32 = data.getUint32(at + 16, true);
    let compressedSize = data.getUint32(at + 20, true);
    let uncompressedSize = data.getUint32(at + 24, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    const startDisk = data.getUint16(at + 34, true);
    let localHeaderOffset = data.getUint32(at + 42, true);
    const end = at + ZIP_CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    if (end > bytes.byteLength) fail('INVALID_ZIP', `${format}: central directory entry ${index} runs past the directory end (${end} > ${bytes.byteLength})`, { offset: where });
    const name = zipDecodeName(bytes.subarray(at + ZIP_CENTRAL_HEADER_BYTES, at + ZIP_CENTRAL_HEADER_BYTES + nameLength), flags, format);
    zipCheckName(name, format);
    if (seen.has(name)) fail('DUPLICATE_NAME', `${format}: zip member ${quoteInput(name)} appears twice`, { offset: where });
    seen.add(name);

    // zip64 extra: only the fields whose 32-bit slot is saturated, in this order.
    const extraStart = at + ZIP_CENTRAL_HEADER_BYTES + nameLength;
    const wants = [uncompressedSize === ZIP32_MAX, compressedSize === ZIP32_MAX, localHeaderOffset === ZIP32_MAX, startDisk === ZIP16_MAX];
    if (wants.some(Boolean)) {
      const values = zipReadZip64Extra(bytes.subarray(extraStart, extraStart + extraLength), wants, format, name);
      if (wants[0]) uncompressedSize = values.shift()!;
      if (wants[1]) compressedSize = values.shift()!;
      if (wants[2]) localHeaderOffset = values.shift()!;
    }
    if (method === ZIP_METHOD_STORE && compressedSize !== uncompressedSize) {
      fail('INVALID_ZIP', `${format}: stored member ${quoteInput(name)} has compressed size ${compressedSize} but uncompressed size ${uncompressedSize}`);
    }
    if (method !== ZIP_METHOD_STORE && uncompressedSize > compressedSize * DEFLATE_MAX_RATIO + 1024) {
      fail('INVALID_ZIP', `${format}: member ${quoteInput(name)} declares ${uncompressedSize} bytes from ${compressedSize} compressed bytes, beyond deflate's ${DEFLATE_MAX_RATIO}:1 limit`);
    }
    const dataEnd = localHeaderOffset + ZIP_LOCAL_HEADER_BYTES + nameLength + compressedSize;
    if (dataEnd > location.directoryOffset) {
      fail('INVALID_ZIP', `${format}: member ${quoteInput(name)} (local header at ${localHeaderOffset}, ${compressedSize} bytes) runs into the central directory at ${location.directoryOffset}`, { offset: localHeaderOffset });
    }
    entries.push({ name, method, compressedSize, uncompressedSize, crc32, localHeaderOffset, flags });
    at = end;
  }
  checkNoOverlap(entries, format);
  return entries;
}

/** Reads the u64 values a zip64 extra holds for the saturated fields (`wants` in APPNOTE order). */
export function zipReadZip64Extra(extra: Uint8Array, wants: readonly boolean[], format: string, name: string): number[] {
  const fail = errorFactory(format);
  const data = view(extra);
  for (let at = 0; at + 4 <= extra.byteLength;) {
    const id = data.getUint16(at, true);
    const length = data.getUint16(at + 2, true);
    if (at + 4 + length > extra.byteLength) break;
    if (id === ZIP64_EXTRA_ID) {
      const values: number[] = [];
      let field = at + 4;
      // The disk number (4th) is a u32; sizes and offset are u64.
      for (let index = 0; index < 3; index++) {
        if (!wants[index]) continue;
        if (field + 8 > at + 4 + length) fail('INVALID_ZIP', `${format}: zip64 extra of ${quoteInput(name)} is too short (${length} bytes)`);
        values.push(u64(data, field, format, `zip64 value of ${quoteInput(name)}`));
        field += 8;
      }
      return values;
    }
    at += 4 + length;
  }
  return fail('INVALID_ZIP', `${format}: member ${quoteInput(name)} needs a zip64 extra field but has none`);
}

function checkNoOverlap(entries: readonly ZipEntry[], format: string): void {
  // Overlapping members are the trick behind non-recursive zip bombs (one deflate
  // stream shared by many entries); nothing legitimate writes them.
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let index = 1; index < sorted.length; index++) {
    const previous = sorted[index - 1]!;
    const current = sorted[index]!;
    const previousEnd = previous.localHeaderOffset + ZIP_LOCAL_HEADER_BYTES + previous.compressedSize;
    if (previousEnd > current.localHeaderOffset) {
      errorFactory(format)('OVERLAPPING_DATA', `${format}: zip members ${quoteInput(previous.name)} and ${quoteInput(current.name)} overlap (${previousEnd} > ${current.localHeaderOffset})`, { offset: current.localHeaderOffset });
    }
  }
}
