/**
 * XXH32 and XXH64 (the xxHash specification, `doc/xxhash_spec.md`) in plain TypeScript,
 * for the browser bundle: XXH32 checks LZ4 frames (`lz4.ts`), XXH64 the frame checksums
 * of zTensor's zstd-seekable parts. XXH32 runs on `Math.imul`; XXH64 on BigInt, slow
 * (tens of MB/s) but only ever fed one zstd frame (≤ 1 MiB as tensio writes them) at a time.
 */

const P32_1 = 0x9e3779b1;
const P32_2 = 0x85ebca77;
const P32_3 = 0xc2b2ae3d;
const P32_4 = 0x27d4eb2f;
const P32_5 = 0x165667b1;

const rotl32 = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** XXH32 of `bytes` with `seed` (an unsigned 32-bit number). */
export function xxh32(bytes: Uint8Array, seed = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  let at = 0;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + P32_1 + P32_2) | 0;
    let v2 = (seed + P32_2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P32_1) | 0;
    const round = (acc: number, lane: number): number => Math.imul(rotl32((acc + Math.imul(lane, P32_2)) | 0, 13), P32_1);
    for (; at + 16 <= length; at += 16) {
      v1 = round(v1, view.getUint32(at, true));
      v2 = round(v2, view.getUint32(at + 4, true));
      v3 = round(v3, view.getUint32(at + 8, true));
      v4 = round(v4, view.getUint32(at + 12, true));
    }
    h = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) | 0;
  } else {
    h = (seed + P32_5) | 0;
  }
  h = (h + length) | 0;
  for (; at + 4 <= length; at += 4) h = Math.imul(rotl32((h + Math.imul(view.getUint32(at, true), P32_3)) | 0, 17), P32_4);
  for (; at < length; at++) h = Math.imul(rotl32((h + Math.imul(bytes[at]!, P32_5)) | 0, 11), P32_1);
  h ^= h >>> 15;
  h = Math.imul(h, P32_2);
  h ^= h >>> 13;
  h = Math.imul(h, P32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

const P64_1 = 0x9e3779b185ebca87n;
const P64_2 = 0xc2b2ae3d27d4eb4fn;
const P64_3 = 0x165667b19e3779f9n;
const P64_4 = 0x85ebca77c2b2ae63n;
const P64_5 = 0x27d4eb2f165667c5n;
const MASK64 = 0xffffffffffffffffn;

const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK64;
const round64 = (acc: bigint, lane: bigint): bigint => (rotl64((acc + lane * P64_2) & MASK64, 31n) * P64_1) & MASK64;
const merge64 = (acc: bigint, value: bigint): bigint => (((acc ^ round64(0n, value)) * P64_1 + P64_4) & MASK64);

/** XXH64 of `bytes` with `seed`, as `@node-rs/xxhash`'s `xxh64(bytes, seed)`. */
export function xxh64(bytes: Uint8Array, seed: bigint = 0n): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  seed &= MASK64;
  let at = 0;
  let h: bigint;
  if (length >= 32) {
    let v1 = (seed + P64_1 + P64_2) & MASK64;
    let v2 = (seed + P64_2) & MASK64;
    let v3 = seed;
    let v4 = (seed - P64_1) & MASK64;
    for (; at + 32 <= length; at += 32) {
      v1 = round64(v1, view.getBigUint64(at, true));
      v2 = round64(v2, view.getBigUint64(at + 8, true));
      v3 = round64(v3, view.getBigUint64(at + 16, true));
      v4 = round64(v4, view.getBigUint64(at + 24, true));
    }
    h = (rotl64(v1, 1n) + rotl64(v2, 7n) + rotl64(v3, 12n) + rotl64(v4, 18n)) & MASK64;
    h = merge64(merge64(merge64(merge64(h, v1), v2), v3), v4);
  } else {
    h = (seed + P64_5) & MASK64;
  }
  h = (h + BigInt(length)) & MASK64;
  for (; at + 8 <= length; at += 8) h = (rotl64(h ^ round64(0n, view.getBigUint64(at, true)), 27n) * P64_1 + P64_4) & MASK64;
  if (at + 4 <= length) {
    h = (rotl64(h ^ ((BigInt(view.getUint32(at, true)) * P64_1) & MASK64), 23n) * P64_2 + P64_3) & MASK64;
    at += 4;
  }
  for (; at < length; at++) h = (rotl64(h ^ ((BigInt(bytes[at]!) * P64_5) & MASK64), 11n) * P64_1) & MASK64;
  h ^= h >> 33n;
  h = (h * P64_2) & MASK64;
  h ^= h >> 29n;
  h = (h * P64_3) & MASK64;
  h ^= h >> 32n;
  return h;
}
