/**
 * NumPack's `from_s3` / `to_s3`: a file on S3 into a NumPack store, and arrays of a store
 * out to a file on S3, in NumPack's formats (`auto`, `numpy`, `csv`, `txt`, `parquet`,
 * `feather`, `hdf5`) and every other format tensio reads or writes. `fromS3` also reads
 * layouts of several objects from a prefix (a NumPack store, a Zarr group, a sharded
 * checkpoint's index); `toS3` writes single files only (NumPack stores and Zarr groups
 * are published with local renames: `UNSUPPORTED_FEATURE` says so).
 *
 * Unlike NumPack (s3fs and a temporary file), nothing is downloaded first: the input is
 * read with ranged requests through the same `fromX` functions a local file goes
 * through, and the output is streamed to a multipart upload that appears only when
 * complete. So NumPack's temporary-file bugs cannot happen here: a `.npy` array is named
 * after the S3 key's stem (NumPack named it after its temporary file), and `feather`
 * is not handed a `chunkSize` it refuses. S3 settings: the call's `s3` option (endpoint,
 * region, profile, credentials, anonymous, part size, concurrency) over `setS3Defaults`
 * from `tensio/s3`, over the AWS chain and `AWS_ENDPOINT_URL`.
 */
import { basename, extname } from 'node:path';
import { TensioError } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';
import { formatForOutputPath, getFormat } from '../operations/index.js';
import { isS3Url, parseS3Url } from '../storage/s3-location.js';
import { openSourceInput, sourceOptionsOf } from '../storage/source-input.js';
import { fromCsv, fromTxt, toCsv, toTxt, type FromCsvOptions, type ToCsvOptions } from './csv-io.js';
import { fromHdf5, toHdf5, type FromHdf5Options, type ToHdf5Options } from './hdf5-io.js';
import { fromNumpy, toNumpy, type FromNumpyOptions, type ToNumpyOptions } from './numpy-io.js';
import { copyIntoStore, exportStore, openInput, requireNames, type IntoStoreOptions } from './store-transfer.js';
import { fromFeatherFile, fromParquetFile, toFeatherFile, toParquetFile, type FromTableOptions, type ToTableFileOptions } from './table-io.js';

/** NumPack's format names, plus any tensio format name (`safetensors`, `pytorch`, `gguf`, `zt`, …). */
export type S3TransferFormat = 'auto' | 'numpy' | 'csv' | 'txt' | 'parquet' | 'feather' | 'hdf5' | (string & {});

/** Options of {@link fromS3}: the format, and the options of the `fromX` function it picks. */
export type FromS3Options = IntoStoreOptions & Partial<FromNumpyOptions & FromCsvOptions & FromTableOptions & FromHdf5Options> & {
  /**
   * The input's format (default `'auto'`: from the key's extension, as NumPack; unknown
   * extensions, and prefixes such as `s3://b/store.npk/`, are detected). `numpy` (or
   * `npy`/`npz`) on a key without `.npy`/`.npz` goes by the bytes.
   */
  format?: S3TransferFormat;
};

/** Options of {@link toS3}: the format, and the options of the `toX` function it picks. */
export type ToS3Options = Partial<ToNumpyOptions & ToCsvOptions & ToTableFileOptions & ToHdf5Options> & {
  /** The output's format (default `'auto'`: from the key's extension; unknown → `numpy` as NumPack, i.e. `.npz`-style refusal). */
  format?: S3TransferFormat;
};

const NUMPACK_BY_EXTENSION: Readonly<Record<string, S3TransferFormat>> = {
  '.npy': 'numpy', '.npz': 'numpy', '.csv': 'csv', '.txt': 'txt', '.parquet': 'parquet', '.feather': 'feather', '.h5': 'hdf5', '.hdf5': 'hdf5',
};

/** The S3 key's extension, lower case (`.gz` looks one further, for `x.csv.gz`). */
function keyExtension(s3Path: string): string {
  const { key } = parseS3Url(s3Path);
  const lower = key.toLowerCase();
  if (lower.endsWith('.gz')) return extname(lower.slice(0, -3));
  return extname(lower);
}

/**
 * Refuses what is not `s3://bucket/key`. `fromS3` also takes a prefix (`key/`): a layout
 * of several objects (a NumPack store, a Zarr group, a checkpoint folder) is read through
 * the S3 store; `toS3` writes one object, so it needs a key.
 */
function checkS3Path(s3Path: string, what: 'fromS3' | 'toS3'): void {
  if (!isS3Url(s3Path)) throw new TensioError('INVALID_ARGUMENT', `${what} takes an s3://bucket/key location, got ${quoteInput(s3Path)}`);
  const { key } = parseS3Url(s3Path);
  if (key === '' || (what === 'toS3' && key.endsWith('/'))) throw new TensioError('INVALID_ARGUMENT', `${s3Path} names a prefix, not an object key${what === 'toS3' ? '; toS3 writes one file: add its name' : ''}`);
}

/**
 * NumPack's `numpy` format: `.npy` or `.npz` as the key's extension says, else as the
 * bytes say (NumPack loads its temporary file with NumPy, which looks at the bytes). A
 * `.npy` array is named after the key's stem either way.
 */
