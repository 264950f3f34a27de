/**
 * `metadata.npkm`: NumPack's binary catalogue of arrays (little-endian, packed).
 *
 * Header (20 bytes): magic u32 0x424B504E ("NPKB"), version u32, total_size u64,
 * array_count u32. Each entry: name (u32 length + UTF-8), ndim u32 + ndim × u64 dims
 * (physical shape), data_file (u32 length + UTF-8), last_modified u64 (µs), size_bytes
 * u64, dtype code u8, compression {algo u8, level u32, original u64, compressed u64},
 * has_block_info u8 (+ block table when non-zero). Unlike NumPack, a bad magic or a
 * truncated file is an error here, never an empty store.
 */
import type { DType } from '../core/dtype.js';
import { errorFactory } from '../core/errors.js';
import { MAX_RANK } from '../core/limits.js';
import { checkedSize } from '../core/sizes.js';
import { npkDtypeCode, npkDtypeFromCode } from './dtype-codes.js';
import { quoteInput } from '../core/quote.js';

const fail: ReturnType<typeof errorFactory> = errorFactory('npk');

/** "NPKB" read as a little-endian u32. */
export const NPK_METADATA_MAGIC = 0x424b504e;
/** The version NumPack writes (and never checks). */
export const NPK_METADATA_VERSION = 1;
/** The catalogue's file name inside a store. */
export const NPK_METADATA_FILE = 'metadata.npkm';
const HEADER_BYTES = 20;
/** Smallest entry: 51 bytes of fixed fields plus an empty name, no dims, empty data_file. */
const MIN_ENTRY_BYTES = 51;

/** One array as `metadata.npkm` records it. */
export interface NpkArrayEntry {
  readonly name: string;
  /** Physical shape: deleted rows are still counted. */
  readonly shape: readonly number[];
  /** Data file relative to the store: `data_<name>.npkd` or `data_<name>.npkseg`. */
  readonly dataFile: string;
  /** Microseconds since the epoch. */
  readonly lastModified: number;
  /** prod(physical shape) × item size. */
  readonly sizeBytes: number;
  readonly dtype: DType;
}

