/**
 * Parquet page headers, read with a minimal Thrift compact-protocol cursor: their sizes,
 * CRC-32s, value counts and encodings, for `verify` (CRCs), for the checks made
 * before any page is decoded (`page-check.ts`) and for the fast page path
 * (`plain-pages.ts`); also the page-type and encoding numbers those files compare with.
 */
import { TensioError } from '../../core/errors.js';
import { anchorShape } from '../../core/shape-anchors.js';

/** A Thrift compact-protocol cursor over bytes, reading only what page headers need. */
export class ThriftCursor {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.at >= this.bytes.byteLength) throw new TensioError('TRUNCATED', 'parquet: a page header runs past its column chunk', { format: 'parquet' });
    return this.bytes[this.at++]!;
  }
  varint(): number {
    let result = 0;
    // 2 ** shift as a running product: `**` answers a double even for 1 or 128, and a double
    // moved into `at` (a binary field skipped) gave every cursor a new shape (see the anchor below).
    let scale = 1;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
      shift += 7;
      if (shift > 63) throw new TensioError('INVALID_HEADER', 'parquet: a varint in a page header is too long', { format: 'parquet' });
    }
  }
  zigzag(): number {
    const value = this.varint();
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }
  skip(type: number, depth: number): void {
    if (depth > 32) throw new TensioError('INVALID_HEADER', 'parquet: a page header nests deeper than 32', { format: 'parquet' });
    switch (type) {
      case 1: case 2: return;
      case 3: this.byte(); return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.advance(8); return;
      case 8: this.advance(this.varint()); return;
      case 9: case 10: {
        const header = this.byte();
        const size = (header >> 4) === 15 ? this.varint() : header >> 4;
        for (let i = 0; i < size; i++) this.skip((header & 0x0f) === 1 || (header & 0x0f) === 2 ? 3 : header & 0x0f, depth + 1);
        return;
      }
      case 11: {
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) { this.skip(types >> 4, depth + 1); this.skip(types & 0x0f, depth + 1); }
        return;
      }
      case 12: this.struct(() => false, depth + 1); return;
      default: throw new TensioError('INVALID_HEADER', `parquet: unknown thrift type ${type} in a page header`, { format: 'parquet' });
    }
  }
  advance(count: number): void {
    if (this.at + count > this.bytes.byteLength) throw new TensioError('TRUNCATED', 'parquet: a page header runs past its column chunk', { format: 'parquet' });
    this.at += count;
  }
  /** Reads a struct; `field(id, type)` consumes a field it wants and returns true, others are skipped. */
  struct(field: (id: number, type: number) => boolean, depth = 0): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === 0) return;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      last = id;
      if (!field(id, type)) this.skip(type, depth);
    }
  }
}

/** Its shape kept between reads (`core/shape-anchors.ts`): a cursor is made per column chunk. */
anchorShape(() => new ThriftCursor(new Uint8Array(0)));

/** Parquet's PageType values that the readers act on (1, the index page, is only skipped). */
export const PAGE_DATA = 0;
export const PAGE_DICTIONARY = 2;
export const PAGE_DATA_V2 = 3;
/** Parquet's Encoding values that the readers act on. */
export const ENCODING_PLAIN = 0;
/** PLAIN_DICTIONARY (deprecated spelling, Parquet 1.0 writers) and RLE_DICTIONARY: indices into the dictionary page. */
export const ENCODING_PLAIN_DICTIONARY = 2;
export const ENCODING_RLE = 3;
export const ENCODING_RLE_DICTIONARY = 8;

/** Whether a page's values are indices into the dictionary page (either spelling). */
export function isDictionaryEncoding(encoding: number | undefined): boolean {
  return encoding === ENCODING_PLAIN_DICTIONARY || encoding === ENCODING_RLE_DICTIONARY;
}

/**
 * One page header: the fields the checks need. Integers are read as hyparquet reads them
 * (32-bit varints, zigzag), so a check sees the numbers the decoder will trust.
 */
