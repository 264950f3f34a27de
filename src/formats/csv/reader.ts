/**
 * The async shell of the CSV/TXT reader: one streamed scan of the text (plain or gzip)
 * fixes the dialect, the shape and the runs of rows; the array is then a `chunks`
 * location whose chunks parse their text only when read, so `stream`, row slices and
 * `convert` hold one run (about 4 MiB of text) at a time whatever the file's size.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { CSV_COLUMN_STASH_BYTES, CSV_MAX_GZIP_RATIO } from '../../core/limits.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import { createTensorReader, type TensorLocation } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { gunzipCodec } from '../../storage/inflate-codec.js';
import { openSourceInput, sourceOptionsOf, type RemoteOptions, type SourceInput } from '../../storage/source-input.js';
import { csvGzipCodec, csvRunCodec } from './decode.js';
import { CsvScanner, csvParseRunGroups, csvResolveDialect, type CsvColumnGroup } from './read.js';
import { CsvSharedColumns } from './shared-columns.js';
import type { CsvDType, CsvReadOptions, CsvScan } from './types.js';

const fail = errorFactory('csv');

/** Bytes read per request while scanning plain text. */
const SCAN_READ_BYTES = 4 * 2 ** 20;
/** Bytes of text looked at to detect the delimiter. */
const DETECT_BYTES = 64 * 2 ** 10;
/** Headroom for small gzip files whatever their ratio. */
const GZIP_SLACK_BYTES = 64 * 2 ** 20;

const CSV_DTYPES: readonly CsvDType[] = ['float64', 'float32', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

/** True when the bytes start like a gzip member. */
export function csvIsGzip(head: Uint8Array): boolean {
  return head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Text blocks of the whole input (gunzipped when gzip), with the bomb check. */
async function* textBlocks(source: ByteSource, gzip: boolean, maxText: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (!gzip) {
    for (let at = 0; at < source.size; at += SCAN_READ_BYTES) {
      throwIfAborted(signal);
      yield await source.read(at, Math.min(SCAN_READ_BYTES, source.size - at), signal ? { signal } : undefined);
    }
    return;
  }
  let produced = 0;
  try {
    for await (const piece of gunzipCodec.decode({ source, offset: 0, length: source.size }, { pieceBytes: 2 ** 20, decodedLength: maxText, ...(signal ? { signal } : {}) })) {
      produced += piece.byteLength;
      if (produced > maxText) {
        fail('LIMIT_EXCEEDED', `csv: gzip text expands past ${maxText} bytes from ${source.size} compressed (more than ${Math.round((maxText - GZIP_SLACK_BYTES) / Math.max(1, source.size))}× plus 64 MiB): a decompression bomb? raise maxGzipRatio if the file is sound`);
      }
      yield piece;
    }
  } catch (error) {
    if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_')) {
      fail('TRUNCATED', `csv: gzip data is damaged or cut short (${error.message})`, { cause: error });
    }
    throw error;
  }
}

/** The default name of the one array a CSV/TXT file holds. */
export const CSV_DEFAULT_ARRAY_NAME = 'data';

/**
 * Scans CSV/TXT text from a source (plain or gzip, detected by its first bytes):
 * dialect, header, rows, columns and runs of rows. One pass, bounded memory.
 *
 * @example
 * ```ts
 * const scan = await csvScanSource(bytesSource(text), { delimiter: ',' });
 * scan.rows; scan.columns;
 * ```
 */
export async function csvScanSource(source: ByteSource, options: CsvReadOptions = {}, defaultDelimiter?: string): Promise<CsvScan & { gzip: boolean; maxText: number }> {
  const { signal } = options;
  const start = await source.read(0, Math.min(2, source.size), signal ? { signal } : undefined);
  const gzip = csvIsGzip(start);
  const ratio = options.maxGzipRatio ?? CSV_MAX_GZIP_RATIO;
  const maxText = gzip ? source.size * ratio + GZIP_SLACK_BYTES : source.size;
  let scanner: CsvScanner | undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const block of textBlocks(source, gzip, maxText, signal)) {
    if (!scanner) {
      // The dialect needs the first 64 KiB of text (the delimiter may be detected from it).
      pending.push(block.slice());
      pendingBytes += block.byteLength;
      if (pendingBytes < DETECT_BYTES) continue;
      scanner = startScanner(pending, options, defaultDelimiter);
      pending = [];
      continue;
    }
    scanner.feed(block, false);
  }
  scanner ??= startScanner(pending, options, defaultDelimiter);
  scanner.feed(new Uint8Array(0), true);
  return { ...scanner.finish(), gzip, maxText };
}

function startScanner(blocks: Uint8Array[], options: CsvReadOptions, defaultDelimiter?: string): CsvScanner {
  const head = new Uint8Array(blocks.reduce((sum, block) => sum + block.byteLength, 0));
  let at = 0;
  for (const block of blocks) {
    head.set(block, at);
    at += block.byteLength;
  }
  const dialect = csvResolveDialect(options, head.subarray(0, DETECT_BYTES), defaultDelimiter);
  const scanner = new CsvScanner(dialect, options);
  scanner.feed(head, false);
  return scanner;
}

