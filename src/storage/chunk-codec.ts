/**
 * Codecs for chunked tensor data: how the stored bytes of one chunk turn into its
 * decoded bytes, streamed piece by piece so that memory stays bounded whatever the
 * decoded size. `raw` is here; deflate is in `inflate-codec.ts`; zstd frames (zTensor),
 * Parquet page codecs and HDF5/Zarr filters plug in the same way.
 */
import { throwIfAborted } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { readIntoFrom, type ByteSource } from './byte-source.js';

/** Where a chunk's stored (encoded) bytes are. */
export interface StoredRange {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
}

/** Options a codec receives for one decode. */
export interface ChunkDecodeOptions {
  /** Largest piece to yield; a codec may yield smaller ones. */
  readonly pieceBytes: number;
  /**
   * The decoded size the chunk declares. A codec should stop producing soon after
   * passing it (the caller refuses the excess as a bomb); it need not check it exactly.
   */
  readonly decodedLength: number;
  readonly signal?: AbortSignal;
}

/**
 * Turns the stored bytes of one chunk into its decoded bytes.
 *
 * Contract: `decode` yields the decoded bytes in order, each piece a fresh buffer or a
 * view the caller may keep (never reused). Stopping the iteration early releases
 * everything the codec holds. Errors may be plain `Error`s (the chunk reader turns them
 * into a `TensioError` naming the chunk). Memory held by a codec must not depend on the
 * chunk's size: that is the point of chunked locations.
 */
export interface ChunkCodec {
  /** Short name for messages and `inspect`: `'raw'`, `'deflate-raw'`, later `'zstd'`. */
  readonly name: string;
  /** Streams the decoded bytes of `stored`. */
  decode(stored: StoredRange, options: ChunkDecodeOptions): AsyncIterable<Uint8Array>;
  /**
   * One-shot decode for small chunks (faster than streaming): `stored` is the whole
   * stored chunk; must throw rather than produce more than `maxOutputBytes`.
   */
  decodeWhole?(stored: Uint8Array, maxOutputBytes: number): Uint8Array;
  /**
   * Decodes the whole chunk into `out` (exactly its `decodedLength` bytes), for a reader
   * that places each chunk in one result buffer (`readChunkedBytes`): saves a copy of
   * the decoded bytes when a codec builds them anyway (table batches). Must fill all of
   * `out` or throw.
   */
  decodeInto?(stored: StoredRange, out: Uint8Array, signal?: AbortSignal): Promise<void>;
  /**
   * How many chunks of this codec `readChunkedBytes` may decode at once with
   * `decodeInto` (default 1: one after the other). For codecs whose work runs off the
   * main thread (zlib on libuv's pool), so that a whole read keeps every core busy; the
   * codec bounds its own memory per call.
   */
  readonly concurrency?: number;
}

/**
 * The identity codec: the stored bytes are the decoded bytes (uncompressed pages,
 * contiguous HDF5 chunks, stored zip members).
 *
 * @example
 * ```ts
 * const chunk: ByteChunk = { source, offset: 4096, storedLength: 1024, decodedLength: 1024, byteLength: 1024, codec: rawCodec, format: 'npz', label: 'x' };
 * ```
 */
export const rawCodec: ChunkCodec = {
  name: 'raw',
  async *decode(stored, options) {
    const pieceBytes = Math.max(1, options.pieceBytes);
    for (let at = 0; at < stored.length; at += pieceBytes) {
      throwIfAborted(options.signal);
      const piece = allocateUninitialized(Math.min(pieceBytes, stored.length - at));
      await readIntoFrom(stored.source, piece, stored.offset + at, options.signal ? { signal: options.signal } : undefined);
      yield piece;
    }
  },
  decodeWhole(stored) {
    return stored;
  },
};
