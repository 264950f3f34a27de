/**
 * The two checksums of the HDF5 format: Jenkins' lookup3 (`hashlittle`, initial value
 * 0) over every version-2 metadata structure, and Fletcher-32 (the filter that checks
 * each chunk). Pure; written from the HDF5 file format specification.
 */

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Jenkins' lookup3 `hashlittle` over `bytes` (HDF5's `H5_checksum_lookup3`, initial value 0).
 *
 * @example
 * ```ts
 * hdf5Lookup3(superblockBytes.subarray(0, 44)); // the checksum stored in bytes 44-47
 * ```
 */
export function hdf5Lookup3(bytes: Uint8Array, initial = 0): number {
  let length = bytes.byteLength;
  let a = (0xdeadbeef + length + initial) | 0;
  let b = a;
  let c = a;
  let o = 0;
  const word = (at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
  while (length > 12) {
    a = (a + word(o)) | 0;
    b = (b + word(o + 4)) | 0;
    c = (c + word(o + 8)) | 0;
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c >>> 0;
  // The tail: bytes past the end count as zero, as in hashlittle's byte-wise switch.
  const tail = new Uint8Array(12);
  tail.set(bytes.subarray(o, o + length));
  const tailWord = (at: number) => tail[at]! | (tail[at + 1]! << 8) | (tail[at + 2]! << 16) | (tail[at + 3]! << 24);
  a = (a + tailWord(0)) | 0;
  b = (b + tailWord(4)) | 0;
  c = (c + tailWord(8)) | 0;
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/**
 * Fletcher-32 as HDF5 computes it (`H5_checksum_fletcher32`): over big-endian 16-bit
 * words, an odd last byte as the high byte of a word.
 *
 * @example
 * ```ts
 * hdf5Fletcher32(chunkBytes); // stored little-endian after the chunk by the fletcher32 filter
 * ```
 */
export function hdf5Fletcher32(bytes: Uint8Array): number {
  let sum1 = 0;
  let sum2 = 0;
  let words = bytes.byteLength >>> 1;
  let o = 0;
  while (words > 0) {
    let block = words > 360 ? 360 : words;
    words -= block;
    do {
      sum1 += (bytes[o]! << 8) | bytes[o + 1]!;
      o += 2;
      sum2 += sum1;
    } while (--block);
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  if (bytes.byteLength % 2) {
    sum1 += bytes[o]! << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  return ((sum2 << 16) | sum1) >>> 0;
}
