/**
 * Encoders for the HDF5 structures tensio's writer emits, from the HDF5 file format
 * specification (version 3 of the spec; HDF5 1.10+ reads all of them): superblock
 * version 2, version-2 object headers, their messages (dataspace, datatype, fill value,
 * data layout 3/4, filter pipeline, link info, group info, link, attribute) and the
 * fixed-array chunk index. Pure: bytes in, bytes out.
 */
import type { DType } from '../../core/dtype.js';
import { hdf5Lookup3 } from './checksums.js';
import { HDF5_SIGNATURE } from './read.js';

/** The undefined address (all bits set). */
export const UNDEFINED_ADDRESS = 0xffffffffffffffffn;

/** Little-endian byte builder. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return;
    const next = new Uint8Array(Math.max(this.buffer.byteLength * 2, this.length + bytes));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this { this.reserve(1); this.view.setUint8(this.length, value); this.length += 1; return this; }
  u16(value: number): this { this.reserve(2); this.view.setUint16(this.length, value, true); this.length += 2; return this; }
  u32(value: number): this { this.reserve(4); this.view.setUint32(this.length, value >>> 0, true); this.length += 4; return this; }
  u64(value: number | bigint): this { this.reserve(8); this.view.setBigUint64(this.length, BigInt(value), true); this.length += 8; return this; }
  /** An unsigned integer of `size` bytes (1, 2, 4 or 8). */
  uint(value: number, size: number): this {
    if (size === 1) return this.u8(value);
    if (size === 2) return this.u16(value);
    if (size === 4) return this.u32(value);
    return this.u64(value);
  }
  /** An unsigned integer in exactly `size` little-endian bytes (1-8). */
  le(value: number, size: number): this {
    let rest = BigInt(value);
    for (let i = 0; i < size; i++) { this.u8(Number(rest & 0xffn)); rest >>= 8n; }
    return this;
  }
  bytes(value: Uint8Array): this { this.reserve(value.byteLength); this.buffer.set(value, this.length); this.length += value.byteLength; return this; }
  zeros(count: number): this { this.reserve(count); this.buffer.fill(0, this.length, this.length + count); this.length += count; return this; }
  /** Appends the lookup3 checksum of everything written so far. */
  checksum(): this { return this.u32(hdf5Lookup3(this.buffer.subarray(0, this.length))); }
  result(): Uint8Array { return this.buffer.slice(0, this.length); }
}

const utf8 = new TextEncoder();

/** Superblock version 2 (48 bytes): root group object header and end-of-file addresses. */
export function encodeSuperblock(rootAddress: number, endOfFile: number): Uint8Array {
  return new ByteWriter().bytes(HDF5_SIGNATURE).u8(2).u8(8).u8(8).u8(0)
    .u64(0).u64(UNDEFINED_ADDRESS).u64(endOfFile).u64(rootAddress).checksum().result();
}

/** Bytes of the superblock, where the data starts. */
export const SUPERBLOCK_BYTES = 48;

/** One object header message: its type and body. */
export interface HeaderMessage {
  readonly type: number;
  readonly body: Uint8Array;
}

/** Message types (spec §IV.A.2). */
export const MESSAGE = {
  dataspace: 0x0001, linkInfo: 0x0002, datatype: 0x0003, fillValue: 0x0005, link: 0x0006,
  layout: 0x0008, groupInfo: 0x000a, filterPipeline: 0x000b, attribute: 0x000c,
} as const;

/**
 * A version-2 object header ("OHDR") holding `messages` in one chunk. A message body is
 * at most 65535 bytes (the size field is 16 bits).
 */
export function encodeObjectHeader(messages: readonly HeaderMessage[]): Uint8Array {
  const size = messages.reduce((sum, message) => sum + 4 + message.body.byteLength, 0);
  const out = new ByteWriter().bytes(utf8.encode('OHDR')).u8(2)
    .u8(0x02) // flags: chunk #0 size in 4 bytes; no times, no attribute phase values
    .u32(size);
  for (const message of messages) out.u8(message.type).u16(message.body.byteLength).u8(0).bytes(message.body);
  return out.checksum().result();
}

