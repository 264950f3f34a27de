/**
 * CRC-32 (zip, gzip, PNG polynomial) and CRC-32C (Castagnoli: Zarr, zTensor) in plain
 * TypeScript, for the browser bundle where `zlib.crc32` and `@node-rs/crc32` (a native
 * addon) do not exist. Table-driven, one byte at a time: slower than the native ones,
 * plenty for checking what a page reads.
 */

function makeTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = makeTable(0xedb88320);
const CRC32C_TABLE = makeTable(0x82f63b78);

function update(table: Uint32Array, bytes: Uint8Array, initial: number): number {
  let crc = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `bytes`, continuing from `initial` (as `zlib.crc32(bytes, initial)`). */
export function crc32(bytes: Uint8Array | string, initial = 0): number {
  return update(CRC32_TABLE, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, initial);
}

/** CRC-32C of `bytes`, continuing from `initial` (as `@node-rs/crc32`'s `crc32c`). */
export function crc32c(bytes: Uint8Array | string, initial = 0): number {
  return update(CRC32C_TABLE, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, initial);
}
