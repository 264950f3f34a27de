/**
 * Reading zip archives over a {@link ByteSource}: the end records and central directory
 * once, then entries on request (stored or deflated, size and CRC checked).
 */
import { createInflateRaw, crc32 as zlibCrc32, inflateRawSync } from 'node:zlib';
import { errorFactory, TensioError, throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES, MAX_TENSOR_BYTES, ZIP_MAX_DIRECTORY_BYTES, ZIP_MAX_ENTRIES, ZIP_MAX_ENTRY_BYTES } from '../core/limits.js';
import { readIntoFrom, type ByteSource } from '../storage/byte-source.js';
import {
  ZIP64_END_BYTES, ZIP64_LOCATOR_BYTES, ZIP_END_BYTES, ZIP_FLAG_ENCRYPTED, ZIP_LOCAL_HEADER_BYTES,
  ZIP_LOCAL_HEADER_SIGNATURE, ZIP_MAX_COMMENT_BYTES, ZIP_METHOD_DEFLATE, ZIP_METHOD_STORE,
} from './constants.js';
import { zipApplyZip64End, zipFindEnd, zipParseCentralDirectory, zipReadLocator } from './directory.js';
import { zlibPipe } from './zlib-stream.js';
import type { ZipArchive, ZipEntry, ZipOpenOptions } from './types.js';

/** Deflated entries up to this size are inflated in one synchronous call. */
const SYNC_INFLATE_BYTES = 4 * 2 ** 20;
/** Compressed bytes read per step when streaming a deflated entry. */
const COMPRESSED_CHUNK_BYTES = 2 ** 20;

/**
 * Opens a zip archive: finds the end record (scanning at most 65535 + 22 bytes back),
 * follows the zip64 locator, parses and checks the central directory.
 *
 * @example
 * ```ts
 * const zip = await zipOpen(await fileSource('arrays.npz'), { format: 'npz' });
 * const bytes = await zip.readEntry(zip.entry('x.npy')!);
 * ```
 */
export async function zipOpen(source: ByteSource, options: ZipOpenOptions = {}): Promise<ZipArchive> {
  const format = options.format ?? 'zip';
  const fail = errorFactory(format);
  const signal = options.signal;
  const readOptions = signal ? { signal } : undefined;
  const maxEntries = options.maxEntries ?? ZIP_MAX_ENTRIES;
  const maxEntryBytes = options.maxEntryBytes ?? ZIP_MAX_ENTRY_BYTES;
  const maxDirectoryBytes = options.maxDirectoryBytes ?? ZIP_MAX_DIRECTORY_BYTES;

  const tailLength = Math.min(source.size, ZIP_MAX_COMMENT_BYTES + ZIP_END_BYTES);
  const tailOffset = source.size - tailLength;
  let location = zipFindEnd(await source.read(tailOffset, tailLength, readOptions), tailOffset, format);
  if (location.endOffset >= ZIP64_LOCATOR_BYTES) {
    const locator = await source.read(location.endOffset - ZIP64_LOCATOR_BYTES, ZIP64_LOCATOR_BYTES, readOptions);
    const zip64Offset = zipReadLocator(locator, format);
    if (zip64Offset >= 0) {
      if (zip64Offset + ZIP64_END_BYTES > location.endOffset - ZIP64_LOCATOR_BYTES) {
        fail('INVALID_ZIP', `${format}: zip64 end record offset ${zip64Offset} is not before its locator at ${location.endOffset - ZIP64_LOCATOR_BYTES}`);
      }
      location = zipApplyZip64End(await source.read(zip64Offset, ZIP64_END_BYTES, readOptions), zip64Offset, location, format);
    }
  }
  if (location.needsZip64 && location.directoryLimit === location.endOffset) {
    fail('INVALID_ZIP', `${format}: end record has saturated fields but no zip64 end record`);
  }
  if (location.entryCount > maxEntries) {
    fail('LIMIT_EXCEEDED', `${format}: zip holds ${location.entryCount} entries, more than the limit ${maxEntries} (raise maxEntries)`);
  }
  if (location.directorySize > maxDirectoryBytes) {
    fail('LIMIT_EXCEEDED', `${format}: zip central directory is ${location.directorySize} bytes, more than the limit ${maxDirectoryBytes} (raise maxDirectoryBytes)`);
  }
  if (location.directoryOffset + location.directorySize > location.directoryLimit) {
    fail('INVALID_ZIP', `${format}: central directory (${location.directorySize} bytes at ${location.directoryOffset}) runs past its end record at ${location.directoryLimit}`);
  }
  if (location.entryCount * 46 > location.directorySize) {
    fail('INVALID_ZIP', `${format}: ${location.entryCount} entries cannot fit in a ${location.directorySize}-byte central directory`);
  }
  const directory = await source.read(location.directoryOffset, location.directorySize, readOptions);
  const entries = zipParseCentralDirectory(directory, location, { format, maxEntries });
  return createArchive(source, entries, location.directoryOffset, { format, maxEntryBytes });
}

