/**
 * Reading Parquet: the footer is checked by hand first (magic at both ends, footer
 * length inside the file and under the limit, encrypted footers refused), then parsed
 * by hyparquet; each row group is one batch of the table reader, decoded by hyparquet
 * for the selected columns only when its rows are read.
 */
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type ColumnMetaData, type FileMetaData } from 'hyparquet';
import { DTYPE_INFO, type DType } from '../../core/dtype.js';
import { float32ToFloat16Bits } from '../../core/float-convert.js';
import { errorFactory, TensioError } from '../../core/errors.js';
import { PARQUET_MAX_CHUNK_VALUES, PARQUET_MAX_COLUMN_CHUNK_BYTES, PARQUET_MAX_FOOTER_BYTES } from '../../core/limits.js';
import type { TableColumnBatch } from '../../model/table-cells.js';
import { createTableReader, type TableBatch } from '../../model/table-reader.js';
import type { OpenOptions, TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { ScratchPool, TABLE_READ_SCRATCH } from '../../storage/scratch-pool.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { parquetLevels, parquetPlainChunkSetup } from './chunk-setup.js';
import { parquetDecompressors, parquetLoadZstd } from './codecs.js';
import { parquetCheckChunk } from './page-check.js';
import { parquetDecodePlainChunk, type ParquetPlainColumn } from './plain-pages.js';
import { parquetRowGroupBands, type ParquetBandedRowGroup } from './row-group-bands.js';
import { parquetTableColumns, parquetTopFields, type ParquetTopField } from './schema.js';
import type { ParquetOpenOptions } from './types.js';
import { allocateZeroed } from '../../core/memory.js';

const fail = errorFactory('parquet');


/**
 * Row groups a whole read of one column tensor decodes at once (`columnLoadConcurrency`):
 * two, so that a column's snappy or zstd pages keep both of libuv's busy threads of a
 * 2-core machine at work while the main thread reads the next chunk. 1M × 32 float32
 * snappy, 10 row groups, 32 column tensors, interleaved (load ~4): 843 → 501 ms wall at
 * the same CPU; 3 was no better. Memory: one more chunk of the column in flight.
 */
const PARQUET_COLUMN_LOAD_CONCURRENCY = 2;


/** hyparquet's view of a byte source. */
export function parquetAsyncBuffer(source: ByteSource, signal?: AbortSignal): AsyncBuffer {
  return {
    byteLength: source.size,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? source.size, source.size);
      const bytes = await source.read(start, Math.max(0, stop - start), signal ? { signal } : undefined);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Checks magic and footer length, then parses the footer. */
export async function parquetReadMetadata(source: ByteSource, options: { maxFooterBytes?: number; signal?: AbortSignal } = {}): Promise<FileMetaData> {
  const size = source.size;
  if (size < 12) fail('TRUNCATED', `parquet: a file of ${size} bytes is too short for the magic and footer (12 bytes at least)`);
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const head = await source.read(0, 4, readOptions);
  const tail = await source.read(size - 8, 8, readOptions);
  const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);
  if (text(tail.subarray(4)) === 'PARE') fail('UNSUPPORTED_FEATURE', 'parquet: the footer is encrypted (PARE); tensio reads plaintext-footer files only');
  if (text(head) !== 'PAR1' || text(tail.subarray(4)) !== 'PAR1') {
    fail('BAD_MAGIC', `parquet: the file must start and end with PAR1 (found ${JSON.stringify(text(head))} … ${JSON.stringify(text(tail.subarray(4)))}); truncated or not Parquet`);
  }
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  if (footerLength > size - 12) fail('INVALID_OFFSET', `parquet: footer length ${footerLength} is more than the ${size - 12} bytes between the magics`);
  const limit = options.maxFooterBytes ?? PARQUET_MAX_FOOTER_BYTES;
  if (footerLength > limit) fail('LIMIT_EXCEEDED', `parquet: footer of ${footerLength} bytes exceeds the limit ${limit} (option maxFooterBytes)`);
  try {
    return await parquetMetadataAsync(parquetAsyncBuffer(source, options.signal), { initialFetchSize: Math.min(size, footerLength + 8) } as never);
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    return fail('INVALID_HEADER', `parquet: cannot parse the footer: ${(cause as Error).message}`, { cause });
  }
}

/** Bounds of one column decode. */
export interface ParquetDecodeLimits {
  /** Largest column chunk, stored or decoded (pages may decode to twice its declared decoded size, plus 1 MiB: some writers understate it). */
  readonly maxChunkBytes: number;
  /** Most values the pages of one chunk may declare (flat columns: also at most the row group's rows). */
  readonly maxChunkValues: number;
}


/**
 * Decodes rows `[rowStart, rowEnd)` (one row group) of one top-level column with hyparquet.
 * Every column chunk it spans is read once and checked first (`parquetCheckChunk`: value
 * counts, level and index run lengths), then handed to hyparquet from memory, with the
 * pages the check decompressed; any failure becomes a `TensioError` naming the column.
 */
export async function parquetDecodeColumn(file: AsyncBuffer, metadata: FileMetaData, column: string, rowStart: number, rowEnd: number, limits: ParquetDecodeLimits, where: string,
  onChunk: (chunk: { columnName: string; columnData: ArrayLike<unknown>; rowStart: number }) => void): Promise<void> {
  if (metadata.row_groups.some((group) => group.columns.some((chunk) => chunk.meta_data?.codec === 'ZSTD'))) await parquetLoadZstd();
  let pageBound = 0;
  let decompressors = parquetDecompressors(0);
  // Chunks read for the check, by byte range, given to hyparquet instead of a second read;
  // pages the check decompressed, by their place in those chunks, given back the same way.
  const chunks = new Map<string, ArrayBuffer>();
  const pages = new Map<ArrayBuffer, Map<number, Uint8Array>>();
  try {
    let first = 0;
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const overlaps = first < rowEnd && first + rows > rowStart;
      first += rows;
      if (!overlaps) continue;
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (!meta || meta.path_in_schema[0] !== column) continue;
        // hyparquet's chunk start: the dictionary page when the offset is set (an offset of 0 is not).
        const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
        const length = Number(meta.total_compressed_size);
        const what = `column "${meta.path_in_schema.join('.')}" in ${where}`;
        if (!(Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(length) && length >= 0)) fail('INVALID_OFFSET', `parquet: ${what} spans ${start} + ${length} bytes`);
        const decoded = Number(meta.total_uncompressed_size);
        if (length > limits.maxChunkBytes || decoded > limits.maxChunkBytes) {
          fail('LIMIT_EXCEEDED', `parquet: ${what} holds ${length} bytes (${decoded} decoded), more than the limit ${limits.maxChunkBytes} (option maxColumnChunkBytes)`);
        }
        // Pages must fit in their chunk's decoded size; some writers understate it, so allow slack, never gigabytes.
        const bound = Math.min(limits.maxChunkBytes, 2 * Math.max(decoded, length) + 2 ** 20);
        if (bound > pageBound) decompressors = parquetDecompressors(pageBound = bound);
        const buffer = await file.slice(start, start + length);
        chunks.set(`${start}:${start + length}`, buffer);
        const levels = parquetLevels(metadata, meta.path_in_schema);
        const maxValues = levels.flat ? Math.min(rows, limits.maxChunkValues) : limits.maxChunkValues;
        const codec = decompressors[meta.codec as keyof typeof decompressors];
        const kept = new Map<number, Uint8Array>();
        pages.set(buffer, kept);
        const decompress = meta.codec === 'UNCOMPRESSED' ? (bytes: Uint8Array) => bytes : codec ? (bytes: Uint8Array, size: number) => {
          const page = codec(bytes, size);
          kept.set(bytes.byteOffset, page);
          return page;
        } : undefined;
        try {
          parquetCheckChunk(new Uint8Array(buffer), { ...levels, maxValues, decompress, where: what });
        } catch (error) {
          if (error instanceof TensioError && error.code === 'INVALID_HEADER' && /values or more/.test(error.message) && maxValues === limits.maxChunkValues) {
            fail('LIMIT_EXCEEDED', `${error.message.replace(/; its row group holds.*/, '')}, more than the limit ${limits.maxChunkValues} (option maxChunkValues)`);
          }
          throw error;
        }
      }
    }
    const reading: AsyncBuffer = {
      byteLength: file.byteLength,
      slice: (start, end) => chunks.get(`${start}:${end}`) ?? file.slice(start, end),
    };
    // hyparquet hands each page's bytes as a view of the chunk it was given: a page the check decompressed is found by its offset.
    const compressors = Object.fromEntries(Object.entries(decompressors).map(([name, decompress]) => [name, (input: Uint8Array, size: number) => {
      const kept = pages.get(input.buffer as ArrayBuffer)?.get(input.byteOffset);
      if (kept && kept.byteLength === size) {
        pages.get(input.buffer as ArrayBuffer)!.delete(input.byteOffset);
        return kept;
      }
      return decompress!(input, size);
    }]));
    await parquetRead({ file: reading, metadata, columns: [column], rowStart, rowEnd, compressors, utf8: false, onChunk: onChunk as never });
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    fail('INVALID_HEADER', `parquet: cannot decode column "${column}" in ${where}: ${(cause as Error).message}`, { cause });
  }
}


