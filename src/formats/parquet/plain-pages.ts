/**
 * The fast read path for the common numeric column: a flat column chunk of PLAIN data
 * pages (v1 or v2) without nulls, whose physical values are the bytes of the tensor
 * dtype (FLOAT → float32, DOUBLE → float64, INT32 → int32/uint32, INT64 → int64/uint64).
 * PLAIN of such a type is the little-endian values themselves, so each page is
 * decompressed and its values copied once into the column's output; hyparquet's
 * generic decoder built arrays value by value and the table layer copied them again.
 *
 * Anything else (dictionary or other encodings, nulls, nested columns, page counts that
 * do not add up, undecodable pages) returns `undefined`: the caller then decodes the
 * chunk the general way, which checks it and gives the errors. So this path never
 * decides what a damaged file means, it only skips work on a sound one.
 */
import { pageHeader, ThriftCursor, type ParquetPageHeader } from './page-headers.js';
import { allocateZeroed } from '../../core/memory.js';

const PAGE_DATA = 0;
const PAGE_DATA_V2 = 3;
const ENCODING_PLAIN = 0;

/** Decompresses one page body to exactly `size` bytes (sync or async). */
export type ParquetPageDecompress = (bytes: Uint8Array, size: number) => Uint8Array | Promise<Uint8Array>;

/** What the fast path needs to know about a column chunk. */
export interface ParquetPlainChunk {
  /** Rows of the row group: the pages must declare exactly this many values. */
  readonly rows: number;
  /** Bytes of one value (4 or 8). */
  readonly itemBytes: number;
  /** 0 for a REQUIRED column, 1 for an OPTIONAL one (its definition levels must all be 1). */
  readonly maxDefinition: number;
  /** The chunk's codec; undefined for UNCOMPRESSED. */
  readonly decompress: ParquetPageDecompress | undefined;
}

interface PlainPage {
  readonly header: ParquetPageHeader;
  readonly body: Uint8Array;
}

/** The data pages of a chunk when every one is a PLAIN v1/v2 data page and their values add up to `rows`. */
function plainPages(chunk: Uint8Array, shape: ParquetPlainChunk): PlainPage[] | undefined {
  const cursor = new ThriftCursor(chunk);
  const pages: PlainPage[] = [];
  let values = 0;
  // A trailing byte or two after the last page is what parquetCheckChunk tolerates too.
  while (cursor.at < chunk.byteLength - 1) {
    const header = pageHeader(cursor);
    if (header.compressed > chunk.byteLength - cursor.at) return undefined;
    const body = chunk.subarray(cursor.at, cursor.at + header.compressed);
    cursor.advance(header.compressed);
    if ((header.type !== PAGE_DATA && header.type !== PAGE_DATA_V2) || header.encoding !== ENCODING_PLAIN) return undefined;
    const count = header.values ?? -1;
    if (count < 0 || header.uncompressed < count * shape.itemBytes) return undefined;
    if (header.type === PAGE_DATA_V2 && (!header.v2 || header.v2.nulls !== 0 || header.v2.repetitionBytes !== 0)) return undefined;
    values += count;
    if (values > shape.rows) return undefined;
    pages.push({ header, body });
  }
  return values === shape.rows ? pages : undefined;
}

/**
 * Whether an RLE / bit-packed hybrid stream of width-1 levels holds `count` ones (every
 * value defined). Runs past `count` or a stream that ends early: no.
 */
