/**
 * `lz4-napi` (a native addon) for the browser bundle: an LZ4 frame decoder in plain
 * TypeScript (the LZ4 frame format 1.6.x and block format specifications), enough for
 * Arrow IPC bodies compressed with `LZ4_FRAME`. Frames may be concatenated and
 * skippable frames are skipped; blocks may be linked (a match reaching into earlier
 * blocks) since everything decodes into one output; the header, block and content
 * checksums (XXH32) are checked when the frame carries them. Output is bounded: a block
 * may decode to at most the frame's block maximum size, and the whole to the frame's
 * declared content size when there is one. Compression is a small greedy LZ4 block
 * compressor written from the same specifications (`compressFrameSync`): valid frames,
 * a lower ratio than liblz4's, no high-compression mode.
 */
import { TensioError } from '../../core/errors.js';
import { xxh32 } from './xxhash-classic.js';

const FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function bad(message: string): never {
  throw new TensioError('INVALID_HEADER', `lz4: ${message}`);
}

/** A growable output buffer (matches copy from anywhere already written). */
class Output {
  bytes: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(64, capacity));
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.length + extra, this.bytes.byteLength * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/**
 * Decodes one LZ4 block (sequences of literals and matches) onto `out`; a match may
 * reach back into what `out` already holds. At most `maxBytes` are produced.
 */
function lz4DecodeBlock(input: Uint8Array, out: Output, maxBytes: number): void {
  const end = out.length + maxBytes;
  let at = 0;
  const length = (initial: number): number => {
    let value = initial;
    if (initial === 15) {
      let byte: number;
      do {
        if (at >= input.byteLength) bad('a length runs past the end of its block');
        byte = input[at++]!;
        value += byte;
      } while (byte === 255);
    }
    return value;
  };
  while (at < input.byteLength) {
    const token = input[at++]!;
    const literals = length(token >> 4);
    if (at + literals > input.byteLength) bad(`a sequence's ${literals} literals run past the end of its block`);
    if (out.length + literals > end) bad(`a block decodes to more than its ${maxBytes} bytes`);
    out.reserve(literals);
    out.bytes.set(input.subarray(at, at + literals), out.length);
    out.length += literals;
    at += literals;
    if (at === input.byteLength) return; // the last sequence has literals only
    if (at + 2 > input.byteLength) bad('a match offset runs past the end of its block');
    const offset = input[at]! | (input[at + 1]! << 8);
    at += 2;
    if (offset === 0 || offset > out.length) bad(`a match offset ${offset} points before the start of the output (${out.length} bytes)`);
    const matchLength = length(token & 15) + 4;
    if (out.length + matchLength > end) bad(`a block decodes to more than its ${maxBytes} bytes`);
    out.reserve(matchLength);
    const bytes = out.bytes;
    let from = out.length - offset;
    let to = out.length;
    if (offset >= matchLength) {
      bytes.copyWithin(to, from, from + matchLength);
    } else {
      for (let i = 0; i < matchLength; i++) bytes[to++] = bytes[from++]!; // overlapping: byte by byte
    }
    out.length += matchLength;
  }
}

/**
 * Decodes LZ4 frames (one or several, concatenated; skippable frames skipped), as
 * lz4-napi's `decompressFrameSync`.
 *
 * @example
 * ```ts
 * const bytes = decompressFrameSync(frame);
 * ```
 */
export function decompressFrameSync(input: Uint8Array): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const out = new Output(input.byteLength * 2);
  let at = 0;
  const need = (count: number, what: string): void => {
    if (at + count > input.byteLength) bad(`${what} runs past the end of the input (${input.byteLength} bytes)`);
  };
  do {
    need(4, 'the frame magic');
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      need(8, 'a skippable frame');
      at += 8 + view.getUint32(at + 4, true);
      if (at > input.byteLength) bad('a skippable frame runs past the end of the input');
      continue;
    }
    if (magic !== FRAME_MAGIC) bad(`frame magic 0x${magic.toString(16)} is not 0x184d2204`);
    need(7, 'the frame descriptor');
    const descriptorStart = at + 4;
    const flags = input[at + 4]!;
    const blockDescriptor = input[at + 5]!;
    if (flags >> 6 !== 1) bad(`frame version ${flags >> 6} is not 1`);
    if (flags & 0x02 || blockDescriptor & 0x8f) bad('reserved bits of the frame descriptor are set');
    const blockMax = BLOCK_MAX_BYTES[(blockDescriptor >> 4) & 7]!;
    if (blockMax === 0) bad(`block maximum size code ${(blockDescriptor >> 4) & 7} is not 4-7`);
    const blockChecksums = (flags & 0x10) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    at += 6;
    let contentSize: number | undefined;
    if (flags & 0x08) {
      need(8, 'the content size');
      const size = view.getBigUint64(at, true);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) bad(`content size ${size} is too large`);
      contentSize = Number(size);
      at += 8;
    }
    if (flags & 0x01) bad('frames with a dictionary id are not supported');
    need(1, 'the header checksum');
    if (input[at] !== ((xxh32(input.subarray(descriptorStart, at)) >>> 8) & 0xff)) bad('the frame header checksum does not match');
    at += 1;
    const frameStart = out.length;
    for (;;) {
      need(4, 'a block size');
      const word = view.getUint32(at, true);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax) bad(`a block of ${size} bytes exceeds the frame's block maximum ${blockMax}`);
      need(size + (blockChecksums ? 4 : 0), 'a block');
      const block = input.subarray(at, at + size);
      at += size;
      if (blockChecksums) {
        if (view.getUint32(at, true) !== xxh32(block)) bad('a block checksum does not match');
        at += 4;
      }
      const room = contentSize === undefined ? blockMax : Math.min(blockMax, contentSize - (out.length - frameStart));
      if (word & 0x80000000) {
        if (size > room) bad('an uncompressed block exceeds the frame\'s content size');
        out.reserve(size);
        out.bytes.set(block, out.length);
        out.length += size;
      } else {
        lz4DecodeBlock(block, out, room);
      }
    }
    const produced = out.length - frameStart;
    if (contentSize !== undefined && produced !== contentSize) bad(`the frame decoded to ${produced} bytes, its header says ${contentSize}`);
    if (contentChecksum) {
      need(4, 'the content checksum');
      if (view.getUint32(at, true) !== xxh32(out.bytes.subarray(frameStart, out.length))) bad('the content checksum does not match');
      at += 4;
    }
  } while (at < input.byteLength);
  return out.bytes.subarray(0, out.length);
}

