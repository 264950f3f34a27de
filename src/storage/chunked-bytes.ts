/**
 * Chunked bytes: a tensor (or any byte run) stored as an ordered list of chunks, each
 * with its own stored range and codec. Reading any byte range of the whole decodes only
 * the chunks it touches, one at a time, in bounded memory; a chunk decoded to its end
 * has its size and checksum checked.
 *
 * This is the byte plumbing behind the `chunks` location of the model seam
 * (`model/create-reader.ts`): deflated zip members today (one chunk, one deflate stream
 * with the `.npy` header inside it), zstd-seekable frames, Parquet pages and HDF5/Zarr
 * chunks next.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { TensioError, throwIfAborted, type TensioErrorCode } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { readIntoFrom, type ByteSource } from './byte-source.js';
import { rawCodec, type ChunkCodec } from './chunk-codec.js';

/** Chunks whose stored and decoded sizes are both at most this are decoded in one call. */
const WHOLE_DECODE_BYTES = 4 * 2 ** 20;

/** A checksum over a chunk's decoded bytes (all of them, `skip` and trailing bytes included). */
export interface ChunkCheck {
  readonly algorithm: 'crc32';
  /** The expected value (unsigned 32-bit for crc32). */
  readonly expected: number;
}

/**
 * One chunk. Its stored bytes `[offset, offset + storedLength)` of `source` decode
 * through `codec` to `decodedLength` bytes, of which `[skip, skip + byteLength)` belong
 * to the tensor (the rest, e.g. a `.npy` header inside a compressed zip member, is
 * decoded and dropped). Chunks of one tensor follow each other: the tensor's bytes are
 * the concatenation of every chunk's `byteLength` bytes, in list order.
 */
export interface ByteChunk {
  readonly source: ByteSource;
  readonly offset: number;
  readonly storedLength: number;
  readonly codec: ChunkCodec;
  /** Every byte the stored bytes decode to; more is a bomb, fewer is truncation. */
  readonly decodedLength: number;
  /** Decoded bytes before this chunk's share of the tensor. Default 0. */
  readonly skip?: number;
  /** Bytes this chunk contributes to the tensor. */
  readonly byteLength: number;
  /** Checked when the chunk is decoded to its end (a full read or stream, never a partial slice). */
  readonly check?: ChunkCheck;
  /** Format name for errors, e.g. `'npz'`. */
  readonly format: string;
  /** What the chunk is, for messages: `'zip member "x.npy"'`. */
  readonly label: string;
  /** Code for stored bytes the codec cannot decode. Default `'INVALID_HEADER'`. */
  readonly corruptCode?: TensioErrorCode;
}

/** Options for {@link streamChunkedBytes}. */
export interface ChunkedReadOptions {
  /** First byte wanted (of the concatenation), default 0. */
  start?: number;
  /** End of the bytes wanted (exclusive), default the total. */
  end?: number;
  /** Largest piece yielded, default 8 MiB. */
  pieceBytes?: number;
  signal?: AbortSignal;
}

/**
 * Total bytes of a chunk list (the tensor's byte length), checking each chunk's numbers.
 *
 * @example
 * ```ts
 * chunkedByteLength([chunk]); // chunk.byteLength
 * ```
 */
export function chunkedByteLength(chunks: readonly ByteChunk[]): number {
  let total = 0;
  for (const chunk of chunks) {
    const skip = chunk.skip ?? 0;
    for (const value of [chunk.offset, chunk.storedLength, chunk.decodedLength, skip, chunk.byteLength]) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TensioError('SIZE_OVERFLOW', `${chunk.format}: ${chunk.label} has a size or offset ${value} that is not a safe non-negative integer`, { format: chunk.format });
      }
    }
    if (skip + chunk.byteLength > chunk.decodedLength) {
      throw new TensioError('SIZE_MISMATCH', `${chunk.format}: ${chunk.label} holds ${chunk.byteLength} tensor bytes after ${skip} others, more than the ${chunk.decodedLength} it decodes to`, { format: chunk.format });
    }
    total += chunk.byteLength;
  }
  if (!Number.isSafeInteger(total)) throw new TensioError('SIZE_OVERFLOW', `chunked tensor of ${total} bytes is too large`);
  return total;
}

/**
 * Streams bytes `[start, end)` of the concatenation of `chunks`, decoding one chunk at
 * a time. A chunk is decoded from its start (compressed streams cannot be entered in
 * the middle) and only as far as needed; when the range covers all of a chunk's bytes it
 * is decoded to its very end and its size and checksum are checked.
 *
 * @example
 * ```ts
 * for await (const piece of streamChunkedBytes(chunks, { start: rowBytes * 10, end: rowBytes * 20 })) sink(piece);
 * ```
 */