/**
 * One column of one row group through the fast path: its PLAIN pages copied (or
 * decoded in place), its dictionary-encoded pages gathered, into the column's bytes
 * (`into`, or a pooled buffer given back by `release`). Undefined when the column is not
 * one that path takes (see {@link parquetPlainChunkSetup}).
 */
async function parquetReadPlainColumn(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, into: Uint8Array | undefined, where: string, signal?: AbortSignal): Promise<ParquetPlainColumn | undefined> {
  const setup = await parquetPlainChunkSetup(source, metadata, field, dtype, rows, chunkMeta, maxChunkBytes, pool, where, signal);
  if (!setup) return undefined;
  let taken: Uint8Array | undefined;
  // Column buffers from the pool too (when reading into pooled buffers): given back by `release` once a stacked read has placed them.
  const allocate = pool && source.readInto ? (size: number) => (taken = pool.take(size)) : undefined;
  let column: ParquetPlainColumn | undefined;
  try {
    column = await parquetDecodePlainChunk(setup.chunk, { ...setup.shape, ...(allocate ? { allocate } : {}), ...(into ? { into } : {}) });
  } catch (error) {
    // A damaged dictionary index stream (every decode has settled): refused, its buffers given back.
    if (taken) pool!.give(taken);
    setup.finish();
    throw error;
  }
  // Returned (a column or undefined; it never throws): every decode has settled, nothing writes these buffers any more.
  if (taken && column?.values !== taken) pool!.give(taken);
  // A decoded page that became the column's values goes back with `release`; the others are done with.
  setup.finish(column?.values);
  return column;
}


