/**
 * Snappy compression (the raw format Parquet pages use, written from the format's
 * description: a varint of the uncompressed length, then literals and copies), for the
 * Parquet writer. The JavaScript compressor hyparquet-writer ships went through a
 * growable byte writer one byte at a time (about 30 MB/s here); this one writes into one
 * preallocated buffer, hashes 4-byte words with a typed table per 64 KiB block and skips
 * ahead faster the longer it finds nothing (as the reference compressor does), so
 * incompressible float data costs little more than a copy.
 */

const BLOCK = 1 << 16;
const HASH_BITS = 14;
const table = new Int32Array(1 << HASH_BITS);

/** Worst-case compressed size of `length` bytes (Snappy's bound). */
function maxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6);
}

const hash = (word: number): number => Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS);


/** Writes a literal of `input[from, to)` at `out[at]`; returns the new end. */
function literal(out: Uint8Array, at: number, input: Uint8Array, from: number, to: number): number {
  const length = to - from;
  const n = length - 1;
  if (n < 60) out[at++] = n << 2;
  else if (n < 0x100) { out[at++] = 60 << 2; out[at++] = n; }
  else if (n < 0x10000) { out[at++] = 61 << 2; out[at++] = n & 0xff; out[at++] = n >>> 8; }
  else if (n < 0x1000000) { out[at++] = 62 << 2; out[at++] = n & 0xff; out[at++] = (n >>> 8) & 0xff; out[at++] = n >>> 16; }
  else { out[at++] = 63 << 2; out[at++] = n & 0xff; out[at++] = (n >>> 8) & 0xff; out[at++] = (n >>> 16) & 0xff; out[at++] = n >>> 24; }
  // A typed-array view per short literal costs more than the bytes: copy those in a loop.
  if (length < 64) {
    for (let i = 0; i < length; i++) out[at + i] = input[from + i]!;
  } else out.set(input.subarray(from, to), at);
  return at + length;
}

/** Writes copies of `length` bytes from `offset` back (offset < 65536); returns the new end. */
function copy(out: Uint8Array, at: number, offset: number, length: number): number {
  let left = length;
  // Copies of 64 bytes, keeping at least 4 for the last one (1-byte-offset copies need 4..11).
  while (left >= 68) { out[at++] = (63 << 2) | 2; out[at++] = offset & 0xff; out[at++] = offset >>> 8; left -= 64; }
  if (left > 64) { out[at++] = (59 << 2) | 2; out[at++] = offset & 0xff; out[at++] = offset >>> 8; left -= 60; }
  if (left >= 12 || offset >= 2048) { out[at++] = ((left - 1) << 2) | 2; out[at++] = offset & 0xff; out[at++] = offset >>> 8; }
  else { out[at++] = ((offset >>> 8) << 5) | ((left - 4) << 2) | 1; out[at++] = offset & 0xff; }
  return at;
}

/** Compresses one block `input[start, end)` (at most 64 KiB) into `out[at]`; returns the new end. */
function compressBlock(input: Uint8Array, words: DataView, start: number, end: number, out: Uint8Array, at: number): number {
  let pending = start; // first byte not yet emitted
  if (end - start < 15) return literal(out, at, input, start, end);
  table.fill(-1);
  const limit = end - 15; // room for the 4-byte loads below
  let ip = start + 1;
  let skip = 32;
  while (ip < limit) {
    const word = words.getInt32(ip, true);
    const slot = hash(word);
    const candidate = table[slot]!;
    table[slot] = ip;
    if (candidate < start || words.getInt32(candidate, true) !== word) {
      // Each 32 misses in a row add one byte to the step.
      ip += skip++ >> 5;
      continue;
    }
    skip = 32;
    if (pending < ip) at = literal(out, at, input, pending, ip);
    // Extend the match.
    let length = 4;
    while (ip + length + 4 <= end && words.getInt32(candidate + length, true) === words.getInt32(ip + length, true)) length += 4;
    while (ip + length < end && input[candidate + length] === input[ip + length]) length++;
    at = copy(out, at, ip - candidate, length);
    ip += length;
    pending = ip;
    if (ip < limit) table[hash(words.getInt32(ip - 1, true))] = ip - 1;
  }
  if (pending < end) at = literal(out, at, input, pending, end);
  return at;
}

/**
 * Snappy-compresses `input` (the raw format, no framing).
 *
 * @example
 * ```ts
 * const page = snappyCompress(new Uint8Array(4096));
 * ```
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(maxCompressedLength(input.byteLength));
  let at = 0;
  let length = input.byteLength;
  while (length >= 0x80) { out[at++] = (length & 0x7f) | 0x80; length = Math.floor(length / 128); }
  out[at++] = length;
  const words = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let start = 0; start < input.byteLength; start += BLOCK) {
    at = compressBlock(input, words, start, Math.min(input.byteLength, start + BLOCK), out, at);
  }
  return out.subarray(0, at);
}