/**
 * The fields that become columns: all of them, or `usecols` (indices, negative from the
 * end, or header names), in the order given.
 */
function selectColumns(usecols: CsvReadOptions['usecols'], fields: number, names: readonly string[] | undefined): Int32Array {
  if (usecols === undefined) return Int32Array.from({ length: fields }, (_, k) => k);
  return Int32Array.from(usecols, (wanted) => {
    if (typeof wanted === 'string') {
      const at = names?.indexOf(wanted) ?? -1;
      if (at === -1) fail('NOT_FOUND', `csv: no column named ${JSON.stringify(wanted)}${names ? `; the header has ${JSON.stringify(names)}` : ' (names need header: true)'}`);
      return at;
    }
    const at = wanted < 0 ? fields + wanted : wanted;
    if (!Number.isInteger(at) || at < 0 || at >= fields) fail('INVALID_ARGUMENT', `csv: column ${wanted} is outside the ${fields} fields of each row`);
    return at;
  });
}

/** Checks read options that do not depend on the text; the dtype rule. */
function checkReadOptions(options: CsvReadOptions): void {
  const given = options.dtype ?? 'float64';
  for (const dtype of typeof given === 'string' ? [given] : Object.values(given)) {
    if (!CSV_DTYPES.includes(dtype)) fail('UNSUPPORTED_DTYPE', `csv: cannot read text as ${JSON.stringify(dtype)}; one of ${CSV_DTYPES.join(', ')}`);
  }
  if (options.columns !== undefined && options.columns !== 'stack' && options.columns !== 'separate') fail('INVALID_ARGUMENT', `csv: columns must be 'stack' or 'separate', got ${JSON.stringify(options.columns)}`);
  if (typeof given !== 'string' && options.columns !== 'separate') {
    fail('INVALID_ARGUMENT', 'csv: a dtype per column needs columns: \'separate\' (a stacked array has one dtype); or give one dtype');
  }
  if (options.maxRows !== undefined && (!Number.isSafeInteger(options.maxRows) || options.maxRows < 0)) fail('INVALID_ARGUMENT', `csv: maxRows must be a whole number ≥ 0, got ${options.maxRows}`);
}

/** The dtype of each selected field: one for all, or by header name / field index (`'*'` for the rest). */
function columnDTypes(given: CsvReadOptions['dtype'], select: Int32Array, names: readonly string[] | undefined): CsvDType[] {
  if (given === undefined || typeof given === 'string') return Array.from(select, () => given ?? 'float64');
  for (const key of Object.keys(given)) {
    if (key !== '*' && !(names?.includes(key)) && !(/^\d+$/.test(key) && Array.from(select).includes(Number(key)))) {
      fail('NOT_FOUND', `csv: dtype names column ${JSON.stringify(key)}, which is not ${names ? `a header name (${JSON.stringify(names)}) or ` : ''}the index of a read field`);
    }
  }
  return Array.from(select, (field) => given[names?.[field] ?? ''] ?? given[String(field)] ?? given['*'] ?? 'float64');
}