/** One decoded column of a row group as table cells. */
function toCells(dtype: DType, values: ArrayLike<unknown>, rows: number): TableColumnBatch {
  const item = DTYPE_INFO[dtype].bits / 8;
  const out = allocateZeroed(rows * item);
  let validity: Uint8Array | undefined;
  const markNull = (row: number) => {
    validity ??= new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
    validity[row >> 3]! &= ~(1 << (row & 7));
  };
  const view = new DataView(out.buffer);
  if (values.length < rows) fail('TRUNCATED', `parquet: a column decoded to ${values.length} values, ${rows} expected`);
  // Fast paths: typed arrays of the right element type are copied whole.
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    const typed = values as unknown as { buffer: ArrayBuffer; byteOffset: number; BYTES_PER_ELEMENT: number };
    const matches = (dtype === 'float32' && values instanceof Float32Array) || (dtype === 'float64' && values instanceof Float64Array)
      || (dtype === 'int32' && values instanceof Int32Array) || (dtype === 'int64' && values instanceof BigInt64Array)
      || (dtype === 'uint64' && values instanceof BigUint64Array) || (dtype === 'uint32' && values instanceof Uint32Array);
    if (matches) {
      out.set(new Uint8Array(typed.buffer, typed.byteOffset, rows * item));
      return { values: out };
    }
  }
  for (let row = 0; row < rows; row++) {
    const value = values[row];
    if (value === null || value === undefined) { markNull(row); continue; }
    const at = row * item;
    switch (dtype) {
      case 'bool': out[at] = value ? 1 : 0; break;
      case 'int8': view.setInt8(at, Number(value)); break;
      case 'uint8': view.setUint8(at, Number(value)); break;
      case 'int16': view.setInt16(at, Number(value), true); break;
      case 'uint16': view.setUint16(at, Number(value), true); break;
      case 'int32': view.setInt32(at, Number(value), true); break;
      case 'uint32': view.setUint32(at, Number(value), true); break;
      case 'int64': view.setBigInt64(at, BigInt(value as bigint | number), true); break;
      case 'uint64': view.setBigUint64(at, BigInt.asUintN(64, BigInt(value as bigint | number)), true); break;
      case 'float16': view.setUint16(at, float32ToFloat16Bits(Number(value)), true); break;
      case 'float32': view.setFloat32(at, Number(value), true); break;
      case 'float64': view.setFloat64(at, Number(value), true); break;
      default: fail('UNSUPPORTED_DTYPE', `parquet: cannot read ${dtype} cells`);
    }
  }
  return validity ? { values: out, validity } : { values: out };
}