function createArchive(source: ByteSource, entries: readonly ZipEntry[], directoryOffset: number, settings: { format: string; maxEntryBytes: number }): ZipArchive {
  const { format, maxEntryBytes } = settings;
  const fail = errorFactory(format);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const offsets = new Map<ZipEntry, number>();

  async function dataOffset(entry: ZipEntry, options: { signal?: AbortSignal } = {}): Promise<number> {
    const cached = offsets.get(entry);
    if (cached !== undefined) return cached;
    const at = entry.localHeaderOffset;
    const header = await source.read(at, ZIP_LOCAL_HEADER_BYTES, options.signal ? { signal: options.signal } : undefined);
    const data = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (data.getUint32(0, true) !== ZIP_LOCAL_HEADER_SIGNATURE) {
      fail('INVALID_ZIP', `${format}: no local header for ${JSON.stringify(entry.name)} at offset ${at}`, { offset: at });
    }
    const nameLength = data.getUint16(26, true);
    const extraLength = data.getUint16(28, true);
    const offset = at + ZIP_LOCAL_HEADER_BYTES + nameLength + extraLength;
    if (offset + entry.compressedSize > directoryOffset) {
      fail('INVALID_ZIP', `${format}: data of ${JSON.stringify(entry.name)} (${entry.compressedSize} bytes at ${offset}) runs into the central directory at ${directoryOffset}`, { offset });
    }
    offsets.set(entry, offset);
    return offset;
  }

  function checkReadable(entry: ZipEntry): void {
    if (entry.flags & ZIP_FLAG_ENCRYPTED) fail('UNSUPPORTED_FEATURE', `${format}: zip member ${JSON.stringify(entry.name)} is encrypted`);
    if (entry.method !== ZIP_METHOD_STORE && entry.method !== ZIP_METHOD_DEFLATE) {
      fail('UNSUPPORTED_FEATURE', `${format}: zip member ${JSON.stringify(entry.name)} uses compression method ${entry.method} (only 0 stored and 8 deflate are supported)`);
    }
    if (entry.uncompressedSize > maxEntryBytes) {
      fail('LIMIT_EXCEEDED', `${format}: zip member ${JSON.stringify(entry.name)} expands to ${entry.uncompressedSize} bytes, more than the limit ${maxEntryBytes} (raise maxEntryBytes)`);
    }
  }

  function checkCrc(entry: ZipEntry, crc: number): void {
    if (crc !== entry.crc32) {
      fail('CHECKSUM_MISMATCH', `${format}: CRC-32 of zip member ${JSON.stringify(entry.name)} is ${hex(crc)}, the directory says ${hex(entry.crc32)}`);
    }
  }

  async function* compressedChunks(entry: ZipEntry, offset: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < entry.compressedSize; at += COMPRESSED_CHUNK_BYTES) {
      throwIfAborted(signal);
      const length = Math.min(COMPRESSED_CHUNK_BYTES, entry.compressedSize - at);
      const chunk = new Uint8Array(length);
      await readIntoFrom(source, chunk, offset + at, signal ? { signal } : undefined);
      yield chunk;
    }
  }

  async function* inflated(entry: ZipEntry, offset: number, chunkBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    let produced = 0;
    const inflater = createInflateRaw({ chunkSize: Math.max(64, Math.min(chunkBytes, 4 * 2 ** 20)) });
    try {
      for await (const chunk of zlibPipe(compressedChunks(entry, offset, signal), inflater)) {
        produced += chunk.byteLength;
        if (produced > entry.uncompressedSize) throw bomb(entry, produced);
        yield chunk;
      }
    } catch (cause) {
      throw asZipError(cause, entry);
    }
    if (produced !== entry.uncompressedSize) {
      fail('SIZE_MISMATCH', `${format}: zip member ${JSON.stringify(entry.name)} inflated to ${produced} bytes, the directory says ${entry.uncompressedSize}`);
    }
  }

  function bomb(entry: ZipEntry, produced: number): TensioError {
    return new TensioError('LIMIT_EXCEEDED', `${format}: zip member ${JSON.stringify(entry.name)} inflates past its declared ${entry.uncompressedSize} bytes (${produced} so far)`, { format });
  }

  function asZipError(cause: unknown, entry: ZipEntry): unknown {
    if (cause instanceof TensioError) return cause;
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return bomb(entry, entry.uncompressedSize + 1);
    const truncated = code === 'Z_BUF_ERROR';
    return new TensioError(truncated ? 'TRUNCATED' : 'INVALID_ZIP', `${format}: cannot inflate zip member ${JSON.stringify(entry.name)}: ${(cause as Error).message}`, { format, cause });
  }

  async function readEntry(entry: ZipEntry, options: { signal?: AbortSignal; checkCrc?: boolean } = {}): Promise<Uint8Array> {
    checkReadable(entry);
    if (entry.uncompressedSize > MAX_TENSOR_BYTES) {
      fail('LIMIT_EXCEEDED', `${format}: zip member ${JSON.stringify(entry.name)} is ${entry.uncompressedSize} bytes, more than one buffer holds (${MAX_TENSOR_BYTES}); stream it`);
    }
    const offset = await dataOffset(entry, options);
    let out: Uint8Array;
    if (entry.method === ZIP_METHOD_STORE) {
      out = new Uint8Array(entry.compressedSize);
      await readIntoFrom(source, out, offset, options.signal ? { signal: options.signal } : undefined);
    } else if (entry.uncompressedSize <= SYNC_INFLATE_BYTES && entry.compressedSize <= SYNC_INFLATE_BYTES) {
      const compressed = await source.read(offset, entry.compressedSize, options.signal ? { signal: options.signal } : undefined);
      try {
        const result = inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
        out = new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
      } catch (cause) {
        throw asZipError(cause, entry);
      }
      if (out.byteLength !== entry.uncompressedSize) {
        fail('SIZE_MISMATCH', `${format}: zip member ${JSON.stringify(entry.name)} inflated to ${out.byteLength} bytes, the directory says ${entry.uncompressedSize}`);
      }
    } else {
      out = new Uint8Array(entry.uncompressedSize);
      let at = 0;
      for await (const chunk of inflated(entry, offset, DEFAULT_STREAM_CHUNK_BYTES, options.signal)) {
        out.set(chunk, at);
        at += chunk.byteLength;
      }
    }
    if (options.checkCrc !== false) checkCrc(entry, zlibCrc32(out));
    return out;
  }

  async function* streamEntry(entry: ZipEntry, options: { signal?: AbortSignal; chunkBytes?: number; checkCrc?: boolean } = {}): AsyncGenerator<Uint8Array> {
    checkReadable(entry);
    const offset = await dataOffset(entry, options);
    const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES);
    const verify = options.checkCrc !== false;
    let crc = 0;
    if (entry.method === ZIP_METHOD_STORE) {
      for (let at = 0; at < entry.compressedSize; at += chunkBytes) {
        throwIfAborted(options.signal);
        const chunk = new Uint8Array(Math.min(chunkBytes, entry.compressedSize - at));
        await readIntoFrom(source, chunk, offset + at, options.signal ? { signal: options.signal } : undefined);
        if (verify) crc = zlibCrc32(chunk, crc);
        yield chunk;
      }
    } else {
      for await (const chunk of inflated(entry, offset, chunkBytes, options.signal)) {
        if (verify) crc = zlibCrc32(chunk, crc);
        yield chunk;
      }
    }
    if (verify) checkCrc(entry, crc);
  }

  return {
    format,
    source,
    entries,
    entry: (name) => byName.get(name),
    dataOffset,
    readEntry,
    streamEntry,
  };
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