/** Dataspace message version 2: scalar for `[]`, else simple with max = current dims. */
export function encodeDataspace(shape: readonly number[]): Uint8Array {
  const out = new ByteWriter().u8(2).u8(shape.length);
  if (shape.length === 0) return out.u8(0).u8(0).result();
  out.u8(0x01).u8(1); // max dims present; simple
  for (const dim of shape) out.u64(dim);
  for (const dim of shape) out.u64(dim);
  return out.result();
}

const FLOAT_LAYOUT: Record<number, { sign: number; exponentAt: number; exponentBits: number; mantissaBits: number; bias: number }> = {
  2: { sign: 15, exponentAt: 10, exponentBits: 5, mantissaBits: 10, bias: 15 },
  4: { sign: 31, exponentAt: 23, exponentBits: 8, mantissaBits: 23, bias: 127 },
  8: { sign: 63, exponentAt: 52, exponentBits: 11, mantissaBits: 52, bias: 1023 },
};

function fixedPoint(size: number, signed: boolean): Uint8Array {
  return new ByteWriter().u8(0x10).u8(signed ? 0x08 : 0).u8(0).u8(0).u32(size).u16(0).u16(size * 8).result();
}

/**
 * Datatype message (version 1) for a tensio dtype as h5py writes it: little-endian
 * integers, IEEE floats (float16 as h5py's 2-byte float), bool as h5py's enum of int8
 * `{FALSE: 0, TRUE: 1}`.
 */
export function encodeDatatype(dtype: DType): Uint8Array {
  switch (dtype) {
    case 'bool': {
      const out = new ByteWriter().u8(0x18).u8(2).u8(0).u8(0).u32(1).bytes(fixedPoint(1, true));
      for (const name of ['FALSE', 'TRUE']) {
        const bytes = utf8.encode(name);
        out.bytes(bytes).zeros(8 - (bytes.byteLength % 8)); // null-terminated, padded to 8
      }
      return out.u8(0).u8(1).result();
    }
    case 'uint8': case 'int8': case 'uint16': case 'int16': case 'uint32': case 'int32': case 'uint64': case 'int64': {
      const size = Number(/\d+/.exec(dtype)![0]) / 8;
      return fixedPoint(size, dtype.startsWith('int'));
    }
    case 'float16': case 'float32': case 'float64': {
      const size = Number(/\d+/.exec(dtype)![0]) / 8;
      const f = FLOAT_LAYOUT[size]!;
      // Class 1 version 1; bit field: little-endian, mantissa normalization "msb implied" (2 << 4), sign bit position.
      return new ByteWriter().u8(0x11).u8(0x20).u8(f.sign).u8(0).u32(size)
        .u16(0).u16(size * 8).u8(f.exponentAt).u8(f.exponentBits).u8(0).u8(f.mantissaBits).u32(f.bias).result();
    }
    default:
      throw new Error(`no HDF5 datatype for ${dtype}`);
  }
}

/** Fixed-length UTF-8 string datatype of `size` bytes, null-padded (h5py reads it as bytes). */
export function encodeStringType(size: number): Uint8Array {
  return new ByteWriter().u8(0x13).u8(0x11).u8(0).u8(0).u32(size).result(); // null pad (1), UTF-8 (1 << 4)
}

/** Fill value message version 3: allocation `late` (contiguous) or `incremental` (chunked), no fill value defined. */
export function encodeFillValue(chunked: boolean): Uint8Array {
  return new ByteWriter().u8(3).u8((chunked ? 3 : 2) | (2 << 2)).result();
}

/** Data layout message version 3, contiguous. */
export function encodeContiguousLayout(address: number | bigint, size: number): Uint8Array {
  return new ByteWriter().u8(3).u8(1).u64(address).u64(size).result();
}

/** Data layout message version 4, chunked, indexed by a fixed array at `indexAddress`. */
export function encodeChunkedLayout(chunkShape: readonly number[], elementBytes: number, pageBits: number, indexAddress: number): Uint8Array {
  const dims = [...chunkShape, elementBytes];
  // libhdf5 recomputes this width from the dimensions and refuses any other.
  const width = Math.max(...dims.map((dim) => Math.floor((Math.floor(Math.log2(dim)) + 8) / 8)));
  const out = new ByteWriter().u8(4).u8(2).u8(0).u8(dims.length).u8(width);
  for (const dim of dims) out.le(dim, width);
  return out.u8(3).u8(pageBits).u64(indexAddress).result();
}