export async function* streamChunkedBytes(chunks: readonly ByteChunk[], options: ChunkedReadOptions = {}): AsyncGenerator<Uint8Array> {
  const total = chunkedByteLength(chunks);
  const start = options.start ?? 0;
  const end = options.end ?? total;
  checkByteRange(total, start, end);
  const pieceBytes = Math.max(1, options.pieceBytes ?? 8 * 2 ** 20);
  if (start === end && total > 0) return;
  let base = 0;
  for (const chunk of chunks) {
    const chunkStart = base;
    const chunkEnd = base + chunk.byteLength;
    base = chunkEnd;
    const covered = start <= chunkStart && chunkEnd <= end;
    if (!covered && (chunkEnd <= start || chunkStart >= end)) continue;
    const skip = chunk.skip ?? 0;
    const from = skip + Math.max(start, chunkStart) - chunkStart;
    const to = skip + Math.min(end, chunkEnd) - chunkStart;
    yield* decodeChunk(chunk, from, to, covered, pieceBytes, options.signal);
  }
}

/**
 * Reads bytes `[start, end)` of chunked data into one new buffer (from `allocate` when
 * given: a buffer of exactly that length nothing else holds). The caller checks that
 * one buffer can hold it.
 *
 * @example
 * ```ts
 * const tensorBytes = await readChunkedBytes(chunks, 0, chunkedByteLength(chunks));
 * ```
 */
export async function readChunkedBytes(chunks: readonly ByteChunk[], start: number, end: number, signal?: AbortSignal, allocate: (length: number) => Uint8Array = allocateUninitialized): Promise<Uint8Array> {
  const out = allocate(end - start);
  if (out.byteLength !== end - start) throw new TensioError('SIZE_MISMATCH', `chunked data: a buffer of ${out.byteLength} bytes was given for ${end - start}`);
  const only = chunks.length === 1 ? chunks[0]! : undefined;
  if (only && only.codec === rawCodec && start === 0 && (only.skip ?? 0) === 0 && end === only.decodedLength && only.storedLength === only.decodedLength) {
    // A whole raw chunk (a stored zip member): straight into the result, checked there.
    await readIntoFrom(only.source, out, only.offset, signal ? { signal } : undefined);
    if (only.check && zlibCrc32(out) >>> 0 !== only.check.expected >>> 0) {
      throw new TensioError('CHECKSUM_MISMATCH', `${only.format}: CRC-32 of ${only.label} is ${hex(zlibCrc32(out))}, expected ${hex(only.check.expected)}`, { format: only.format });
    }
    return out;
  }
  if (chunks.every((chunk) => isPlainRaw(chunk) || decodesInto(chunk))) {
    // Raw chunks with nothing to check (HDF5 chunk runs), and chunks whose codec decodes
    // into a buffer (table batches): each straight into its place in the result.
    checkByteRange(chunkedByteLength(chunks), start, end);
    const jobs: (() => Promise<void>)[] = [];
    let base = 0;
    for (const chunk of chunks) {
      const lo = Math.max(start, base);
      const hi = Math.min(end, base + chunk.byteLength);
      const from = base;
      if (lo < hi) jobs.push(() => readChunkInto(chunk, out.subarray(lo - start, hi - start), lo - from, signal));
      base += chunk.byteLength;
    }
    // Overlapping decodes only when every codec allows them (HDF5's zlib chunks).
    await runBounded(jobs, chunks.reduce((width, chunk) => Math.min(width, chunk.codec.concurrency ?? 1), Number.POSITIVE_INFINITY));
    return out;
  }
  let at = 0;
  for await (const piece of streamChunkedBytes(chunks, { start, end, ...(signal ? { signal } : {}) })) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  if (at !== out.byteLength) throw new TensioError('TRUNCATED', `chunked data ended after ${at} of ${out.byteLength} bytes`);
  return out;
}

/**
 * Runs `jobs` with at most `width` at a time, in order of start; the first failure stops
 * new starts and is thrown once the running ones have settled.
 */
async function runBounded(jobs: readonly (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(width, jobs.length)) }, worker);
  const results = await Promise.allSettled(workers);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

function checkByteRange(total: number, start: number, end: number): void {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= total)) {
    throw new TensioError('INVALID_SLICE', `byte range ${start}..${end} is outside the chunked data (${total} bytes)`);
  }
}

/** A chunk whose codec decodes into a buffer, all of whose decoded bytes are tensor bytes, with no checksum to take. */
function decodesInto(chunk: ByteChunk): boolean {
  return chunk.codec.decodeInto !== undefined && (chunk.skip ?? 0) === 0 && chunk.byteLength === chunk.decodedLength && chunk.check === undefined;
}

