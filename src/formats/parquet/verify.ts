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
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { parquetAsyncBuffer, parquetDecodeColumn, parquetOpen, parquetReadMetadata } from './reader.js';
import { pageHeader, ThriftCursor } from './page-headers.js';
import { parquetTopFields } from './schema.js';
import { PARQUET_MAX_CHUNK_VALUES, PARQUET_MAX_COLUMN_CHUNK_BYTES } from '../../core/limits.js';


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
  const opened = await openSourceInput(input, sourceOptionsOf(options, signal));
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
        const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
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
          await parquetDecodeColumn(file, metadata, name, first, first + rows, { maxChunkBytes: PARQUET_MAX_COLUMN_CHUNK_BYTES, maxChunkValues: PARQUET_MAX_CHUNK_VALUES }, `row group ${groupIndex}`, (chunk) => {
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