/** Bytes per block the compressor writes (the frame's block maximum, code 7 = 4 MiB). */
const COMPRESS_BLOCK_BYTES = 4 * 1024 * 1024;
/** Matches of at least 4 bytes; the last 5 bytes of a block are literals and the last match starts 12 or more before its end (block format rules). */
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MATCH_START_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_BITS = 16;

const read32 = (bytes: Uint8Array, at: number): number => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);

/** Writes a length's continuation bytes (255, 255, …, rest) after a token nibble of 15. */
function writeLengthTail(out: Uint8Array, at: number, rest: number): number {
  for (; rest >= 255; rest -= 255) out[at++] = 255;
  out[at++] = rest;
  return at;
}

/**
 * Compresses `input` as one independent LZ4 block into `out` (which has room for the
 * worst case, `input.length + input.length / 255 + 16`); returns the bytes written. A greedy
 * matcher: a hash table of the last position of each 4-byte sequence, a match taken as
 * soon as one is found and extended as far as the rules allow.
 */
function compressBlock(input: Uint8Array, out: Uint8Array, table: Int32Array): number {
  table.fill(-1);
  const end = input.byteLength;
  const matchEnd = end - LAST_LITERALS;
  let written = 0;
  let anchor = 0;
  const sequence = (literalEnd: number, offset: number, matchLength: number): void => {
    const literals = literalEnd - anchor;
    const tokenAt = written++;
    let token = Math.min(literals, 15) << 4;
    if (literals >= 15) written = writeLengthTail(out, written, literals - 15);
    out.set(input.subarray(anchor, literalEnd), written);
    written += literals;
    if (matchLength > 0) {
      out[written++] = offset & 0xff;
      out[written++] = offset >> 8;
      const extra = matchLength - MIN_MATCH;
      token |= Math.min(extra, 15);
      if (extra >= 15) written = writeLengthTail(out, written, extra - 15);
    }
    out[tokenAt] = token;
  };
  for (let at = 0; at + MATCH_START_LIMIT <= end;) {
    const word = read32(input, at);
    const slot = Math.imul(word, 2654435761) >>> (32 - HASH_BITS);
    const candidate = table[slot]!;
    table[slot] = at;
    if (candidate < 0 || at - candidate > MAX_OFFSET || read32(input, candidate) !== word) {
      at++;
      continue;
    }
    let length = MIN_MATCH;
    while (at + length < matchEnd && input[candidate + length] === input[at + length]) length++;
    sequence(at, at - candidate, length);
    at += length;
    anchor = at;
  }
  sequence(end, 0, 0);
  return written;
}

/**
 * Compresses `input` into one LZ4 frame (as lz4-napi's `compressFrameSync`): independent
 * 4 MiB blocks, each stored raw when compression does not shrink it, the content size in
 * the header and an XXH32 content checksum at the end.
 *
 * @example
 * ```ts
 * const frame = compressFrameSync(bytes); // decompressFrameSync(frame) gives bytes back
 * ```
 */
export function compressFrameSync(input: Uint8Array): Uint8Array {
  const blockCount = Math.ceil(input.byteLength / COMPRESS_BLOCK_BYTES);
  // Header 15 + per block (size word + worst case) + end mark 4 + checksum 4.
  const out = new Uint8Array(15 + blockCount * 4 + input.byteLength + Math.ceil(input.byteLength / 255) + 16 * blockCount + 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  out[4] = 0x40 | 0x20 | 0x08 | 0x04; // version 1, independent blocks, content size, content checksum
  out[5] = 7 << 4; // block maximum 4 MiB
  view.setBigUint64(6, BigInt(input.byteLength), true);
  out[14] = (xxh32(out.subarray(4, 14)) >>> 8) & 0xff;
  let at = 15;
  const table = new Int32Array(1 << HASH_BITS);
  const scratch = new Uint8Array(Math.min(input.byteLength, COMPRESS_BLOCK_BYTES) + Math.ceil(Math.min(input.byteLength, COMPRESS_BLOCK_BYTES) / 255) + 16);
  for (let start = 0; start < input.byteLength; start += COMPRESS_BLOCK_BYTES) {
    const block = input.subarray(start, start + COMPRESS_BLOCK_BYTES);
    const size = compressBlock(block, scratch, table);
    if (size < block.byteLength) {
      view.setUint32(at, size, true);
      out.set(scratch.subarray(0, size), at + 4);
      at += 4 + size;
    } else {
      view.setUint32(at, (block.byteLength | 0x80000000) >>> 0, true);
      out.set(block, at + 4);
      at += 4 + block.byteLength;
    }
  }
  view.setUint32(at, 0, true);
  view.setUint32(at + 4, xxh32(input), true);
  return out.slice(0, at + 8);
}

export default { decompressFrameSync, compressFrameSync };
