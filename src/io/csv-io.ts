/**
 * NumPack's `from_csv` / `to_csv` / `from_txt` / `to_txt`: one numeric text table into a
 * NumPack store as one 2-D array, and one array of a store out as text, streaming
 * through the model seam (the `csv` and `txt` formats).
 *
 * As NumPack: the array is named after the file stem unless `arrayName` says otherwise;
 * `from_csv` reads with `,` and no header, `from_txt` splits on whitespace; `to_csv` and
 * `to_txt` write `fmt='%.18e'` (np.savetxt's default, which NumPack keeps), `to_csv`
 * with `header: true` writes `# col0,col1,…`. Beyond NumPack: gzip (`.csv.gz`), `dtype`,
 * `header` names, `usecols`, and `fmt: 'shortest'` for the shortest round-trip text.
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError } from '../core/errors.js';
import type { CsvDType, CsvReadOptions } from '../formats/csv/types.js';
import { openTensorFile } from '../operations/index.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import type { SourceInput } from '../storage/source-input.js';
import { NumPack } from '../npk/numpack.js';
import { fileStemOf } from './file-stem.js';
import { copyIntoStore, exportStore, singleArrayName, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';

/** Options of {@link fromCsv} and {@link fromTxt}. */
export interface FromCsvOptions extends IntoStoreOptions, Pick<CsvReadOptions, 'header' | 'comments' | 'usecols' | 'maxRows' | 'quote'> {
  /** Name of the array (default: the file stem, as NumPack). */
  arrayName?: string;
  /** Element type (default float64, as `np.loadtxt`). */
  dtype?: CsvDType;
  /** Field separator (default `','` for CSV, whitespace for TXT). `undefined` in CSV detects it. */
  delimiter?: string;
  /** Lines skipped at the start (NumPack's `skiprows`). */
  skipRows?: number;
  /** For an `http(s)://` input: request headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/** The file stem NumPack names the array after (`a.csv.gz` → `a`, `x.data` → `x`). */
function stemOf(input: SourceInput): string | undefined {
  return fileStemOf(input, /\.(csv|tsv|txt)(\.gz)?$|\.gz$/i);
}

async function fromText(format: 'csv' | 'txt', input: SourceInput, npkPath: string, options: FromCsvOptions): Promise<void> {
  const readOptions: CsvReadOptions = {
    delimiter: options.delimiter ?? (format === 'csv' ? ',' : 'whitespace'),
    ...(options.skipRows !== undefined ? { skipRows: options.skipRows } : {}),
    header: options.header ?? false, // NumPack reads with header=None
    ...(options.comments !== undefined ? { comments: options.comments } : {}),
    ...(options.quote !== undefined ? { quote: options.quote } : {}),
    ...(options.usecols ? { usecols: options.usecols } : {}),
    ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
    ...(options.dtype ? { dtype: options.dtype } : {}),
  };
  await using reader = await openTensorFile(input, { format, formatOptions: readOptions as Record<string, unknown>, ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const name = options.arrayName ?? stemOf(input) ?? reader.tensors[0]!.name;
  await copyIntoStore(reader, npkPath, [[reader.tensors[0]!.name, name]], options);
}

/**
 * Reads a CSV file (path, URL, bytes; `.csv.gz` too) into a store as one 2-D array.
 *
 * @example
 * ```ts
 * await fromCsv('measurements.csv', 'data.npk', { skipRows: 1 });   // array 'measurements'
 * await fromCsv('table.csv.gz', 'data.npk', { header: true, dtype: 'float32', arrayName: 't' });
 * ```
 */
export function fromCsv(csvPath: SourceInput, npkPath: string, options: FromCsvOptions = {}): Promise<void> {
  return fromText('csv', csvPath, npkPath, options);
}

/**
 * Reads a whitespace-separated text file into a store as one 2-D array (NumPack's `from_txt`).
 *
 * @example
 * ```ts
 * await fromTxt('points.txt', 'data.npk'); // array 'points'
 * ```
 */
export function fromTxt(txtPath: SourceInput, npkPath: string, options: FromCsvOptions = {}): Promise<void> {
  return fromText('txt', txtPath, npkPath, options);
}

/** Options of {@link toCsv} and {@link toTxt}. */
export interface ToCsvOptions extends S3CallOptions {
  /** The array to write (default: the store's only array; several → `INVALID_ARGUMENT`). */
  arrayName?: string;
  /** Field separator (default `','` for CSV, `' '` for TXT). */
  delimiter?: string;
  /** `true`: `# col0,col1,…` (NumPack); a string or names: as given. TXT: none by default. */
  header?: boolean | string | readonly string[];
  /** printf format (default `'%.18e'`, NumPack's); `'shortest'` for the shortest round-trip text. */
  fmt?: string | readonly string[];
  /** gzip the output (default: when the path ends in `.gz`). */
  gzip?: boolean;
  signal?: AbortSignal;
}

async function toText(format: 'csv' | 'txt', npkPath: string, outPath: string, options: ToCsvOptions): Promise<void> {
  let name = options.arrayName;
  if (name === undefined) {
    await using npk = await NumPack.open(npkPath, { readOnly: true });
    name = singleArrayName(npk.getMemberList(), undefined, npkPath);
  }
  const fmt = options.fmt ?? '%.18e';
  if (fmt === '') throw new TensioError('INVALID_ARGUMENT', `${format}: fmt is empty; pass a printf format or 'shortest'`);
  await exportStore(npkPath, outPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: format,
    arrayNames: [name],
    writeOptions: {
      ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
      ...(options.header !== undefined ? { header: options.header } : {}),
      ...(fmt !== 'shortest' ? { fmt } : {}),
      ...(options.gzip !== undefined ? { gzip: options.gzip } : {}),
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Writes one array of a store as CSV (`np.savetxt` text: `%.18e` unless `fmt` says otherwise).
 *
 * @example
 * ```ts
 * await toCsv('data.npk', 'out.csv', { arrayName: 'x', header: true });
 * await toCsv('data.npk', 'out.csv.gz', { fmt: 'shortest' });
 * ```
 */
export function toCsv(npkPath: string, csvPath: string, options: ToCsvOptions = {}): Promise<void> {
  return toText('csv', npkPath, csvPath, options);
}

/**
 * Writes one array of a store as space-separated text (NumPack's `to_txt`).
 *
 * @example
 * ```ts
 * await toTxt('data.npk', 'out.txt', { fmt: '%.10e' });
 * ```
 */
export function toTxt(npkPath: string, txtPath: string, options: ToCsvOptions = {}): Promise<void> {
  return toText('txt', npkPath, txtPath, options);
}
