/**
 * Writing zip archives sequentially to a {@link ByteSink}: each entry streams through
 * (stored or deflated) with its CRC computed on the way, sizes and CRC follow in a data
 * descriptor, and the central directory (with zip64 records when needed) ends the file.
 * Output is deterministic: DOS time and date 0, fixed version fields, flags 0x0808.
 */
import { createDeflateRaw, crc32 as zlibCrc32 } from 'node:zlib';
import { errorFactory, throwIfAborted } from '../core/errors.js';
import { chunksOf, type TensorBytes } from '../storage/tensor-bytes.js';
import type { ByteSink } from '../storage/byte-sink.js';
import {
  ZIP16_MAX, ZIP32_MAX, ZIP64_END_BYTES, ZIP64_END_SIGNATURE, ZIP64_EXTRA_ID, ZIP64_LOCATOR_BYTES,
  ZIP64_LOCATOR_SIGNATURE, ZIP_CENTRAL_HEADER_BYTES, ZIP_CENTRAL_HEADER_SIGNATURE, ZIP_DESCRIPTOR_SIGNATURE,
  ZIP_END_BYTES, ZIP_END_SIGNATURE, ZIP_FLAG_DATA_DESCRIPTOR, ZIP_FLAG_UTF8, ZIP_LOCAL_HEADER_BYTES,
  ZIP_LOCAL_HEADER_SIGNATURE, ZIP_METHOD_DEFLATE, ZIP_METHOD_STORE, ZIP_PADDING_EXTRA_ID,
} from './constants.js';
import { zipCheckName } from './names.js';
import { zlibPipe } from './zlib-stream.js';
import type { ZipAddOptions, ZipWriter, ZipWriterOptions } from './types.js';
import { quoteInput } from '../core/quote.js';

const FLAGS = ZIP_FLAG_DATA_DESCRIPTOR | ZIP_FLAG_UTF8;
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;
/** Largest alignment accepted: the padding must fit one extra field. */
const MAX_ALIGNMENT = 2 ** 15;

interface WrittenEntry {
  name: Uint8Array;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  zip64: boolean;
}

/**
 * Creates a sequential zip writer over a sink. Entries are written in `add` order;
 * `close()` writes the central directory and closes the sink.
 *
 * @example
 * ```ts
 * const zip = zipCreateWriter(await atomicFileSink('out.npz'), { format: 'npz' });
 * await zip.add('x.npy', npyBytes);
 * await zip.add('big.bin', chunks, { size: 1 << 30, alignment: 64 });
 * await zip.close();
 * ```
 */
