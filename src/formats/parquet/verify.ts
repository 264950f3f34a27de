/**
 * `verify` for Parquet: every page header of every column chunk is walked (a small
 * Thrift compact-protocol reader: the `PageHeader` sizes and its optional `crc`), each
 * page that carries a CRC has it recomputed over its stored bytes (CRC-32, as the
 * format says), then every tensor is read through. One chunk in memory at a time.
 */
import { crc32 } from 'node:zlib';
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { verifyTensors } from '../../model/verify-loop.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { openSourceInput } from '../../storage/source-input.js';
import { parquetAsyncBuffer, parquetDecodeColumn, parquetOpen, parquetReadMetadata } from './reader.js';
import { parquetTopFields } from './schema.js';
import { PARQUET_MAX_COLUMN_CHUNK_BYTES } from '../../core/limits.js';

/** A Thrift compact-protocol cursor over bytes, reading only what page headers need. */
class ThriftCursor {
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
function pageHeader(cursor: ThriftCursor): { compressed: number; crc?: number } {
  let compressed = -1;
  let crc: number | undefined;
  cursor.struct((id, type) => {
    if (id === 3 && type === 5) { compressed = cursor.zigzag(); return true; }
    if (id === 4 && type === 5) { crc = cursor.zigzag() >>> 0; return true; }
    return false;
  });
  if (compressed < 0) throw new TensioError('INVALID_HEADER', 'parquet: a page header has no compressed size', { format: 'parquet' });
  return { compressed, ...(crc !== undefined ? { crc } : {}) };
}

/**
 * Verifies a Parquet file: page CRCs where present, then every tensor read through.
 *
 * @example
 * ```ts
 * const report = await parquetVerify('table.parquet');
 * if (!report.ok) console.error(report.problems);
 * ```
 */
export async function parquetVerify(input: string | ByteSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { signal } = options;
  const opened = await openSourceInput(input, { ...(signal ? { signal } : {}), ...(options.http ? { http: options.http } : {}) });
  const { source } = opened;
  const path = typeof input === 'string' ? input : source.name ?? '<source>';
  const problems: VerifyProblem[] = [];
  let pagesChecked = 0;
  let pagesWithout = 0;
  try {
    const metadata = await parquetReadMetadata(source, signal ? { signal } : {});
    for (const [groupIndex, group] of metadata.row_groups.entries()) {
      for (const chunk of group.columns) {
        throwIfAborted(signal);
        const meta = chunk.meta_data;
        if (!meta) continue;
        const name = meta.path_in_schema.join('.');
        const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
        const length = Number(meta.total_compressed_size);
        if (length > PARQUET_MAX_COLUMN_CHUNK_BYTES || start < 4 || start + length > source.size) {
          problems.push({ code: 'INVALID_OFFSET', message: `parquet: column "${name}" of row group ${groupIndex} spans ${start}..${start + length}, outside the file or over the limit`, tensor: name });
          continue;
        }
        const bytes = await source.read(start, length, signal ? { signal } : undefined);
        const cursor = new ThriftCursor(bytes);
        let page = 0;
        try {
          while (cursor.at < bytes.byteLength) {
            const header = pageHeader(cursor);
            const bodyStart = cursor.at;
            cursor.advance(header.compressed);
            if (header.crc === undefined) { pagesWithout++; } else {
              const actual = crc32(bytes.subarray(bodyStart, cursor.at)) >>> 0;
              if (actual !== header.crc) {
                problems.push({ code: 'CHECKSUM_MISMATCH', message: `parquet: page ${page} of column "${name}" in row group ${groupIndex} has CRC-32 0x${actual.toString(16).padStart(8, '0')}, its header says 0x${header.crc.toString(16).padStart(8, '0')}`, tensor: name });
              } else pagesChecked++;
            }
            page++;
          }
        } catch (error) {
          if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
          problems.push({ code: error.code, message: error.message, tensor: name });
        }
      }
    }
    // Every column (numeric or not) decoded once: row counts per row group, no nulls in REQUIRED columns.
    const fields = parquetTopFields(metadata);
    const file = parquetAsyncBuffer(source, signal);
    let first = 0;
    for (const [groupIndex, group] of metadata.row_groups.entries()) {
      const rows = Number(group.num_rows);
      for (const field of fields) {
        throwIfAborted(signal);
        const name = field.element.name;
        let decoded = 0;
        let nulls = 0;
        try {
          await parquetDecodeColumn(file, metadata, name, first, first + rows, PARQUET_MAX_COLUMN_CHUNK_BYTES, `row group ${groupIndex}`, (chunk) => {
            const from = Math.max(first, chunk.rowStart);
            const to = Math.min(first + rows, chunk.rowStart + chunk.columnData.length);
            for (let row = from; row < to; row++) {
              const value = chunk.columnData[row - chunk.rowStart];
              if (value === null || value === undefined) nulls++;
            }
            decoded += Math.max(0, to - from);
          });
          if (decoded !== rows) problems.push({ code: 'SIZE_MISMATCH', message: `parquet: column "${name}" decodes to ${decoded} rows in row group ${groupIndex}, which holds ${rows}`, tensor: name });
          else if (field.element.repetition_type === 'REQUIRED' && nulls > 0) problems.push({ code: 'INVALID_LAYOUT', message: `parquet: REQUIRED column "${name}" has ${nulls} nulls in row group ${groupIndex}`, tensor: name });
        } catch (error) {
          if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
          problems.push({ code: error.code, message: error.message, tensor: name });
        }
      }
      first += rows;
    }
  } catch (caught) {
    // hyparquet hands back whatever a damaged footer decodes to; anything that trips over it is a bad header.
    const error = caught instanceof TensioError ? caught : new TensioError('INVALID_HEADER', `parquet: the footer does not describe a readable file: ${(caught as Error).message}`, { format: 'parquet', cause: caught });
    if (error.code === 'ABORTED') {
      if (opened.owned) await source.close?.();
      throw error;
    }
    problems.push({ code: error.code, message: error.message });
    if (opened.owned) await source.close?.();
    return { ok: false, format: 'parquet', path, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems };
  }
  // Then read every tensor through (decoding catches what CRCs do not cover).
  let tally: Awaited<ReturnType<typeof verifyTensors>>;
  try {
    tally = await verifyTensors(() => parquetOpen(source, { formatOptions: { ...(options.formatOptions ?? {}), skipNonNumeric: true }, ...(signal ? { signal } : {}) }), {
      ...(signal ? { signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } finally {
    if (opened.owned) await source.close?.();
  }
  const all = [...problems, ...tally.problems];
  return {
    ok: all.length === 0,
    format: 'parquet',
    path,
    tensors: tally.tensors,
    checksumsVerified: pagesChecked,
    withoutChecksum: tally.withoutChecksum + tally.tensors,
    problems: all,
    checksumNote: `page CRC-32s: ${pagesChecked} pages checked, ${pagesWithout} pages without one`,
  };
}
