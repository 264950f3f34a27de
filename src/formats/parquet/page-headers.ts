/**
 * Parquet page headers, read with a minimal Thrift compact-protocol cursor: their sizes,
 * CRC-32s and value counts, for `verify` (CRCs) and for the reader (value counts checked
 * before any page is decoded).
 */
import { TensioError } from '../../core/errors.js';

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
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
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

/** The sizes and CRC of one page header. */
export function pageHeader(cursor: ThriftCursor): { compressed: number; dictionary: boolean; crc?: number; values?: number } {
  let compressed = -1;
  let crc: number | undefined;
  let values: number | undefined;
  let dictionary = false;
  // num_values is field 1 of data_page_header (field 5), dictionary_page_header (field 7)
  // and data_page_header_v2 (field 8).
  const pageValues = (): void => cursor.struct((id, type) => {
    if (id === 1 && type === 5) { values = cursor.zigzag(); return true; }
    return false;
  }, 1);
  cursor.struct((id, type) => {
    if (id === 3 && type === 5) { compressed = cursor.zigzag(); return true; }
    if (id === 4 && type === 5) { crc = cursor.zigzag() >>> 0; return true; }
    if ((id === 5 || id === 7 || id === 8) && type === 12) { dictionary = id === 7; pageValues(); return true; }
    return false;
  });
  if (compressed < 0) throw new TensioError('INVALID_HEADER', 'parquet: a page header has no compressed size', { format: 'parquet' });
  return { compressed, dictionary, ...(crc !== undefined ? { crc } : {}), ...(values !== undefined ? { values } : {}) };
}

/**
 * Walks the page headers of one column chunk (its stored bytes) and refuses a data page
 * declaring more values than `maxValues`, the most the row group can hold, before any
 * page is decoded: a few bytes of run-length encoding can declare millions of values,
 * and the decoder would build them all.
 */
export function parquetCheckPageValues(chunk: Uint8Array, maxValues: number, where: string): void {
  const cursor = new ThriftCursor(chunk);
  let total = 0;
  while (cursor.at < chunk.byteLength) {
    const header = pageHeader(cursor);
    // A dictionary holds at most as many distinct values as the pages that use it.
    if (header.dictionary && header.values !== undefined && header.values > maxValues) {
      throw new TensioError('INVALID_HEADER', `parquet: the dictionary page of ${where} declares ${header.values} values; its row group holds at most ${maxValues}`, { format: 'parquet' });
    }
    if (header.compressed > chunk.byteLength - cursor.at) {
      throw new TensioError('TRUNCATED', `parquet: a page of ${where} declares ${header.compressed} bytes, ${chunk.byteLength - cursor.at} are left in its column chunk`, { format: 'parquet' });
    }
    cursor.advance(header.compressed);
    if (header.values === undefined || header.dictionary) continue;
    if (header.values < 0) throw new TensioError('INVALID_HEADER', `parquet: a page of ${where} declares ${header.values} values`, { format: 'parquet' });
    total += header.values;
    if (total > maxValues) {
      throw new TensioError('INVALID_HEADER', `parquet: the pages of ${where} declare ${total} values or more; its row group holds at most ${maxValues}`, { format: 'parquet' });
    }
  }
}