/** Tensor names of separate columns: header names (repeats as pandas does: `a`, `a.1`), else `col<field>`. */
function columnNames(select: Int32Array, names: readonly string[] | undefined): string[] {
  const seen = new Map<string, number>();
  return Array.from(select, (field) => {
    const base = names?.[field] || `col${field}`;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}.${count}`;
  });
}

/**
 * Opens CSV/TXT text from a source as a {@link TensorReader} holding one 2-D array
 * `(rows, columns)` named `arrayName` (default `'data'`). Metadata: `columns` (header
 * names, when `header`), `delimiter`, `gzip`, `textBytes`.
 *
 * @example
 * ```ts
 * await using reader = await csvOpenSource(bytesSource(new TextEncoder().encode('1,2\n3,4\n')));
 * (await reader.read('data')).shape; // [2, 2]
 * ```
 */
export async function csvOpenSource(source: ByteSource, options: CsvReadOptions & { ownsSource?: boolean; format?: 'csv' | 'txt' } = {}): Promise<TensorReader> {
  const format = options.format ?? 'csv';
  let scan: Awaited<ReturnType<typeof csvScanSource>>;
  let select: Int32Array;
  let dtypes: CsvDType[];
  const separate = options.columns === 'separate';
  try {
    checkReadOptions(options);
    scan = await csvScanSource(source, options, format === 'txt' ? 'whitespace' : undefined);
    select = selectColumns(options.usecols, scan.columns, scan.names);
    dtypes = columnDTypes(options.dtype, select, scan.names);
    await checkFirstRecord(source, scan, separate ? Array.from(select, (field, k) => ({ select: Int32Array.of(field), dtype: dtypes[k]! })) : [{ select, dtype: dtypes[0] ?? 'float64' }], options.signal);
  } catch (error) {
    if (options.ownsSource) await source.close?.();
    throw error;
  }
  const { rows, dialect } = scan;
  const fields = scan.columns;
  // Separate columns share one parse of each run (shared-columns.ts); one column needs no sharing.
  const shared = separate && select.length > 1
    ? new CsvSharedColumns(dialect, fields, Array.from(select, (field, k) => ({ field, dtype: dtypes[k]! })), options.columnStashBytes ?? CSV_COLUMN_STASH_BYTES)
    : undefined;
  /** One tensor: the fields `picked` as its columns (column `k` of the shared ones), parsed as `dtype` when read. */
  const tensorOf = (name: string, picked: Int32Array, dtype: CsvDType, shape: number[], k?: number): { info: TensorInfo; location: TensorLocation } => {
    const width = DTYPE_INFO[dtype].bits / 8;
    const columns = picked.length;
    const byteLength = rows * columns * width;
    if (!Number.isSafeInteger(byteLength)) fail('SIZE_OVERFLOW', `csv: ${rows}×${columns} ${dtype} is too large`);
    const sharing = shared !== undefined && k !== undefined;
    const chunks: ByteChunk[] = scan.gzip
      ? (byteLength === 0 ? [] : [{
          source, offset: 0, storedLength: source.size,
          codec: sharing ? shared.gzipCodec(rows, scan.maxText, k) : csvGzipCodec(dialect, rows, fields, picked, dtype, scan.maxText),
          decodedLength: byteLength, byteLength, format, label: `gzip text of ${rows} rows`, corruptCode: 'INVALID_VALUE',
        }])
      : scan.chunks.map((plan, run) => ({
          source, offset: plan.offset, storedLength: plan.length,
          codec: sharing ? shared.runCodec(plan, run, k) : csvRunCodec(dialect, plan, fields, picked, dtype),
          decodedLength: plan.rows * columns * width, byteLength: plan.rows * columns * width, format,
          label: `${plan.rows} rows from line ${plan.firstLine}`, corruptCode: 'INVALID_VALUE',
        }));
    return {
      info: { name, dtype, shape, byteLength, extras: { runs: scan.chunks.length, gzip: scan.gzip } },
      location: chunks.length > 0 ? { kind: 'chunks', chunks } : { kind: 'decode', decode: async () => new Uint8Array(0) },
    };
  };
  const tensors = separate
    ? columnNames(select, scan.names).map((name, k) => tensorOf(name, Int32Array.of(select[k]!), dtypes[k]!, [rows], k))
    : [tensorOf(options.arrayName ?? CSV_DEFAULT_ARRAY_NAME, select, dtypes[0] ?? 'float64', [rows, select.length])];
  const locations = new Map(tensors.map((tensor) => [tensor.info.name, tensor.location]));
  const delimiterName = dialect.delimiter === -1 ? 'whitespace' : String.fromCharCode(dialect.delimiter);
  return createTensorReader({
    format,
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: {
      delimiter: delimiterName,
      ...(scan.names ? { columns: Array.from(select, (k) => scan.names![k]!) } : {}),
      ...(scan.gzip ? { gzip: true } : {}),
      textBytes: scan.textBytes,
    },
    tensors: tensors.map((tensor) => tensor.info),
    locate: (info) => locations.get(info.name)!,
    ...(options.ownsSource || shared ? {
      close: async () => {
        await shared?.close();
        if (options.ownsSource) await source.close?.();
      },
    } : {}),
  });
}

/** Text read to check the first data record at open (a record longer than this is checked when read). */
const FIRST_RECORD_CHECK_BYTES = 64 * 1024;

/**
 * Parses the first data record at open, so text that is not numbers (a note saved as
 * `.txt`, a CSV with an unannounced header) is refused when opened, naming the line and
 * column, instead of being reported as an array that fails only when read.
 */
async function checkFirstRecord(source: ByteSource, scan: CsvScan & { gzip: boolean }, groups: readonly CsvColumnGroup[], abort: AbortSignal | undefined): Promise<void> {
  const first = scan.chunks[0];
  if (scan.gzip || !first || first.rows === 0) return;
  const length = Math.min(first.length, FIRST_RECORD_CHECK_BYTES);
  const text = await source.read(first.offset, length, abort ? { signal: abort } : undefined);
  const outs = groups.map(({ select, dtype }) => new Uint8Array(select.length * (DTYPE_INFO[dtype].bits / 8)));
  try {
    csvParseRunGroups(scan.dialect, text, first.firstLine, 1, scan.columns, groups, outs);
  } catch (error) {
    // A window that cut the run may have cut the first record too: then it is checked when read.
    if (length < first.length) return;
    throw error;
  }
}

/**
 * Opens a CSV file (path, URL, bytes or source; `.csv.gz` detected by its bytes).
 *
 * @example
 * ```ts
 * await using reader = await csvOpen('table.csv', { dtype: 'float32', header: true });
 * const { shape } = reader.info('data');
 * ```
 */
export async function csvOpen(input: SourceInput, options: CsvReadOptions & Omit<RemoteOptions, 'signal'> & { format?: 'csv' | 'txt' } = {}): Promise<TensorReader> {
  const { http: _http, s3: _s3, ...readOptions } = options;
  const { source, owned } = await openSourceInput(input, sourceOptionsOf(options));
  return csvOpenSource(source, { ...readOptions, ownsSource: owned });
}