async function fromNumpyObject(s3Path: string, npkPath: string, options: Omit<FromS3Options, 'format'>): Promise<void> {
  const extension = keyExtension(s3Path);
  if (extension === '.npy' || extension === '.npz') return fromNumpy(s3Path, npkPath, options);
  const { key } = parseS3Url(s3Path);
  const { source, owned } = await openSourceInput(s3Path, sourceOptionsOf(options));
  try {
    await fromNumpy(source, npkPath, { ...options, arrayName: options.arrayName ?? basename(key, extname(key)) });
  } finally {
    if (owned) await source.close?.();
  }
}

const NUMPACK_FORMATS = new Set(['auto', 'numpy', 'csv', 'txt', 'parquet', 'feather', 'hdf5']);

/** A tensio format name given as `format`, checked (`UNKNOWN_FORMAT` lists the known ones). */
function otherFormat(format: string): string {
  return getFormat(format).name;
}

/**
 * Reads `s3://bucket/key` into the NumPack store at `npkPath` (NumPack's `from_s3`),
 * streaming with ranged reads: no download, no temporary file.
 *
 * @example
 * ```ts
 * await fromS3('s3://data/features.npy', 'data.npk');                   // array 'features'
 * await fromS3('s3://data/table.parquet', 'data.npk', { columns: ['a', 'b'] });
 * await fromS3('s3://models/llama/model.safetensors', 'llama.npk', { dropIfExists: true });
 * await fromS3('s3://data/features.zarr/', 'data.npk');                 // a Zarr group under a prefix
 * ```
 */
export async function fromS3(s3Path: string, npkPath: string, options: FromS3Options = {}): Promise<void> {
  checkS3Path(s3Path, 'fromS3');
  const { format: requested = 'auto', ...rest } = options;
  const format = requested === 'auto' ? NUMPACK_BY_EXTENSION[keyExtension(s3Path)] ?? 'detect' : requested;
  switch (format) {
    case 'numpy':
    case 'npy': // tensio's names for the same files: named after the key as NumPack's `numpy`
    case 'npz':
      return fromNumpyObject(s3Path, npkPath, rest);
    case 'csv':
      return fromCsv(s3Path, npkPath, rest);
    case 'txt':
      return fromTxt(s3Path, npkPath, rest);
    case 'parquet':
      return fromParquetFile(s3Path, npkPath, rest);
    case 'feather':
    case 'arrow': // tensio's name for Feather (Arrow IPC): a table, as NumPack's `feather`
      return fromFeatherFile(s3Path, npkPath, rest);
    case 'hdf5':
      return fromHdf5(s3Path, npkPath, rest);
    default: {
      // Any other tensio format (named, or detected from the bytes): every tensor, by its name.
      await using reader = await openInput(s3Path, format === 'detect' ? undefined : otherFormat(format), rest);
      const names = options.datasetNames ?? reader.tensors.map((info) => info.name);
      requireNames(reader, names);
      await copyIntoStore(reader, npkPath, names.map((name) => [name, name]), rest);
    }
  }
}

/**
 * Writes arrays of the NumPack store at `npkPath` to `s3://bucket/key` (NumPack's
 * `to_s3`), streamed as a multipart upload that appears only once complete.
 *
 * @example
 * ```ts
 * await toS3('data.npk', 's3://data/features.npy', { arrayName: 'features' });
 * await toS3('data.npk', 's3://data/all.npz');
 * await toS3('llama.npk', 's3://models/llama/model.safetensors');
 * ```
 */
export async function toS3(npkPath: string, s3Path: string, options: ToS3Options = {}): Promise<void> {
  checkS3Path(s3Path, 'toS3');
  const { format: requested = 'auto', ...rest } = options;
  const extension = keyExtension(s3Path);
  let format = requested === 'auto' ? NUMPACK_BY_EXTENSION[extension] : requested;
  if (format === undefined) {
    // Not one of NumPack's: a tensio format by extension (.safetensors, .pt, .gguf, …), else NumPack's numpy default.
    try {
      format = formatForOutputPath(s3Path).name;
    } catch {
      format = 'numpy';
    }
  }
  const single = rest.arrayName !== undefined && rest.arrayNames === undefined ? { arrayNames: [rest.arrayName] } : {};
  switch (format) {
    case 'numpy':
      return toNumpy(npkPath, s3Path, { ...rest, ...single });
    case 'csv':
      return toCsv(npkPath, s3Path, rest);
    case 'txt':
      return toTxt(npkPath, s3Path, rest);
    case 'parquet':
      return toParquetFile(npkPath, s3Path, rest);
    case 'feather':
    case 'arrow':
      return toFeatherFile(npkPath, s3Path, rest);
    case 'hdf5':
      return toHdf5(npkPath, s3Path, { ...rest, ...single });
    default: {
      if (NUMPACK_FORMATS.has(format)) throw new TensioError('INVALID_ARGUMENT', `toS3: unexpected format ${quoteInput(format)}`);
      const names = rest.arrayNames ?? (rest.arrayName !== undefined ? [rest.arrayName] : undefined);
      await exportStore(npkPath, s3Path, { to: otherFormat(format), ...(names ? { arrayNames: names } : {}), ...(rest.signal ? { signal: rest.signal } : {}), ...(rest.s3 ? { s3: rest.s3 } : {}) });
    }
  }
}
