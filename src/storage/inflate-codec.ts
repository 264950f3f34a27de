/**
 * Raw deflate (zip method 8, `np.savez_compressed`) as a {@link ChunkCodec}, streamed
 * with bounded memory whatever the compression ratio.
 *
 * Why not just pipe the compressed bytes into `zlib.createInflateRaw()`: a zlib stream
 * processes each written buffer to its end and buffers all of the output, whatever the
 * reader's backpressure says. Deflate expands up to 1032:1, so one 1 MiB write of a zip
 * bomb buffers 1 GiB (this is how `verify` of a 4 MB npz reached 4.3 GB). Here compressed
 * bytes go in small pieces, one at a time, the next only once the previous piece's
 * output has been taken; pieces shrink when the data compresses well.
 */
import { createGunzip, createInflateRaw, gunzipSync, inflateRawSync, type Gunzip, type InflateRaw } from 'node:zlib';
import { throwIfAborted } from '../core/errors.js';
import type { ChunkCodec, ChunkDecodeOptions, StoredRange } from './chunk-codec.js';

/** Compressed bytes read from the source per request (then fed to zlib in pieces). */
const COMPRESSED_READ_BYTES = 2 ** 20;
/**
 * Largest compressed piece in flight. Deflate's worst ratio (1032:1) makes this at most
 * about 66 MiB of output held at once, even for a hostile stream that turns from
 * incompressible to all zeros.
 */
const MAX_PIECE_BYTES = 64 * 2 ** 10;
const MIN_PIECE_BYTES = 4 * 2 ** 10;
/** Output aimed at per piece: pieces are sized from the ratio seen so far. */
const TARGET_PIECE_OUTPUT_BYTES = 4 * 2 ** 20;

/**
 * Raw deflate. Streaming holds at most one compressed read (1 MiB) and the output of
 * one compressed piece (≤ 64 KiB in, typically ~4 MiB out).
 *
 * @example
 * ```ts
 * for await (const piece of inflateRawCodec.decode({ source, offset, length }, { pieceBytes: 2 ** 20, decodedLength })) use(piece);
 * ```
 */
export const inflateRawCodec: ChunkCodec = {
  name: 'deflate-raw',
  decode: (stored, options) => inflatePieces(stored, options, createInflateRaw),
  decodeWhole(stored, maxOutputBytes) {
    const result = inflateRawSync(stored, { maxOutputLength: Math.max(1, maxOutputBytes) });
    return new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
  },
};

/**
 * gzip (RFC 1952; concatenated members read as one stream, as `gzip -d` does), with the
 * same bounded memory as {@link inflateRawCodec}. Used for `.csv.gz`.
 *
 * @example
 * ```ts
 * for await (const text of gunzipCodec.decode({ source, offset: 0, length: source.size }, { pieceBytes: 2 ** 20, decodedLength: limit })) scan(text);
 * ```
 */
export const gunzipCodec: ChunkCodec = {
  name: 'gzip',
  decode: (stored, options) => inflatePieces(stored, options, createGunzip),
  decodeWhole(stored, maxOutputBytes) {
    const result = gunzipSync(stored, { maxOutputLength: Math.max(1, maxOutputBytes) });
    return new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
  },
};

async function* inflatePieces(stored: StoredRange, options: ChunkDecodeOptions, create: (options: { chunkSize: number }) => InflateRaw | Gunzip): AsyncGenerator<Uint8Array> {
  const { signal } = options;
  const inflater = create({ chunkSize: Math.max(64 * 2 ** 10, Math.min(options.pieceBytes, 4 * 2 ** 20)) });
  const ready: Uint8Array[] = [];
  let failure: unknown;
  let ended = false;
  let writing = false;
  let inputDone = false;
  let produced = 0;
  let fed = 0;
  let read = 0;
  let block: Uint8Array | undefined;
  let blockAt = 0;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  // Flowing mode: output arrives here as zlib makes it; only one piece is ever in flight.
  inflater.on('data', (buffer: Buffer) => {
    produced += buffer.byteLength;
    ready.push(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
    notify();
  });
  inflater.on('error', (error) => {
    failure = error;
    notify();
  });
  inflater.on('end', () => {
    ended = true;
    notify();
  });

  function pieceLength(): number {
    const ratio = fed === 0 ? 256 : Math.max(1, produced / fed);
    return Math.max(MIN_PIECE_BYTES, Math.min(MAX_PIECE_BYTES, Math.floor(TARGET_PIECE_OUTPUT_BYTES / ratio)));
  }

  async function feed(): Promise<void> {
    if (read >= stored.length && (!block || blockAt >= block.byteLength)) {
      inputDone = true;
      inflater.end();
      return;
    }
    if (!block || blockAt >= block.byteLength) {
      const length = Math.min(COMPRESSED_READ_BYTES, stored.length - read);
      // A fresh buffer per read: zlib keeps a reference to what it is given until it is done.
      block = (await stored.source.read(stored.offset + read, length, signal ? { signal } : undefined)).slice();
      read += length;
      blockAt = 0;
    }
    const piece = block.subarray(blockAt, blockAt + pieceLength());
    blockAt += piece.byteLength;
    fed += piece.byteLength;
    writing = true;
    inflater.write(piece, () => {
      writing = false;
      notify();
    });
  }

  try {
    for (;;) {
      if (ready.length > 0) {
        yield ready.shift()!;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      throwIfAborted(signal);
      // Past the declared size: stop feeding; the caller reports the bomb.
      if (produced > options.decodedLength) return;
      if (!writing && !inputDone) {
        await feed();
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    inflater.destroy();
  }
}
