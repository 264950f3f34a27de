/**
 * Reading zip archives over a {@link ByteSource}: the end records and central directory
 * once, then entries on request (stored or deflated, size and CRC checked).
 */
import { errorFactory } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES, MAX_TENSOR_BYTES, ZIP_MAX_DIRECTORY_BYTES, ZIP_MAX_ENTRIES, ZIP_MAX_ENTRY_BYTES } from '../core/limits.js';
import { readIntoFrom, type ByteSource } from '../storage/byte-source.js';
import { rawCodec } from '../storage/chunk-codec.js';
import { readChunkedBytes, streamChunkedBytes, type ByteChunk } from '../storage/chunked-bytes.js';
import { inflateRawCodec } from '../storage/inflate-codec.js';
import {
  ZIP64_END_BYTES, ZIP64_LOCATOR_BYTES, ZIP_END_BYTES, ZIP_FLAG_ENCRYPTED, ZIP_LOCAL_HEADER_BYTES,
  ZIP_LOCAL_HEADER_SIGNATURE, ZIP_MAX_COMMENT_BYTES, ZIP_METHOD_DEFLATE, ZIP_METHOD_STORE,
} from './constants.js';
import { zipApplyZip64End, zipFindEnd, zipParseCentralDirectory, zipReadLocator } from './directory.js';
import type { ZipArchive, ZipEntry, ZipEntryChunkOptions, ZipOpenOptions } from './types.js';
import { quoteInput } from '../core/quote.js';

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
      fail('INVALID_ZIP', `${format}: no local header for ${quoteInput(entry.name)} at offset ${at}`, { offset: at });
    }
    const nameLength = data.getUint16(26, true);
    const extraLength = data.getUint16(28, true);
    const offset = at + ZIP_LOCAL_HEADER_BYTES + nameLength + extraLength;
    if (offset + entry.compressedSize > directoryOffset) {
      fail('INVALID_ZIP', `${format}: data of ${quoteInput(entry.name)} (${entry.compressedSize} bytes at ${offset}) runs into the central directory at ${directoryOffset}`, { offset });
    }
    offsets.set(entry, offset);
    return offset;
  }

  function checkReadable(entry: ZipEntry): void {
    if (entry.flags & ZIP_FLAG_ENCRYPTED) fail('UNSUPPORTED_FEATURE', `${format}: zip member ${quoteInput(entry.name)} is encrypted`);
    if (entry.method !== ZIP_METHOD_STORE && entry.method !== ZIP_METHOD_DEFLATE) {
      fail('UNSUPPORTED_FEATURE', `${format}: zip member ${quoteInput(entry.name)} uses compression method ${entry.method} (only 0 stored and 8 deflate are supported)`);
    }
    if (entry.uncompressedSize > maxEntryBytes) {
      fail('LIMIT_EXCEEDED', `${format}: zip member ${quoteInput(entry.name)} expands to ${entry.uncompressedSize} bytes, more than the limit ${maxEntryBytes} (raise maxEntryBytes)`);
    }
  }

  /**
   * The entry as one chunk of chunked bytes: stored → raw codec, deflated → bounded
   * streaming inflate. `skip`/`byteLength` select the part a tensor uses (a `.npy`
   * header precedes the array in an npz member); the CRC-32 covers the whole entry and is
   * checked whenever the entry is decoded to its end.
   */
  async function entryChunk(entry: ZipEntry, options: ZipEntryChunkOptions = {}): Promise<ByteChunk> {
    checkReadable(entry);
    const offset = await dataOffset(entry, options);
    const skip = options.skip ?? 0;
    const byteLength = options.byteLength ?? entry.uncompressedSize - skip;
    return {
      source,
      offset,
      storedLength: entry.compressedSize,
      codec: entry.method === ZIP_METHOD_STORE ? rawCodec : inflateRawCodec,
      decodedLength: entry.uncompressedSize,
      skip,
      byteLength,
      ...(options.checkCrc !== false ? { check: { algorithm: 'crc32', expected: entry.crc32 } } : {}),
      format,
      label: `zip member ${quoteInput(entry.name)}`,
      corruptCode: 'INVALID_ZIP',
    };
  }

  async function readEntry(entry: ZipEntry, options: { signal?: AbortSignal; checkCrc?: boolean } = {}): Promise<Uint8Array> {
    checkReadable(entry);
    if (entry.uncompressedSize > MAX_TENSOR_BYTES) {
      fail('LIMIT_EXCEEDED', `${format}: zip member ${quoteInput(entry.name)} is ${entry.uncompressedSize} bytes, more than one buffer holds (${MAX_TENSOR_BYTES}); stream it`);
    }
    const chunk = await entryChunk(entry, options);
    if (entry.method === ZIP_METHOD_STORE && !chunk.check) {
      const out = new Uint8Array(entry.compressedSize);
      await readIntoFrom(source, out, chunk.offset, options.signal ? { signal: options.signal } : undefined);
      return out;
    }
    return readChunkedBytes([chunk], 0, entry.uncompressedSize, options.signal);
  }

  async function* streamEntry(entry: ZipEntry, options: { signal?: AbortSignal; chunkBytes?: number; checkCrc?: boolean } = {}): AsyncGenerator<Uint8Array> {
    const chunk = await entryChunk(entry, options);
    yield* streamChunkedBytes([chunk], {
      pieceBytes: Math.max(1, options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  return {
    format,
    source,
    entries,
    entry: (name) => byName.get(name),
    dataOffset,
    readEntry,
    streamEntry,
    entryChunk,
  };
}
