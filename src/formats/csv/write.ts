/**
 * Writing CSV/TXT: a 1-D or 2-D array as text, one row per line, streamed (the tensor's
 * bytes arrive in chunks; text leaves in blocks of about 1 MiB), optionally gzipped.
 * Numbers are written in their shortest round-trip form unless `fmt` is given.
 */
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import { DTYPE_INFO, type DType } from '../../core/dtype.js';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { float16BitsToNumber } from '../../core/float-convert.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import { createTableWriter } from '../../model/table-writer.js';
import type { TensorBytes, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { describeWriteTarget, openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { chunksOf } from '../../storage/tensor-bytes.js';
import { zlibPipe } from '../../zip/zlib-stream.js';
import { csvCompileFormat, csvFormatEmitter, type CsvFormatEmitter } from './format-printf.js';
import { csvEmitShortest } from './format-shortest.js';
import { CsvTextBuffer } from './text-buffer.js';
import type { CsvWriteOptions } from './types.js';
import { csvCannotWrite } from './descriptor.js';

const fail = errorFactory('csv');
const gzipAsync = promisify(gzip);

/** Text gathered before it is handed on as one block. */
const TEXT_BLOCK_BYTES = 2 ** 20;

export { CSV_WRITABLE_DTYPES, csvCannotWrite } from './descriptor.js';

/** Reads element i of a row's bytes as a number (or bigint for 64-bit integers). */
type ElementReader = (view: DataView, byteOffset: number) => number | bigint;


function elementReader(dtype: DType): ElementReader {
  switch (dtype) {
    case 'float64': return (v, o) => v.getFloat64(o, true);
    case 'float32': return (v, o) => v.getFloat32(o, true);
    case 'float16': return (v, o) => float16BitsToNumber(v.getUint16(o, true));
    case 'bfloat16': {
      const scratch = new DataView(new ArrayBuffer(4));
      return (v, o) => {
        scratch.setUint32(0, v.getUint16(o, true) << 16);
        return scratch.getFloat32(0);
      };
    }
    case 'int8': return (v, o) => v.getInt8(o);
    case 'uint8': case 'bool': return (v, o) => v.getUint8(o);
    case 'int16': return (v, o) => v.getInt16(o, true);
    case 'uint16': return (v, o) => v.getUint16(o, true);
    case 'int32': return (v, o) => v.getInt32(o, true);
    case 'uint32': return (v, o) => v.getUint32(o, true);
    case 'int64': return (v, o) => v.getBigInt64(o, true);
    case 'uint64': return (v, o) => v.getBigUint64(o, true);
    default: return fail('UNSUPPORTED_DTYPE', `csv: cannot write ${dtype}`);
  }
}

/** The header line (without newline), or undefined. */
function headerLine(options: CsvWriteOptions & { names?: unknown }, columns: number, delimiter: string): string | undefined {
  const { header } = options;
  if (header === undefined || header === false) return undefined;
  const prefix = options.comments ?? '# ';
  if (header === true) {
    // Column names a CSV reader kept in the metadata, else NumPack's col0, col1, …
    const names = Array.isArray(options.names) && options.names.length === columns && options.names.every((n) => typeof n === 'string') ? options.names as string[] : undefined;
    return prefix + (names ?? Array.from({ length: columns }, (_, k) => `col${k}`)).join(delimiter);
  }
  if (typeof header === 'string') return prefix + header;
  if (header.length !== columns) fail('INVALID_ARGUMENT', `csv: header names ${header.length} columns, the array has ${columns}`);
  return prefix + header.join(delimiter);
}

/**
 * How the cells of a row are written into `out`: each value in its column's dtype's
 * shortest form or by `fmt`, the delimiter between cells (none for a whole-row `fmt`),
 * the line ending after the last.
 */
function cellWriter(out: CsvTextBuffer, dtypes: readonly DType[], compiled: CsvFormatEmitter | undefined, delimiter: string, newline: string) {
  const separator = compiled?.rowFormat ? '' : delimiter;
  const separatorByte = separator.length === 1 ? separator.charCodeAt(0) : -1;
  const newlineByte = newline === '\n' ? 0x0a : -1;
  const single = dtypes.map((dtype) => dtype !== 'float64');
  const isFloat = dtypes.map((dtype) => DTYPE_INFO[dtype].kind === 'float');
  return {
    emit(value: number | bigint, column: number): void {
      if (compiled) compiled.emit(out, value, column);
      else if (isFloat[column]) csvEmitShortest(out, value as number, single[column]!);
      else out.text(String(value));
    },
    separate(): void {
      if (separatorByte !== -1) {
        out.ensure(1);
        out.bytes[out.length++] = separatorByte;
      } else if (separator !== '') out.text(separator);
    },
    endLine(): void {
      if (newlineByte !== -1) {
        out.ensure(1);
        out.bytes[out.length++] = newlineByte;
      } else out.text(newline);
    },
  };
}

/**
 * The text of a band of rows of separate columns (each its own dtype): one line per row,
 * the columns' values side by side.
 */
function csvBandText(dtypes: readonly DType[], values: readonly Uint8Array[], rows: number, compiled: CsvFormatEmitter | undefined, delimiter: string, newline: string): Uint8Array {
  const out = new CsvTextBuffer();
  const cells = cellWriter(out, dtypes, compiled, delimiter, newline);
  const readers = dtypes.map(elementReader);
  const widths = dtypes.map((dtype) => DTYPE_INFO[dtype].bits / 8);
  const views = values.map((bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < dtypes.length; column++) {
      if (column > 0) cells.separate();
      cells.emit(readers[column]!(views[column]!, row * widths[column]!), column);
    }
    cells.endLine();
  }
  return out.take();
}

/** Rows of text per band when separate columns are written (one band in memory). */
const CSV_BAND_ROWS = 16_384;

/**
 * The writer of separate columns: each planned tensor (1-D, or `[rows, 1]`) one column,
 * side by side, a header row of the tensors' names unless `header: false` (bare, pandas'
 * style, so `header: 'auto'` reads the names back), streamed a band of rows at a time
 * through the table writer; gzip as one member per band (concatenated members are one
 * gzip file to every reader).
 */
async function csvCreateColumnsWriter(target: WriteTarget, options: WriterOptions, csv: CsvWriteOptions, format: 'csv' | 'txt', gzipped: boolean): Promise<TensorWriter> {
  for (const spec of options.tensors) {
    const reason = csvCannotWrite(spec, format);
    if (reason) fail('UNSUPPORTED_DTYPE', `${format}: ${reason}`);
  }
  const compiled = csv.fmt !== undefined ? csvFormatEmitter(csv.fmt) : undefined;
  if (compiled && compiled.perColumn > 1 && compiled.perColumn !== options.tensors.length) {
    fail('INVALID_ARGUMENT', `${format}: fmt has ${compiled.perColumn} conversions for ${options.tensors.length} columns`);
  }
  const delimiter = csv.delimiter ?? ',';
  const newline = csv.newline ?? '\n';
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  const write = async (text: Uint8Array) => sink.write(gzipped ? new Uint8Array(await gzipAsync(text, { level: 6 })) : text);
  let dtypes: DType[] = [];
  try {
    return createTableWriter({
      format,
      tensors: options.tensors,
      options: { columns: 'separate' },
      bandRows: CSV_BAND_ROWS,
      async begin(plan) {
        const cells = plan.columns.find((column) => column.cellShape.length > 0 && column.cellShape.some((size) => size !== 1));
        if (cells) fail('UNSUPPORTED_FEATURE', `${format}: tensor "${cells.tensor}" would be a column of cells of shape [${cells.cellShape.join(', ')}]; a ${format} column holds one number per row: leave it out (--tensors), or write it alone (a 2-D array is one row per line)`);
        dtypes = plan.columns.map((column) => column.dtype);
        const names = plan.columns.map((column) => column.name);
        const header = headerLine({ ...csv, comments: csv.comments ?? '', header: csv.header === undefined || csv.header === true ? names : csv.header }, names.length, delimiter);
        if (header !== undefined) await write(new TextEncoder().encode(header + newline));
      },
      async writeBand(values, rows) {
        await write(csvBandText(dtypes, values, rows, compiled, delimiter, newline));
      },
      finish: () => sink.close(),
      discard: () => sink.abort(),
    });
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/**
 * The text of an array, streamed: yields blocks of encoded text as rows complete.
 * `spec` gives dtype and shape (1-D: one value per line; 2-D: one row per line).
 *
 * @example
 * ```ts
 * for await (const text of csvTextChunks({ name: 'x', dtype: 'float32', shape: [2, 2] }, bytes, { delimiter: ',' })) sink.write(text);
 * ```
 */
export async function* csvTextChunks(spec: TensorSpec, data: TensorBytes, options: CsvWriteOptions & { signal?: AbortSignal; format?: string; names?: unknown } = {}): AsyncGenerator<Uint8Array> {
  const reason = csvCannotWrite(spec, options.format);
  if (reason) fail('UNSUPPORTED_DTYPE', `${options.format ?? 'csv'}: ${reason}`);
  const delimiter = options.delimiter ?? ',';
  const newline = options.newline ?? '\n';
  const columns = spec.shape.length === 1 ? 1 : spec.shape[1]!;
  const rows = spec.shape[0]!;
  const width = DTYPE_INFO[spec.dtype].bits / 8;
  const rowBytes = columns * width;
  const read = elementReader(spec.dtype);
  const compiled = options.fmt !== undefined ? csvFormatEmitter(options.fmt) : undefined;
  if (compiled && compiled.perColumn > 1 && compiled.perColumn !== columns) {
    fail('INVALID_ARGUMENT', `csv: fmt has ${compiled.perColumn} conversions for ${columns} columns`);
  }
  const out = new CsvTextBuffer();
  const { emit, separate, endLine } = cellWriter(out, Array.from({ length: columns }, () => spec.dtype), compiled, delimiter, newline);
  const header = headerLine(options, columns, delimiter);
  if (header !== undefined) out.utf8(header + newline);
  let carry = new Uint8Array(0);
  let written = 0;
  for await (let chunk of chunksOf(data, options.signal)) {
    throwIfAborted(options.signal);
    if (carry.byteLength > 0) {
      const joined = new Uint8Array(carry.byteLength + chunk.byteLength);
      joined.set(carry, 0);
      joined.set(chunk, carry.byteLength);
      chunk = joined;
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const whole = rowBytes === 0 ? 0 : Math.floor(chunk.byteLength / rowBytes);
    for (let r = 0; r < whole; r++) {
      let at = r * rowBytes;
      emit(read(view, at), 0);
      for (let k = 1; k < columns; k++) {
        at += width;
        separate();
        emit(read(view, at), k);
      }
      endLine();
      if (out.length >= TEXT_BLOCK_BYTES) yield out.take();
    }
    written += whole;
    // Copy the partial row: the caller may reuse the chunk's buffer.
    carry = chunk.slice(whole * rowBytes);
  }
  if (carry.byteLength > 0 || (rowBytes > 0 && written !== rows)) {
    fail('SIZE_MISMATCH', `csv: ${written} whole rows and ${carry.byteLength} stray bytes for ${rows} rows of ${rowBytes} bytes`);
  }
  if (out.length > 0) yield out.take();
}

/**
 * Creates a writer of one array as CSV (or TXT with `format: 'txt'`) text. gzip when
 * `gzip` is set or the path ends in `.gz`.
 *
 * @example
 * ```ts
 * const writer = await csvCreateWriter('x.csv', { tensors: [{ name: 'x', dtype: 'float64', shape: [3, 2] }] });
 * await writer.add('x', bytes);
 * await writer.close();
 * ```
 */
export async function csvCreateWriter(target: WriteTarget, options: WriterOptions & { csv?: CsvWriteOptions; format?: 'csv' | 'txt' }): Promise<TensorWriter> {
  const format = options.format ?? 'csv';
  const mode = options.csv?.columns ?? 'stack';
  if (mode !== 'stack' && mode !== 'separate') fail('INVALID_ARGUMENT', `${format}: columns must be 'stack' or 'separate', got ${JSON.stringify(mode)}`);
  if (mode === 'separate') {
    const csv: CsvWriteOptions = { ...(format === 'txt' ? { delimiter: ' ' } : {}), ...options.csv };
    if (csv.fmt !== undefined) csvCompileFormat(csv.fmt);
    return csvCreateColumnsWriter(target, options, csv, format, csv.gzip ?? (describeWriteTarget(target)?.toLowerCase().endsWith('.gz') ?? false));
  }
  if (options.tensors.length !== 1) {
    fail('INVALID_ARGUMENT', `${format}: a ${format} file holds exactly one array, the plan has ${options.tensors.length} (${options.tensors.slice(0, 5).map((t) => t.name).join(', ')}${options.tensors.length > 5 ? ', …' : ''}); pick one with --tensors, write each as a column (columns: 'separate'), or write .npz`);
  }
  const spec = options.tensors[0]!;
  const reason = csvCannotWrite(spec, format);
  if (reason) fail('UNSUPPORTED_DTYPE', `${format}: ${reason}`);
  const csv: CsvWriteOptions = { ...(format === 'txt' ? { delimiter: ' ' } : {}), ...options.csv };
  if (csv.fmt !== undefined) csvCompileFormat(csv.fmt); // a bad fmt fails before any file exists
  const gzip = csv.gzip ?? (describeWriteTarget(target)?.toLowerCase().endsWith('.gz') ?? false);
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false });
  return createPlannedWriter({
    format,
    order: [spec],
    async writeTensor(planned, chunks, signal) {
      const names = options.metadata?.['columns'];
      const text = csvTextChunks(planned, chunks, { ...csv, format, ...(names !== undefined ? { names } : {}), ...(signal ? { signal } : {}) });
      const bytes = gzip ? zlibPipe(text, createGzip({ level: 6 })) : text;
      for await (const block of bytes) await sink.write(block);
    },
    publish: () => sink.close(),
    discard: () => sink.abort(),
  });
}