export function zipCreateWriter(sink: ByteSink, options: ZipWriterOptions = {}): ZipWriter {
  const format = options.format ?? 'zip';
  const fail = errorFactory(format);
  const written: WrittenEntry[] = [];
  const names = new Set<string>();
  let state: 'open' | 'busy' | 'failed' | 'closed' | 'aborted' = 'open';
  // Sinks report their own position, but counting here keeps offsets right for sinks that start mid-stream.
  let position = 0;

  async function put(bytes: Uint8Array): Promise<void> {
    await sink.write(bytes);
    position += bytes.byteLength;
  }

  function checkState(action: string): void {
    if (state !== 'open') fail('INVALID_STATE', `${format}: cannot ${action} a zip writer that is ${state === 'busy' ? 'busy with another entry' : state}`);
  }

  async function add(name: string, data: TensorBytes, addOptions: ZipAddOptions = {}): Promise<void> {
    checkState('add to');
    zipCheckName(name, format);
    if (names.has(name)) fail('DUPLICATE_NAME', `${format}: zip member ${quoteInput(name)} was already written`);
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.byteLength > ZIP16_MAX) fail('INVALID_NAME', `${format}: zip member name is ${nameBytes.byteLength} bytes, more than ${ZIP16_MAX}`);
    const method = (addOptions.method ?? 'store') === 'deflate' ? ZIP_METHOD_DEFLATE : ZIP_METHOD_STORE;
    if (addOptions.method !== undefined && addOptions.method !== 'store' && addOptions.method !== 'deflate') {
      fail('INVALID_ARGUMENT', `${format}: zip method must be 'store' or 'deflate', got ${quoteInput(addOptions.method)}`);
    }
    const alignment = addOptions.alignment;
    if (alignment !== undefined && (!Number.isInteger(alignment) || alignment < 1 || alignment > MAX_ALIGNMENT || (alignment & (alignment - 1)) !== 0)) {
      fail('INVALID_ARGUMENT', `${format}: zip alignment must be a power of two from 1 to ${MAX_ALIGNMENT}, got ${alignment}`);
    }
    const declared = data instanceof Uint8Array ? data.byteLength : addOptions.size;
    if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
      fail('INVALID_ARGUMENT', `${format}: size of ${quoteInput(name)} must be a non-negative integer, got ${declared}`);
    }
    // Deflate can grow incompressible data a little; leave room for that.
    const zip64 = declared === undefined || declared + Math.ceil(declared / 1024) + 1024 >= ZIP32_MAX;

    state = 'busy';
    names.add(name);
    try {
      const localHeaderOffset = position;
      await put(localHeader(nameBytes, method, zip64, localHeaderOffset, alignment));
      let crc = 0;
      let uncompressedSize = 0;
      let compressedSize = 0;
      const signal = addOptions.signal;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of chunksOf(data, signal)) {
          throwIfAborted(signal);
          crc = zlibCrc32(chunk, crc);
          uncompressedSize += chunk.byteLength;
          // The stream feeding the deflater asks for the next chunk while zlib still reads
          // this one, and a caller may reuse one buffer for every chunk: hand zlib a copy.
          yield chunk.slice();
        }
      }
      if (method === ZIP_METHOD_STORE) {
        // The write runs on the thread pool while this thread computes the chunk's CRC:
        // the two overlap, so a stored entry costs max(CRC, write), not their sum.
        for await (const chunk of chunksOf(data, signal)) {
          throwIfAborted(signal);
          const writing = put(chunk);
          crc = zlibCrc32(chunk, crc);
          uncompressedSize += chunk.byteLength;
          await writing;
        }
        compressedSize = uncompressedSize;
      } else {
        for await (const chunk of zlibPipe(counted(), createDeflateRaw({ chunkSize: 2 ** 20 }))) {
          compressedSize += chunk.byteLength;
          await put(chunk);
        }
      }
      if (declared !== undefined && uncompressedSize !== declared) {
        fail('SIZE_MISMATCH', `${format}: zip member ${quoteInput(name)} was declared as ${declared} bytes but received ${uncompressedSize}`);
      }
      if (!zip64 && (compressedSize >= ZIP32_MAX || uncompressedSize >= ZIP32_MAX)) {
        fail('SIZE_OVERFLOW', `${format}: zip member ${quoteInput(name)} grew to ${compressedSize} bytes, beyond a non-zip64 entry`);
      }
      await put(dataDescriptor(crc, compressedSize, uncompressedSize, zip64));
      written.push({ name: nameBytes, method, crc, compressedSize, uncompressedSize, localHeaderOffset, zip64 });
      state = 'open';
    } catch (err) {
      // The sink now holds a partial entry: only abort() makes sense.
      state = 'failed';
      throw err;
    }
  }

  async function close(): Promise<void> {
    checkState('close');
    state = 'busy';
    try {
      const directoryOffset = position;
      for (const entry of written) await put(centralHeader(entry));
      const directorySize = position - directoryOffset;
      const needZip64 = options.forceZip64 === true || written.length >= ZIP16_MAX || directoryOffset >= ZIP32_MAX || directorySize >= ZIP32_MAX;
      if (needZip64) {
        const zip64Offset = position;
        await put(zip64End(written.length, directorySize, directoryOffset));
        await put(zip64Locator(zip64Offset));
      }
      await put(endRecord(written.length, directorySize, directoryOffset));
      await sink.close();
      state = 'closed';
    } catch (err) {
      state = 'failed';
      throw err;
    }
  }

  async function abort(): Promise<void> {
    if (state === 'closed' || state === 'aborted') return;
    state = 'aborted';
    await sink.abort();
  }

  return {
    add,
    close,
    abort,
    get position() {
      return position;
    },
  };
}

/** Local header: zip64 extra (sizes 0, to be read from the descriptor) then torch's `FB` padding. */
function localHeader(name: Uint8Array, method: number, zip64: boolean, offset: number, alignment: number | undefined): Uint8Array {
  const zip64Extra = zip64 ? 20 : 0;
  let padding = 0;
  let paddingExtra = 0;
  if (alignment !== undefined) {
    paddingExtra = 4;
    const start = offset + ZIP_LOCAL_HEADER_BYTES + name.byteLength + zip64Extra + paddingExtra;
    padding = (alignment - (start % alignment)) % alignment;
    paddingExtra += padding;
  }
  const bytes = new Uint8Array(ZIP_LOCAL_HEADER_BYTES + name.byteLength + zip64Extra + paddingExtra);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, ZIP_LOCAL_HEADER_SIGNATURE, true);
  data.setUint16(4, zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, true);
  data.setUint16(6, FLAGS, true);
  data.setUint16(8, method, true);
  // time, date, CRC: 0 (the CRC follows in the descriptor)
  data.setUint32(18, zip64 ? ZIP32_MAX : 0, true);
  data.setUint32(22, zip64 ? ZIP32_MAX : 0, true);
  data.setUint16(26, name.byteLength, true);
  data.setUint16(28, zip64Extra + paddingExtra, true);
  bytes.set(name, ZIP_LOCAL_HEADER_BYTES);
  let at = ZIP_LOCAL_HEADER_BYTES + name.byteLength;
  if (zip64) {
    data.setUint16(at, ZIP64_EXTRA_ID, true);
    data.setUint16(at + 2, 16, true);
    at += 20; // both sizes 0 until the descriptor
  }
  if (alignment !== undefined) {
    data.setUint16(at, ZIP_PADDING_EXTRA_ID, true);
    data.setUint16(at + 2, padding, true);
    bytes.fill(0x5a, at + 4, at + 4 + padding); // 'Z', as torch fills it
  }
  return bytes;
}

