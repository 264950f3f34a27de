/**
 * Tables ↔ NumPack stores, with NumPack IO's names (`from_table`, `to_table`,
 * `from_parquet_file`, `to_parquet_file`, `from_feather_file`, `to_feather_file`) in
 * camelCase. Everything goes through the model seam: the table formats' readers and
 * writers (`model/table.ts` semantics: numeric columns stacked into one 2-D array with
 * NumPy's promotion, nullable integers as float64 NaN) and the npk writer.
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError } from '../core/errors.js';
import { NumPack } from '../npk/numpack.js';
import { convertReader, openTensorFile } from '../operations/index.js';
import { memorySink } from '../storage/byte-sink.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { bytesSource } from '../storage/byte-source.js';
import type { SourceInput } from '../storage/source-input.js';
import { fileStemOf } from './file-stem.js';
import { copyIntoStore, exportStore, singleArrayName, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';

/** Options of {@link fromParquetFile}, {@link fromFeatherFile} and {@link fromTable}. */
export interface FromTableOptions extends IntoStoreOptions {
  /** Name of the stacked array (default: the file stem for files, `'data'` for {@link fromTable}). */
  arrayName?: string;
  /** Only these columns, in this order (NumPack's `columns`). */
  columns?: readonly string[];
  /** One array per column, named after it, instead of one stacked 2-D array. */
  separate?: boolean;
  /** Skip string, date and other non-numeric columns instead of failing. */
  skipNonNumeric?: boolean;
  /** For an `http(s)://` input: request headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/** Options of {@link toParquetFile} and {@link toFeatherFile}. */
export interface ToTableFileOptions extends S3CallOptions {
  /** The array to write (default: the store's only array; several → `INVALID_ARGUMENT`). */
  arrayName?: string;
  /** Column names for a 2-D array (default `col0, col1, …`; a 1-D array is column `data`). */
  columnNames?: readonly string[];
  /** Parquet: `'snappy'` (default), `'gzip'`, `'zstd'`, `'brotli'`, `'none'`; Feather: `'zstd'` (default), `'lz4'`, `'none'`. */
  compression?: string;
  /** Parquet rows per row group (default 100,000, NumPack's). */
  rowGroupSize?: number;
  signal?: AbortSignal;
}

/** The file stem NumPack names the array after (`a.csv.gz` → `a`, `x.data` → `x`). */
function stemOf(input: SourceInput): string | undefined {
  return fileStemOf(input, /\.(parquet|pq|feather|arrow|arrows|ipc)$/i);
}

async function fromTableFile(format: 'parquet' | 'arrow', input: SourceInput, npkPath: string, options: FromTableOptions, defaultName: string | undefined): Promise<void> {
  const reader = await openTensorFile(input, {
    format,
    formatOptions: {
      ...(options.columns ? { select: options.columns } : {}),
      ...(options.separate ? { columns: 'separate' } : {}),
      ...(options.skipNonNumeric ? { skipNonNumeric: true } : {}),
    },
    ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const stackedName = reader.metadata['table.stackedColumns'] !== undefined ? reader.tensors[0]?.name : undefined;
    const name = options.arrayName ?? defaultName ?? stemOf(input);
    const plan = reader.tensors.map((info): [string, string] => [info.name, !options.separate && info.name === stackedName && name !== undefined ? name : info.name]);
    await copyIntoStore(reader, npkPath, plan, options);
  } finally {
    await reader.close();
  }
}

/**
 * A Parquet file into a NumPack store: numeric columns as one 2-D array named after the
 * file stem (NumPack's `from_parquet_file`), streamed row group by row group.
 *
 * @example
 * ```ts
 * await fromParquetFile('table.parquet', 'store.npk', { columns: ['x', 'y'] });
 * ```
 */
export function fromParquetFile(parquetPath: SourceInput, npkPath: string, options: FromTableOptions = {}): Promise<void> {
  return fromTableFile('parquet', parquetPath, npkPath, options, undefined);
}

/**
 * A Feather (Arrow IPC) file into a NumPack store (NumPack's `from_feather_file`).
 *
 * @example
 * ```ts
 * await fromFeatherFile('table.feather', 'store.npk');
 * ```
 */
export function fromFeatherFile(featherPath: SourceInput, npkPath: string, options: FromTableOptions = {}): Promise<void> {
  return fromTableFile('arrow', featherPath, npkPath, options, undefined);
}

async function toTableFile(format: 'parquet' | 'arrow', npkPath: string, outPath: string, options: ToTableFileOptions, defaultCompression: string): Promise<void> {
  let name = options.arrayName;
  if (name === undefined) {
    await using npk = await NumPack.open(npkPath, { readOnly: true });
    name = singleArrayName(npk.getMemberList(), undefined, npkPath);
  }
  await exportStore(npkPath, outPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: format,
    arrayNames: [name],
    writeOptions: {
      compression: options.compression ?? defaultCompression,
      ...(options.columnNames ? { columnNames: options.columnNames } : {}),
      ...(format === 'parquet' && options.rowGroupSize !== undefined ? { rowGroupSize: options.rowGroupSize } : {}),
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * One array of a store as a Parquet file (NumPack's `to_parquet_file`: snappy, row
 * groups of 100,000), streamed one row group at a time.
 *
 * @example
 * ```ts
 * await toParquetFile('store.npk', 'x.parquet', { arrayName: 'x', compression: 'zstd' });
 * ```
 */
export function toParquetFile(npkPath: string, parquetPath: string, options: ToTableFileOptions = {}): Promise<void> {
  return toTableFile('parquet', npkPath, parquetPath, options, 'snappy');
}

/**
 * One array of a store as a Feather v2 file (NumPack's `to_feather_file`: zstd).
 *
 * @example
 * ```ts
 * await toFeatherFile('store.npk', 'x.feather', { arrayName: 'x' });
 * ```
 */
export function toFeatherFile(npkPath: string, featherPath: string, options: ToTableFileOptions = {}): Promise<void> {
  return toTableFile('arrow', npkPath, featherPath, options, 'zstd');
}

/** An in-memory table: Arrow IPC bytes, an apache-arrow `Table` or a flechette `Table`. */
export type TableInput = Uint8Array | { readonly schema: unknown; readonly numRows: number };

async function ipcBytesOf(table: TableInput): Promise<Uint8Array> {
  if (table instanceof Uint8Array) return table;
  if (typeof (table as { toArray?: unknown }).toArray === 'function' && 'batches' in (table as object)) {
    const arrow = await import('apache-arrow');
    return arrow.tableToIPC(table as never, 'file');
  }
  if ('children' in (table as object)) {
    const flechette = await import('@uwdata/flechette');
    const bytes = flechette.tableToIPC(table as never, { format: 'file' });
    if (bytes) return bytes;
  }
  throw new TensioError('INVALID_ARGUMENT', 'fromTable takes Arrow IPC bytes, an apache-arrow Table or a flechette Table');
}

/**
 * An in-memory Arrow table into a store as one 2-D array named `'data'` (NumPack's
 * `from_table`).
 *
 * @example
 * ```ts
 * import { tableFromArrays } from 'apache-arrow';
 * await fromTable(tableFromArrays({ x: new Float32Array([1, 2]) }), 'store.npk');
 * ```
 */
export async function fromTable(table: TableInput, npkPath: string, options: FromTableOptions = {}): Promise<void> {
  return fromTableFile('arrow', bytesSource(await ipcBytesOf(table)), npkPath, options, 'data');
}

/**
 * One array of a store as an apache-arrow `Table` (NumPack's `to_table`): 1-D → column
 * `data`, 2-D → `col0…` (or `columnNames`), N-D → one fixed-shape-tensor column.
 *
 * @example
 * ```ts
 * const table = await toTable('store.npk', { arrayName: 'x' });
 * console.log(table.numRows);
 * ```
 */
export async function toTable(npkPath: string, options: Omit<ToTableFileOptions, 'compression' | 'rowGroupSize'> = {}): Promise<import('apache-arrow').Table> {
  let name = options.arrayName;
  const reader = await openTensorFile(npkPath, { format: 'npk' });
  try {
    name ??= singleArrayName(reader.tensors.map((info) => info.name), undefined, npkPath);
    const sink = memorySink();
    await convertReader(reader, sink, {
      to: 'arrow', tensors: [name], overwrite: true, metadata: {},
      writeOptions: { ipc: 'stream', ...(options.columnNames ? { columnNames: options.columnNames } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const arrow = await import('apache-arrow');
    return arrow.tableFromIPC(sink.bytes());
  } finally {
    await reader.close();
  }
}

/**
 * NumPack's `from_parquet_table`: the same as {@link fromTable} (an in-memory Arrow table
 * into a store as one 2-D array `'data'`).
 *
 * @example
 * ```ts
 * await fromParquetTable(table, 'store.npk');
 * ```
 */
export const fromParquetTable: typeof fromTable = fromTable;

/**
 * NumPack's `to_parquet_table`: the same as {@link toTable} (one array of a store as an
 * apache-arrow `Table`).
 *
 * @example
 * ```ts
 * const table = await toParquetTable('store.npk', { arrayName: 'x' });
 * ```
 */
export const toParquetTable: typeof toTable = toTable;

/**
 * NumPack's `from_parquet`, kept beside its newer name {@link fromParquetFile}.
 *
 * @example
 * ```ts
 * await fromParquet('table.parquet', 'store.npk');
 * ```
 */
export const fromParquet: typeof fromParquetFile = fromParquetFile;

/**
 * NumPack's `to_parquet`, kept beside its newer name {@link toParquetFile}.
 *
 * @example
 * ```ts
 * await toParquet('store.npk', 'x.parquet', { arrayName: 'x' });
 * ```
 */
export const toParquet: typeof toParquetFile = toParquetFile;

/**
 * NumPack's `from_feather`, kept beside its newer name {@link fromFeatherFile}.
 *
 * @example
 * ```ts
 * await fromFeather('table.feather', 'store.npk');
 * ```
 */
export const fromFeather: typeof fromFeatherFile = fromFeatherFile;

/**
 * NumPack's `to_feather`, kept beside its newer name {@link toFeatherFile}.
 *
 * @example
 * ```ts
 * await toFeather('store.npk', 'x.feather', { arrayName: 'x' });
 * ```
 */
export const toFeather: typeof toFeatherFile = toFeatherFile;