/** Tensor bytes `[from, from + out.byteLength)` of a chunk that {@link isPlainRaw} or {@link decodesInto} accepts, into `out`. */
async function readChunkInto(chunk: ByteChunk, out: Uint8Array, from: number, signal?: AbortSignal): Promise<void> {
  if (isPlainRaw(chunk)) {
    await readIntoFrom(chunk.source, out, chunk.offset + from, signal ? { signal } : undefined);
    return;
  }
  if (from === 0 && out.byteLength === chunk.decodedLength) {
    throwIfAborted(signal);
    try {
      await chunk.codec.decodeInto!({ source: chunk.source, offset: chunk.offset, length: chunk.storedLength }, out, signal);
    } catch (cause) {
      throw asChunkError(cause, chunk);
    }
    return;
  }
  // Part of the chunk (a slice's first or last): decoded piece by piece.
  let at = 0;
  for await (const piece of decodeChunk(chunk, from, from + out.byteLength, false, 8 * 2 ** 20, signal)) {
    out.set(piece, at);
    at += piece.byteLength;
  }
}

/** A chunk whose stored bytes are its tensor bytes from the first on, with no checksum to take. */
function isPlainRaw(chunk: ByteChunk): boolean {
  return chunk.codec === rawCodec && (chunk.skip ?? 0) === 0 && chunk.storedLength === chunk.decodedLength && chunk.check === undefined;
}

/** Decoded bytes `[from, to)` of one chunk; `toEnd` decodes past `to` to the end and checks. */
async function* decodeChunk(chunk: ByteChunk, from: number, to: number, toEnd: boolean, pieceBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const { format, label } = chunk;
  let position = 0;
  let crc = 0;
  const checking = toEnd && chunk.check !== undefined;
  const stop = toEnd ? chunk.decodedLength : to;
  try {
    for await (const piece of decodedPieces(chunk, pieceBytes, signal)) {
      const pieceStart = position;
      position += piece.byteLength;
      if (position > chunk.decodedLength) {
        throw new TensioError('LIMIT_EXCEEDED', `${format}: ${label} decodes past its declared ${chunk.decodedLength} bytes (${position} so far)`, { format });
      }
      if (checking) crc = zlibCrc32(piece, crc);
      const lo = Math.max(from, pieceStart);
      const hi = Math.min(to, position);
      // Codecs may hand out larger pieces (a whole small chunk); callers get at most pieceBytes.
      for (let at = lo; at < hi; at += pieceBytes) yield piece.subarray(at - pieceStart, Math.min(hi, at + pieceBytes) - pieceStart);
      if (position >= stop && !toEnd) return; // stops the codec: nothing past `to` is decoded
    }
  } catch (cause) {
    throw asChunkError(cause, chunk);
  }
  if (!toEnd) {
    if (position < to) throw new TensioError('TRUNCATED', `${format}: ${label} decoded to ${position} bytes, ${to} needed`, { format });
    return;
  }
  if (position !== chunk.decodedLength) {
    throw new TensioError('SIZE_MISMATCH', `${format}: ${label} decoded to ${position} bytes, ${chunk.decodedLength} declared`, { format });
  }
  if (checking && crc >>> 0 !== chunk.check!.expected >>> 0) {
    throw new TensioError('CHECKSUM_MISMATCH', `${format}: CRC-32 of ${label} is ${hex(crc)}, expected ${hex(chunk.check!.expected)}`, { format });
  }
}

async function* decodedPieces(chunk: ByteChunk, pieceBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  throwIfAborted(signal);
  const stored = { source: chunk.source, offset: chunk.offset, length: chunk.storedLength };
  if (chunk.codec.decodeWhole && chunk.storedLength <= WHOLE_DECODE_BYTES && chunk.decodedLength <= WHOLE_DECODE_BYTES) {
    const bytes = await chunk.source.read(chunk.offset, chunk.storedLength, signal ? { signal } : undefined);
    // One past the declared size, so that a longer stream shows up as a bomb, not a silent cut.
    yield chunk.codec.decodeWhole(bytes, chunk.decodedLength + 1);
    return;
  }
  yield* chunk.codec.decode(stored, { pieceBytes, decodedLength: chunk.decodedLength, ...(signal ? { signal } : {}) });
}

function asChunkError(cause: unknown, chunk: ByteChunk): unknown {
  if (cause instanceof TensioError) return cause;
  const { format, label } = chunk;
  const code = (cause as { code?: string } | undefined)?.code;
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return new TensioError('LIMIT_EXCEEDED', `${format}: ${label} decodes past its declared ${chunk.decodedLength} bytes`, { format, cause });
  }
  const truncated = code === 'Z_BUF_ERROR';
  return new TensioError(truncated ? 'TRUNCATED' : chunk.corruptCode ?? 'INVALID_HEADER', `${format}: cannot decode ${label} (${chunk.codec.name}): ${(cause as Error).message}`, { format, cause });
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