/** A decoded `metadata.npkm`. */
export interface NpkMetadata {
  readonly version: number;
  readonly totalSize: number;
  /** Entries in file order; a repeated name keeps its last entry (as NumPack does). */
  readonly arrays: readonly NpkArrayEntry[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Parses `metadata.npkm` bytes. Throws `BAD_MAGIC`, `TRUNCATED`, `UNSUPPORTED_DTYPE`,
 * `INVALID_UTF8`, `INVALID_SHAPE` or `SIZE_OVERFLOW` with the offending offset.
 *
 * @example
 * ```ts
 * const meta = npkDecodeMetadata(await readFile('store.npk/metadata.npkm'));
 * meta.arrays.map((a) => a.name);
 * ```
 */
export function npkDecodeMetadata(bytes: Uint8Array): NpkMetadata {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (count: number, what: string) => {
    if (at + count > bytes.byteLength) {
      fail('TRUNCATED', `npk: metadata.npkm ends at byte ${bytes.byteLength} while reading ${what} (${count} bytes at offset ${at})`, { offset: at });
    }
  };
  const u8 = (what: string) => { need(1, what); return view.getUint8(at++); };
  const u32 = (what: string) => { need(4, what); const v = view.getUint32(at, true); at += 4; return v; };
  const u64 = (what: string) => { need(8, what); const v = view.getBigUint64(at, true); at += 8; return checkedSize(v, 'npk', what); };
  const text = (what: string) => {
    const length = u32(`${what} length`);
    need(length, what);
    let value: string;
    try {
      value = utf8.decode(bytes.subarray(at, at + length));
    } catch (cause) {
      fail('INVALID_UTF8', `npk: ${what} at offset ${at} is not valid UTF-8`, { offset: at, cause });
    }
    at += length;
    return value;
  };

  if (bytes.byteLength < 4) fail('TRUNCATED', `npk: metadata.npkm has ${bytes.byteLength} bytes, the header needs ${HEADER_BYTES}`);
  const magic = view.getUint32(0, true);
  if (magic !== NPK_METADATA_MAGIC) {
    fail('BAD_MAGIC', `npk: metadata.npkm starts with 0x${magic.toString(16).padStart(8, '0')}, expected 0x${NPK_METADATA_MAGIC.toString(16)} ("NPKB")`, { offset: 0 });
  }
  at = 4;
  const version = u32('version');
  const totalSize = u64('total_size');
  const count = u32('array_count');
  if (count > (bytes.byteLength - HEADER_BYTES) / MIN_ENTRY_BYTES) {
    fail('TRUNCATED', `npk: metadata.npkm declares ${count} arrays but its ${bytes.byteLength} bytes hold at most ${Math.floor((bytes.byteLength - HEADER_BYTES) / MIN_ENTRY_BYTES)}`, { offset: 16 });
  }
  const byName = new Map<string, NpkArrayEntry>();
  for (let index = 0; index < count; index++) {
    const name = text(`name of array ${index}`);
    const ndim = u32(`ndim of ${name}`);
    if (ndim > MAX_RANK) fail('INVALID_SHAPE', `npk: array ${quoteInput(name)} has ${ndim} dimensions, more than ${MAX_RANK}`, { offset: at - 4 });
    const shape: number[] = [];
    for (let d = 0; d < ndim; d++) shape.push(u64(`dimension ${d} of ${name}`));
    const dataFile = text(`data_file of ${name}`);
    const lastModified = u64(`last_modified of ${name}`);
    const sizeBytes = u64(`size_bytes of ${name}`);
    const dtype = npkDtypeFromCode(u8(`dtype of ${name}`), name);
    // Compression fields: NumPack writes zeros and drops them on read; so do we.
    need(21, `compression of ${name}`);
    at += 21;
    if (u8(`has_block_info of ${name}`) !== 0) {
      need(21, `block info of ${name}`);
      at += 17;
      const blocks = u32(`block count of ${name}`);
      need(blocks * 24, `block table of ${name}`);
      at += blocks * 24;
    }
    byName.delete(name);
    byName.set(name, { name, shape, dataFile, lastModified, sizeBytes, dtype });
  }
  return { version, totalSize, arrays: [...byName.values()] };
}

/**
 * Encodes entries as `metadata.npkm` bytes, byte for byte as NumPack writes them
 * (version 1, compression and block fields zero).
 *
 * @example
 * ```ts
 * const bytes = npkEncodeMetadata([{ name: 'x', shape: [3], dataFile: 'data_x.npkd',
 *   lastModified: Date.now() * 1000, sizeBytes: 12, dtype: 'float32' }]);
 * ```
 */
export function npkEncodeMetadata(arrays: readonly NpkArrayEntry[], version = NPK_METADATA_VERSION): Uint8Array {
  const encoded = arrays.map((entry) => ({ entry, name: utf8Encoder.encode(entry.name), file: utf8Encoder.encode(entry.dataFile) }));
  const length = encoded.reduce((sum, { entry, name, file }) => sum + MIN_ENTRY_BYTES + name.byteLength + file.byteLength + 8 * entry.shape.length, HEADER_BYTES);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  let at = 0;
  const u32 = (v: number) => { view.setUint32(at, v, true); at += 4; };
  const u64 = (v: number) => { view.setBigUint64(at, BigInt(v), true); at += 8; };
  u32(NPK_METADATA_MAGIC);
  u32(version);
  u64(arrays.reduce((sum, entry) => sum + entry.sizeBytes, 0));
  u32(arrays.length);
  for (const { entry, name, file } of encoded) {
    u32(name.byteLength);
    bytes.set(name, at);
    at += name.byteLength;
    u32(entry.shape.length);
    for (const dim of entry.shape) u64(dim);
    u32(file.byteLength);
    bytes.set(file, at);
    at += file.byteLength;
    u64(Math.trunc(entry.lastModified));
    u64(entry.sizeBytes);
    view.setUint8(at++, npkDtypeCode(entry.dtype));
    at += 21 + 1; // compression (none) and has_block_info = 0, already zero
  }
  return bytes;
}
