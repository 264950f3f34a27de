/**
 * NumPy files ↔ NumPack store: `.npy` (one array, named after the file stem unless
 * `arrayName` says otherwise) and `.npz` (one array per member).
 */
import type { S3Options } from '../storage/s3-client.js';
import { basename, extname } from 'node:path';
import { TensioError } from '../core/errors.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { isHttpUrl, localPathOf, type SourceInput } from '../storage/source-input.js';
import { NumPack } from '../npk/numpack.js';
import { copyIntoStore, exportStore, openInput, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';
import { quoteInput, quoteValue } from '../core/quote.js';

/** Options of {@link fromNumpy}. */
export interface FromNumpyOptions extends IntoStoreOptions {
  /** For an `http(s)://` input: request headers (tokens), retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
  /** Name of the array a `.npy` becomes (default: the file stem); ignored for `.npz`. */
  arrayName?: string;
}

/** The path part of a path or URL (a URL's pathname, decoded), for names and extensions. */
function pathPart(input: string | URL): string {
  return isHttpUrl(input) ? decodeURIComponent(new URL(String(input)).pathname) : (localPathOf(input) ?? String(input));
}

function numpyKind(path: string): 'npy' | 'npz' {
  const extension = extname(path).toLowerCase();
  if (extension === '.npy' || extension === '.npz') return extension.slice(1) as 'npy' | 'npz';
  throw new TensioError('INVALID_ARGUMENT', `expected a .npy or .npz path, got ${quoteInput(extension || path)}`, { path });
}

/**
 * Converts a `.npy` or `.npz` file into a store, streaming.
 *
 * @example
 * ```ts
 * await fromNumpy('features.npy', 'data.npk');              // array 'features'
 * await fromNumpy('arrays.npz', 'data.npk', { dropIfExists: true }); // one per member
 * ```
 */
export async function fromNumpy(numpyPath: SourceInput, npkPath: string, options: FromNumpyOptions = {}): Promise<void> {
  // A path or URL says .npy or .npz by its extension; bytes and sources are detected.
  const named = typeof numpyPath === 'string' || numpyPath instanceof URL ? pathPart(numpyPath) : undefined;
  await using reader = await openInput(numpyPath, named !== undefined ? numpyKind(named) : undefined, options);
  if (reader.format !== 'npy' && reader.format !== 'npz') throw new TensioError('INVALID_ARGUMENT', `expected NumPy .npy or .npz data, got ${reader.format}`, { format: reader.format });
  const plan: [string, string][] = reader.format === 'npy'
    ? [[reader.tensors[0]!.name, options.arrayName ?? (named !== undefined ? basename(named, extname(named)) : reader.tensors[0]!.name)]]
    : reader.tensors.map((info) => [info.name, info.name]);
  await copyIntoStore(reader, npkPath, plan, options);
}

/** Options of {@link toNumpy}. */
export interface ToNumpyOptions extends S3CallOptions {
  /** Arrays to write (default all). A `.npy` takes exactly one. */
  arrayNames?: readonly string[];
  /** Deflate `.npz` members like `np.savez_compressed` (default true, as NumPack). */
  compressed?: boolean;
  signal?: AbortSignal;
}

/**
 * Writes a store's arrays to a `.npy` (exactly one array) or `.npz` file.
 *
 * @example
 * ```ts
 * await toNumpy('data.npk', 'features.npy', { arrayNames: ['features'] });
 * await toNumpy('data.npk', 'all.npz', { compressed: false });
 * ```
 */
export async function toNumpy(npkPath: string, numpyPath: string, options: ToNumpyOptions = {}): Promise<void> {
  const kind = numpyKind(numpyPath);
  let names = options.arrayNames;
  if (kind === 'npy') {
    if (!names) {
      await using npk = await NumPack.open(npkPath, { readOnly: true });
      names = npk.getMemberList();
    }
    if (names.length !== 1) {
      throw new TensioError('INVALID_ARGUMENT', `a .npy file can only store one array; ${npkPath} selects ${names.length}: ${quoteValue(names)} (use .npz or arrayNames)`, { path: numpyPath });
    }
  }
  await exportStore(npkPath, numpyPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: kind,
    ...(names ? { arrayNames: names } : {}),
    ...(kind === 'npz' ? { writeOptions: { compress: options.compressed ?? true } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