export interface ParquetPageHeader {
  /** PageType: 0 data page, 1 index page, 2 dictionary page, 3 data page v2 (-1: absent). */
  readonly type: number;
  readonly uncompressed: number;
  readonly compressed: number;
  readonly dictionary: boolean;
  readonly crc?: number;
  /** num_values of the data, dictionary or v2 header. */
  readonly values?: number;
  /** Encoding of the values (Parquet's enum: 0 PLAIN, 2 PLAIN_DICTIONARY, 3 RLE, 8 RLE_DICTIONARY, …). */
  readonly encoding?: number;
  /** Data page v2 only: null count, level byte lengths and whether the values are compressed. */
  readonly v2?: { readonly nulls: number; readonly definitionBytes: number; readonly repetitionBytes: number; readonly compressed: boolean };
}

/** hyparquet's i32: a varint folded into 32 bits, then zigzag. */
function i32(cursor: ThriftCursor): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = cursor.byte();
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  return (result >>> 1) ^ -(result & 1);
}

/** The sizes, CRC, value count and encodings of one page header (value count and encoding from the struct its type names). */
export function pageHeader(cursor: ThriftCursor): ParquetPageHeader {
  let type = -1;
  let uncompressed = -1;
  let compressed = -1;
  let crc: number | undefined;
  // The three page structs, each { values, encoding }; the page type says which one hyparquet uses.
  const structs = new Map<number, { values?: number; encoding?: number }>();
  let v2: { nulls: number; definitionBytes: number; repetitionBytes: number; compressed: boolean } | undefined;
  // data_page_header (5) and dictionary_page_header (7): 1 num_values, 2 encoding;
  // data_page_header_v2 (8): 1 num_values, 2 num_nulls, 4 encoding, 5/6 level bytes, 7 is_compressed.
  const pageStruct = (kind: number): void => {
    const found: { values?: number; encoding?: number } = {};
    const header = { nulls: 0, definitionBytes: 0, repetitionBytes: 0, compressed: true };
    cursor.struct((id, fieldType) => {
      if (fieldType === 5 && id === 1) { found.values = i32(cursor); return true; }
      if (fieldType === 5 && id === (kind === 8 ? 4 : 2)) { found.encoding = i32(cursor); return true; }
      if (kind !== 8) return false;
      if (fieldType === 5 && id === 2) { header.nulls = i32(cursor); return true; }
      if (fieldType === 5 && id === 5) { header.definitionBytes = i32(cursor); return true; }
      if (fieldType === 5 && id === 6) { header.repetitionBytes = i32(cursor); return true; }
      // Compact-protocol booleans carry their value in the field type (1 true, 2 false).
      if (id === 7 && (fieldType === 1 || fieldType === 2)) { header.compressed = fieldType === 1; return true; }
      return false;
    }, 1);
    structs.set(kind, found);
    if (kind === 8) v2 = header;
  };
  cursor.struct((id, fieldType) => {
    if (id === 1 && fieldType === 5) { type = i32(cursor); return true; }
    if (id === 2 && fieldType === 5) { uncompressed = i32(cursor); return true; }
    if (id === 3 && fieldType === 5) { compressed = i32(cursor); return true; }
    if (id === 4 && fieldType === 5) { crc = i32(cursor) >>> 0; return true; }
    if ((id === 5 || id === 7 || id === 8) && fieldType === 12) { pageStruct(id); return true; }
    return false;
  });
  if (compressed < 0) throw new TensioError('INVALID_HEADER', 'parquet: a page header has no compressed size', { format: 'parquet' });
  // Page type 0 reads field 5, 2 reads field 7, 3 reads field 8; a header without a type: whichever it has.
  const kind = type === PAGE_DATA ? 5 : type === PAGE_DICTIONARY ? 7 : type === PAGE_DATA_V2 ? 8 : [...structs.keys()].pop();
  const chosen = kind !== undefined ? structs.get(kind) : undefined;
  return {
    type, uncompressed, compressed, dictionary: kind === 7,
    ...(crc !== undefined ? { crc } : {}),
    ...(chosen?.values !== undefined ? { values: chosen.values } : {}),
    ...(chosen?.encoding !== undefined ? { encoding: chosen.encoding } : {}),
    ...(kind === 8 && v2 ? { v2 } : {}),
  };
}
