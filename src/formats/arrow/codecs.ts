/**
 * Arrow body compression (BodyCompression, method BUFFER): each compressed buffer is an
 * int64 little-endian uncompressed length (−1: the bytes follow uncompressed) then one
 * LZ4 frame or zstd frame. Decoding is bounded by the size the batch implies for the
 * buffer: a longer declared length, or a frame header declaring more, is refused before
 * anything is decompressed (decompression bombs). zstd frames decode through the
 * system's libzstd in tensio's addon when it has one (`storage/native-zstd.ts`: into a
 * buffer of the declared length, on libuv's threads, never past it), else through
 * @mongodb-js/zstd when the frame's headers bound what it decodes to, and otherwise
 * through a decoder that stops at the declared length (`storage/zstd-frame.ts`); LZ4
 * frames through lz4-napi.
 */
import { errorFactory, TensioError } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { addonZstdDecoder } from '../../storage/native-zstd.js';
import { ZSTD_MAGIC, zstdDeclaredSize, zstdDecodeExactly, zstdFrameFits } from '../../storage/zstd-frame.js';

const fail = errorFactory('arrow');

/** Codec numbers of Arrow's `CompressionType`. */
export const ARROW_CODEC = { lz4: 0, zstd: 1 } as const;

interface Lz4Module { decompressFrameSync(data: Uint8Array): Uint8Array; compressFrameSync(data: Uint8Array): Uint8Array }
interface ZstdModule { decompress(data: Uint8Array): Promise<Uint8Array>; compress(data: Uint8Array, level?: number): Promise<Uint8Array> }

let lz4Module: Promise<Lz4Module> | undefined;
let zstdModule: Promise<ZstdModule> | undefined;

/** lz4-napi, loaded on first use. */
export function loadLz4(): Promise<Lz4Module> {
  return (lz4Module ??= import('lz4-napi').then((mod) => ((mod as { default?: Lz4Module }).default ?? mod) as Lz4Module));
}

/** @mongodb-js/zstd, loaded on first use. */
export function loadZstd(): Promise<ZstdModule> {
  return (zstdModule ??= import('@mongodb-js/zstd').then((mod) => ((mod as { default?: ZstdModule }).default ?? mod) as unknown as ZstdModule));
}

/** The content size a zstd frame (`storage/zstd-frame.ts`) or LZ4 frame header declares, when it declares one. */
export function frameContentSize(frame: Uint8Array): number | undefined {
  if (frame.byteLength < 6) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const magic = view.getUint32(0, true);
  if (magic === ZSTD_MAGIC) return zstdDeclaredSize(frame);
  if (magic === 0x184d2204) {
    const flags = frame[4]!;
    if ((flags & 0x08) === 0 || frame.byteLength < 14) return undefined;
    return Number(view.getBigUint64(6, true));
  }
  return undefined;
}

/** The block maximum sizes an LZ4 frame descriptor's BD byte names (codes 4-7). */
const LZ4_BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/**
 * What the LZ4 frames of `input` can decode to at most, read from their block headers
 * alone (a compressed block decodes to at most its frame's block maximum, a stored block
 * to its size), and the largest block maximum among them; undefined when the headers do
 * not walk cleanly to the end of the input (the decoder then says what is wrong). lz4-napi
 * takes no output limit, so this is what bounds it: a frame without a content size could
 * otherwise expand about 255 times.
 */
export function lz4FramesBound(input: Uint8Array): { bound: number; blockMax: number } | undefined {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let at = 0;
  let bound = 0;
  let largest = 0;
  while (at < input.byteLength) {
    if (at + 4 > input.byteLength) return undefined;
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (at + 8 > input.byteLength) return undefined;
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    if (magic !== 0x184d2204 || at + 7 > input.byteLength) return undefined;
    const flags = input[at + 4]!;
    const blockMax = LZ4_BLOCK_MAX_BYTES[(input[at + 5]! >> 4) & 7]!;
    if (blockMax === 0) return undefined;
    largest = Math.max(largest, blockMax);
    at += 7 + ((flags & 0x08) ? 8 : 0) + ((flags & 0x01) ? 4 : 0);
    for (;;) {
      if (at + 4 > input.byteLength) return undefined;
      const header = view.getUint32(at, true);
      at += 4;
      if (header === 0) break;
      const size = header & 0x7fffffff;
      bound += header & 0x80000000 ? size : blockMax;
      at += size + ((flags & 0x10) ? 4 : 0);
    }
    at += (flags & 0x04) ? 4 : 0;
  }
  return at === input.byteLength ? { bound, blockMax: largest } : undefined;
}