/** One filter of a pipeline. */
export interface PipelineFilter {
  readonly id: number;
  readonly values: readonly number[];
}

/** Filter pipeline message version 2 (filter ids below 256 carry no name). */
export function encodeFilterPipeline(filters: readonly PipelineFilter[]): Uint8Array {
  const out = new ByteWriter().u8(2).u8(filters.length);
  for (const filter of filters) {
    out.u16(filter.id).u16(0).u16(filter.values.length);
    for (const value of filter.values) out.u32(value);
  }
  return out.result();
}

/** Link info message version 0: compact links (no fractal heap, no name index). */
export function encodeLinkInfo(): Uint8Array {
  return new ByteWriter().u8(0).u8(0).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS).result();
}

/** Group info message version 0 with the default thresholds. */
export function encodeGroupInfo(): Uint8Array {
  return new ByteWriter().u8(0).u8(0).result();
}

/** Link message version 1: a hard link named `name` (UTF-8) to the object header at `address`. */
export function encodeHardLink(name: string, address: number): Uint8Array {
  const bytes = utf8.encode(name);
  const lengthSize = bytes.byteLength < 256 ? 0 : bytes.byteLength < 65536 ? 1 : 2;
  return new ByteWriter().u8(1).u8(lengthSize | 0x10).u8(1) // flags: charset present (UTF-8)
    .uint(bytes.byteLength, [1, 2, 4][lengthSize]!).bytes(bytes).u64(address).result();
}

/** Attribute message version 3 (UTF-8 name) with its datatype, dataspace and raw value. */
export function encodeAttribute(name: string, datatype: Uint8Array, shape: readonly number[], value: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  const dataspace = encodeDataspace(shape);
  return new ByteWriter().u8(3).u8(0).u16(nameBytes.byteLength + 1).u16(datatype.byteLength).u16(dataspace.byteLength).u8(1)
    .bytes(nameBytes).u8(0).bytes(datatype).bytes(dataspace).bytes(value).result();
}

/** Page bits of a fixed array holding `entries` chunk records unpaged (at least libhdf5's default 10). */
export function fixedArrayPageBits(entries: number): number {
  let bits = 10;
  while (2 ** bits < entries) bits++;
  return bits;
}

/** Bytes of the chunk-size field of a filtered fixed-array entry (libhdf5's H5D_FARRAY_FILT_COMPUTE_CHUNK_SIZE_LEN). */
export function filteredChunkSizeBytes(chunkBytes: number): number {
  return Math.min(8, 1 + Math.floor((Math.floor(Math.log2(chunkBytes)) + 8) / 8));
}

/** One chunk record of a fixed-array index. */
export interface ChunkRecord {
  readonly address: number;
  readonly storedBytes: number;
}

/**
 * A fixed-array chunk index: header ("FAHD") at `headerAddress` followed by its
 * unpaged data block ("FADB"). Returns both, concatenated.
 */
export function encodeFixedArray(headerAddress: number, records: readonly ChunkRecord[], filtered: boolean, chunkBytes: number, pageBits: number): Uint8Array {
  const sizeBytes = filtered ? filteredChunkSizeBytes(chunkBytes) : 0;
  const entryBytes = filtered ? 8 + sizeBytes + 4 : 8;
  const header = new ByteWriter().bytes(utf8.encode('FAHD')).u8(0).u8(filtered ? 1 : 0).u8(entryBytes).u8(pageBits)
    .u64(records.length);
  const headerLength = header.length + 8 + 4;
  header.u64(headerAddress + headerLength).checksum();
  const block = new ByteWriter().bytes(utf8.encode('FADB')).u8(0).u8(filtered ? 1 : 0).u64(headerAddress);
  for (const record of records) {
    block.u64(record.address);
    if (filtered) block.le(record.storedBytes, sizeBytes).u32(0);
  }
  block.checksum();
  const out = new Uint8Array(header.length + block.length);
  out.set(header.result(), 0);
  out.set(block.result(), header.length);
  return out;
}