/**
 * Opens a Parquet file as a `TensorReader` (a table reader, see `model/table.ts`).
 *
 * @example
 * ```ts
 * await using reader = await parquetOpen('table.parquet', { formatOptions: { columns: 'separate', select: ['x', 'y'] } });
 * ```
 */
export async function parquetOpen(input: string | ByteSource, options: OpenOptions = {}): Promise<TensorReader> {
  const opened = await openSourceInput(input, sourceOptionsOf(options));
  const { source } = opened;
  const close = async () => { if (opened.owned) await source.close?.(); };
  try {
    return await parquetOpenSource(source, (options.formatOptions ?? {}) as ParquetOpenOptions, close, options.signal);
  } catch (error) {
    await close();
    throw error;
  }
}

async function parquetOpenSource(source: ByteSource, options: ParquetOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  try {
    return await parquetOpenChecked(source, options, close, signal);
  } catch (cause) {
    // hyparquet hands back whatever a damaged footer decodes to; anything that trips over it is a bad header.
    if (cause instanceof TensioError) throw cause;
    return fail('INVALID_HEADER', `parquet: the footer does not describe a readable file: ${(cause as Error).message}`, { cause });
  }
}

async function parquetOpenChecked(source: ByteSource, options: ParquetOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  const metadata = await parquetReadMetadata(source, { ...(options.maxFooterBytes !== undefined ? { maxFooterBytes: options.maxFooterBytes } : {}), ...(signal ? { signal } : {}) });
  let fields;
  try {
    fields = parquetTopFields(metadata);
  } catch (cause) {
    fail('INVALID_HEADER', `parquet: bad schema: ${(cause as Error).message}`, { cause });
  }
  const columns = parquetTableColumns(metadata, fields!);
  const maxChunk = options.maxColumnChunkBytes ?? PARQUET_MAX_COLUMN_CHUNK_BYTES;
  const maxChunkValues = options.maxChunkValues ?? PARQUET_MAX_CHUNK_VALUES;
  const codecs = new Set<string>();
  const file = parquetAsyncBuffer(source, signal);
  // Stored chunk bytes of the fast path, reused from row group to row group and from read to read.
  const pool = TABLE_READ_SCRATCH;
  // A streamed stacked read's windows and decoded pages (a few per column: 32 columns of ~1 MiB pages hold ~100).
  const streamPool = new ScratchPool(256, 16 * 2 ** 20);
  let first = 0;
  const totalRows = Number(metadata.num_rows);
  const batches: TableBatch[] = metadata.row_groups.map((group, index) => {
    const rows = Number(group.num_rows);
    const start = first;
    first += rows;
    let offset = Number.MAX_SAFE_INTEGER;
    let stored = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      codecs.add(meta.codec);
      offset = Math.min(offset, Number(meta.dictionary_page_offset ?? meta.data_page_offset));
      stored += Number(meta.total_compressed_size);
    }
    /** Refuses a wanted column without metadata or whose chunk runs past the end of the file. */
    const checkChunks = (wanted: readonly number[]) => {
      for (const column of wanted) {
        const meta = group.columns[fields![column]!.leafIndex!]?.meta_data;
        if (!meta) fail('INVALID_HEADER', `parquet: row group ${index} has no metadata for column "${columns[column]!.name}"`);
        const stored = Number(meta!.total_compressed_size);
        // A chunk starts at its dictionary page when it has one (an offset of 0, written by old parquet-mr, is none: hyparquet's rule).
        const chunkStart = Number(meta!.dictionary_page_offset || meta!.data_page_offset);
        if (chunkStart + stored > source.size) {
          fail('INVALID_OFFSET', `parquet: column "${columns[column]!.name}" in row group ${index} runs past the end of the file (${chunkStart} + ${stored} > ${source.size})`);
        }
      }
    };
    const batch: TableBatch = {
      rows,
      offset: offset === Number.MAX_SAFE_INTEGER ? 0 : offset,
      storedLength: stored,
      label: `row group ${index}`,
      release(data) {
        // Only what the pool handed out goes back to it (it ignores other buffers).
        for (const column of data) if (column) pool.give(column.values);
      },
      bands: (wanted, options) => parquetRowGroupBands(bandedRowGroup, wanted, options),
      async load(wanted, _signal, into) {
        checkChunks(wanted);
        const out: (TableColumnBatch | undefined)[] = [];
        // PLAIN columns without nulls first, straight into their bytes (their chunks at once: zstd pages decode in parallel).
        // Every column settled before a refusal (a damaged dictionary index) is passed on: no decode still writes a pooled buffer.
        const settled = await Promise.allSettled(wanted.map((column) => parquetReadPlainColumn(source, metadata, fields![column]!, columns[column]!.dtype, rows, group.columns[fields![column]!.leafIndex!]?.meta_data, maxChunk, pool, into?.column === column ? into.bytes : undefined, `column "${columns[column]!.name}" in row group ${index}`, signal)));
        const fast = settled.map((outcome) => {
          if (outcome.status === 'rejected') throw outcome.reason;
          return outcome.value;
        });
        wanted.forEach((column, position) => { if (fast[position]) out[column] = fast[position]; });
        const rest = wanted.filter((_, position) => !fast[position]);
        if (rest.length === 0) return out;
        if ([...codecs].includes('ZSTD')) await parquetLoadZstd();
        const collected = new Map<string, { data: unknown[] | ArrayLike<unknown>; from: number }[]>();
        // One column per parquetRead call: with several, hyparquet leaves the later columns'
        // promises unawaited when an earlier one fails, and their rejections would go unhandled.
        for (const name of rest.map((column) => columns[column]!.name)) {
          await parquetDecodeColumn(file, metadata, name, start, start + rows, { maxChunkBytes: maxChunk, maxChunkValues }, `row group ${index}`, (chunk) => {
            const list = collected.get(chunk.columnName) ?? [];
            list.push({ data: chunk.columnData as ArrayLike<unknown>, from: chunk.rowStart });
            collected.set(chunk.columnName, list);
          });
        }
        for (const column of rest) {
          const { name, dtype } = columns[column]!;
          const pieces = collected.get(name) ?? [];
          let values: ArrayLike<unknown>;
          if (pieces.length === 1 && pieces[0]!.from === start && pieces[0]!.data.length === rows) values = pieces[0]!.data;
          else {
            const joined = new Array<unknown>(rows);
            for (const piece of pieces) {
              for (let i = 0; i < piece.data.length; i++) {
                const row = piece.from + i - start;
                if (row >= 0 && row < rows) joined[row] = piece.data[i];
              }
            }
            values = joined;
          }
          out[column] = toCells(dtype!, values, rows);
        }
        return out;
      },
    };
    const bandedRowGroup: ParquetBandedRowGroup = {
      source, metadata, group, index, rows, label: batch.label, columns, fields: fields!, maxChunk, pool, streamPool, checkChunks,
      load: (wanted, signal) => batch.load(wanted, signal),
      release: (data) => batch.release!(data),
    };
    return batch;
  });
  // Some writers leave the footer's num_rows at 0 (parquet-testing's repeated_no_annotation); pyarrow trusts the row groups, so do we.
  const footerRows = totalRows;
  const keyValues = Object.fromEntries((metadata.key_value_metadata ?? []).map((entry) => [entry.key, entry.value ?? '']));
  return createTableReader({
    format: 'parquet',
    ...(source.name !== undefined ? { path: source.name } : {}),
    source,
    schema: { columns, rows: first, metadata: keyValues },
    batches,
    metadata: {
      'parquet.rowGroups': metadata.row_groups.length,
      'parquet.compression': [...codecs].join(', ') || 'none',
      ...(metadata.created_by ? { 'parquet.createdBy': metadata.created_by } : {}),
      'parquet.version': metadata.version,
      ...(footerRows !== first ? { 'parquet.footerRows': footerRows } : {}),
    },
    options,
    columnLoadConcurrency: PARQUET_COLUMN_LOAD_CONCURRENCY,
    close,
  });
}