function dataDescriptor(crc: number, compressedSize: number, uncompressedSize: number, zip64: boolean): Uint8Array {
  const bytes = new Uint8Array(zip64 ? 24 : 16);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, ZIP_DESCRIPTOR_SIGNATURE, true);
  data.setUint32(4, crc, true);
  if (zip64) {
    data.setBigUint64(8, BigInt(compressedSize), true);
    data.setBigUint64(16, BigInt(uncompressedSize), true);
  } else {
    data.setUint32(8, compressedSize, true);
    data.setUint32(12, uncompressedSize, true);
  }
  return bytes;
}

function centralHeader(entry: WrittenEntry): Uint8Array {
  const bigUncompressed = entry.uncompressedSize >= ZIP32_MAX;
  const bigCompressed = entry.compressedSize >= ZIP32_MAX;
  const bigOffset = entry.localHeaderOffset >= ZIP32_MAX;
  const zip64Fields = Number(bigUncompressed) + Number(bigCompressed) + Number(bigOffset);
  const extraLength = zip64Fields > 0 ? 4 + 8 * zip64Fields : 0;
  const bytes = new Uint8Array(ZIP_CENTRAL_HEADER_BYTES + entry.name.byteLength + extraLength);
  const data = new DataView(bytes.buffer);
  const version = entry.zip64 || zip64Fields > 0 ? VERSION_ZIP64 : VERSION_DEFAULT;
  data.setUint32(0, ZIP_CENTRAL_HEADER_SIGNATURE, true);
  data.setUint16(4, version, true);
  data.setUint16(6, version, true);
  data.setUint16(8, FLAGS, true);
  data.setUint16(10, entry.method, true);
  data.setUint32(16, entry.crc, true);
  data.setUint32(20, bigCompressed ? ZIP32_MAX : entry.compressedSize, true);
  data.setUint32(24, bigUncompressed ? ZIP32_MAX : entry.uncompressedSize, true);
  data.setUint16(28, entry.name.byteLength, true);
  data.setUint16(30, extraLength, true);
  data.setUint32(42, bigOffset ? ZIP32_MAX : entry.localHeaderOffset, true);
  bytes.set(entry.name, ZIP_CENTRAL_HEADER_BYTES);
  if (zip64Fields > 0) {
    let at = ZIP_CENTRAL_HEADER_BYTES + entry.name.byteLength;
    data.setUint16(at, ZIP64_EXTRA_ID, true);
    data.setUint16(at + 2, 8 * zip64Fields, true);
    at += 4;
    for (const [big, value] of [[bigUncompressed, entry.uncompressedSize], [bigCompressed, entry.compressedSize], [bigOffset, entry.localHeaderOffset]] as const) {
      if (!big) continue;
      data.setBigUint64(at, BigInt(value), true);
      at += 8;
    }
  }
  return bytes;
}

function zip64End(count: number, directorySize: number, directoryOffset: number): Uint8Array {
  const bytes = new Uint8Array(ZIP64_END_BYTES);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, ZIP64_END_SIGNATURE, true);
  data.setBigUint64(4, BigInt(ZIP64_END_BYTES - 12), true);
  data.setUint16(12, VERSION_ZIP64, true);
  data.setUint16(14, VERSION_ZIP64, true);
  data.setBigUint64(24, BigInt(count), true);
  data.setBigUint64(32, BigInt(count), true);
  data.setBigUint64(40, BigInt(directorySize), true);
  data.setBigUint64(48, BigInt(directoryOffset), true);
  return bytes;
}

function zip64Locator(zip64Offset: number): Uint8Array {
  const bytes = new Uint8Array(ZIP64_LOCATOR_BYTES);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, ZIP64_LOCATOR_SIGNATURE, true);
  data.setBigUint64(8, BigInt(zip64Offset), true);
  data.setUint32(16, 1, true);
  return bytes;
}

function endRecord(count: number, directorySize: number, directoryOffset: number): Uint8Array {
  const bytes = new Uint8Array(ZIP_END_BYTES);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, ZIP_END_SIGNATURE, true);
  data.setUint16(8, Math.min(count, ZIP16_MAX), true);
  data.setUint16(10, Math.min(count, ZIP16_MAX), true);
  data.setUint32(12, Math.min(directorySize, ZIP32_MAX), true);
  data.setUint32(16, Math.min(directoryOffset, ZIP32_MAX), true);
  return bytes;
}