/**
 * Decodes one body buffer. `maxBytes` is the most the buffer may hold (from the batch's
 * row count and the column type, plus padding). `allocate` gives the buffer a zstd frame
 * decodes into through the addon (exactly the declared length; a reader's pool, or the
 * tensor's own bytes); the other decoders return buffers of their own.
 */
export async function arrowDecodeBuffer(raw: Uint8Array, codec: number | undefined, maxBytes: number, what: string, allocate: (size: number) => Uint8Array = allocateUninitialized): Promise<Uint8Array> {
  if (codec === undefined || raw.byteLength === 0) return raw;
  if (raw.byteLength < 8) fail('INVALID_HEADER', `arrow: compressed ${what} is ${raw.byteLength} bytes, shorter than its 8-byte length prefix`);
  const declared = new DataView(raw.buffer, raw.byteOffset, 8).getBigInt64(0, true);
  if (declared === -1n) return raw.subarray(8);
  if (declared < 0n || declared > BigInt(maxBytes)) {
    fail('LIMIT_EXCEEDED', `arrow: compressed ${what} declares ${declared} uncompressed bytes, more than the ${maxBytes} its batch can need`);
  }
  const expected = Number(declared);
  const frame = raw.subarray(8);
  const content = frameContentSize(frame);
  if (content !== undefined && content !== expected) {
    fail(content > expected ? 'LIMIT_EXCEEDED' : 'SIZE_MISMATCH', `arrow: compressed ${what}: its frame declares ${content} bytes, its prefix ${expected}`);
  }
  if (codec === ARROW_CODEC.lz4) {
    const frames = lz4FramesBound(frame);
    // Every block but a frame's last is full in a frame an encoder writes, so more than one block maximum over the prefix is no such frame.
    if (frames && frames.bound > expected + frames.blockMax) {
      fail('LIMIT_EXCEEDED', `arrow: compressed ${what}: its LZ4 blocks can decode to ${frames.bound} bytes, more than the ${expected} of its prefix`);
    }
  }
  let out: Uint8Array;
  try {
    const decodeInto = codec === ARROW_CODEC.zstd && expected > 0 ? addonZstdDecoder() : undefined;
    if (decodeInto) {
      // libzstd writes into the buffer the column keeps, never past its end (a longer frame fails).
      const into = allocate(expected);
      out = into.subarray(0, await decodeInto(frame, into));
    } else if (codec === ARROW_CODEC.zstd && !zstdFrameFits(frame, expected)) {
      // @mongodb-js/zstd takes no output limit: frames their headers do not bound (no content
      // size, blocks that could decode past the prefix) decode where they stop at the limit.
      out = zstdDecodeExactly(frame, expected, `arrow: compressed ${what}`, 'arrow');
    } else {
      out = codec === ARROW_CODEC.lz4 ? (await loadLz4()).decompressFrameSync(frame) : await (await loadZstd()).decompress(frame);
    }
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    fail('INVALID_HEADER', `arrow: cannot decompress ${what} (${codec === ARROW_CODEC.lz4 ? 'lz4' : 'zstd'}): ${(cause as Error).message}`, { cause });
  }
  if (out!.byteLength !== expected) fail('SIZE_MISMATCH', `arrow: ${what} decompressed to ${out!.byteLength} bytes, its prefix says ${expected}`);
  return new Uint8Array(out!.buffer, out!.byteOffset, out!.byteLength);
}