export function parquetAllLevelsOne(stream: Uint8Array, count: number): boolean {
  let seen = 0;
  let at = 0;
  while (seen < count) {
    let header = 0;
    let shift = 0;
    for (;;) {
      if (at >= stream.byteLength || shift > 28) return false;
      const byte = stream[at++]!;
      header |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    if (header & 1) {
      // Bit-packed: groups of 8 one-bit values; those past `count` are padding.
      const run = (header >>> 1) * 8;
      const take = Math.min(run, count - seen);
      const bytes = Math.ceil(run / 8);
      if (at + bytes > stream.byteLength) return false;
      for (let i = 0; i < take >> 3; i++) if (stream[at + i] !== 0xff) return false;
      const rest = take & 7;
      if (rest && (stream[at + (take >> 3)]! & ((1 << rest) - 1)) !== (1 << rest) - 1) return false;
      at += bytes;
      seen += take;
    } else {
      const run = header >>> 1;
      if (run === 0 || run > count - seen || at >= stream.byteLength || stream[at] !== 1) return false;
      at += 1;
      seen += run;
    }
  }
  return true;
}

/** Little-endian u32 at `at`, or -1 when the bytes end first. */
function u32(bytes: Uint8Array, at: number): number {
  if (at + 4 > bytes.byteLength) return -1;
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** The values of one decoded v1 page (after its definition levels), or undefined. */
function valuesOfV1(page: Uint8Array, count: number, shape: ParquetPlainChunk): Uint8Array | undefined {
  let at = 0;
  if (shape.maxDefinition === 1) {
    const length = u32(page, 0);
    if (length < 0 || 4 + length > page.byteLength || !parquetAllLevelsOne(page.subarray(4, 4 + length), count)) return undefined;
    at = 4 + length;
  }
  const end = at + count * shape.itemBytes;
  return end <= page.byteLength ? page.subarray(at, end) : undefined;
}

/**
 * Decodes a column chunk (its stored bytes, from its first page) straight into a new
 * buffer of `rows × itemBytes` bytes, or returns undefined when the chunk is not one
 * this path takes (see the module comment). The pages of an asynchronous codec are
 * decompressed all at once (zstd runs them on libuv's threads).
 */
export async function parquetDecodePlainChunk(chunk: Uint8Array, shape: ParquetPlainChunk): Promise<Uint8Array | undefined> {
  if (shape.maxDefinition > 1 || !(shape.itemBytes === 4 || shape.itemBytes === 8)) return undefined;
  try {
    const pages = plainPages(chunk, shape);
    if (!pages) return undefined;
    // Each page's stored values, decompressed (v2: the levels are stored uncompressed before them).
    const decoded = await Promise.all(pages.map(({ header, body }) => {
      if (header.type === PAGE_DATA_V2) {
        const levels = header.v2!.definitionBytes;
        if (levels > body.byteLength || header.uncompressed < levels) return undefined;
        const stored = body.subarray(levels);
        const size = header.uncompressed - levels;
        return header.v2!.compressed && shape.decompress && size > 0 ? shape.decompress(stored, size) : stored;
      }
      return shape.decompress ? shape.decompress(body, header.uncompressed) : body;
    }));
    // One page (tensio's writer and pyarrow at row groups of up to 1 MiB per column): its
    // freshly decompressed values are the column's bytes, no copy (when aligned for their type).
    const only = pages.length === 1 && shape.decompress && decoded[0] !== pages[0]!.body ? decoded[0] : undefined;
    const out = only && pages[0]!.header.type === PAGE_DATA && shape.maxDefinition === 0 && only.byteOffset % shape.itemBytes === 0
      ? only.subarray(0, shape.rows * shape.itemBytes)
      : allocateZeroed(shape.rows * shape.itemBytes);
    let at = 0;
    for (const [index, { header, body }] of pages.entries()) {
      const page = decoded[index];
      const count = header.values!;
      if (!page) return undefined;
      let values: Uint8Array | undefined;
      if (header.type === PAGE_DATA_V2) {
        const levels = header.v2!.definitionBytes;
        if (shape.maxDefinition === 1 && !parquetAllLevelsOne(body.subarray(0, levels), count)) return undefined;
        values = page.byteLength >= count * shape.itemBytes ? page.subarray(0, count * shape.itemBytes) : undefined;
      } else values = valuesOfV1(page, count, shape);
      if (!values) return undefined;
      if (values.buffer !== out.buffer || values.byteOffset !== out.byteOffset + at) out.set(values, at);
      at += values.byteLength;
    }
    return out;
  } catch {
    // The general path decodes the chunk again and reports what is wrong with it.
    return undefined;
  }
}
