/**
 * How a file's format is recognised: by its first bytes first, by its extension second,
 * by an explicit `format` option above both (see {@link openTensorFile}).
 */
import { TensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import { isRemoteLocation, locationKind, openSourceInput, sourceOptionsOf, type RemoteOptions } from '../storage/source-input.js';
import type { SniffProbe, TensorFormat } from '../model/types.js';
import { BUILT_IN_FORMATS, type FormatListOption } from './registry.js';
import { quoteInput } from '../core/quote.js';

/**
 * Lower-case extension with its dot, treating `.safetensors.index.json` as one; `''`
 * when the last path segment has none (a leading dot, as in `.hidden`, is no extension).
 *
 * @example
 * ```ts
 * fileExtension('Model.SafeTensors.index.json'); // '.safetensors.index.json'
 * ```
 */
export function fileExtension(path: string): string {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors.index.json')) return '.safetensors.index.json';
  if (lower.endsWith('.bin.index.json')) return '.bin.index.json';
  if (lower.endsWith('.zarr.zip')) return '.zarr.zip';
  for (const compressed of ['.csv.gz', '.tsv.gz', '.txt.gz']) if (lower.endsWith(compressed)) return compressed;
  const base = lower.slice(Math.max(lower.lastIndexOf('/'), lower.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

/**
 * The format an output path's extension names; throws `UNKNOWN_FORMAT` if none does.
 *
 * @example
 * ```ts
 * formatForOutputPath('out.npz').name; // 'npz'
 * ```
 */
export function formatForOutputPath(path: string, options: FormatListOption = {}): TensorFormat {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  const extension = fileExtension(path);
  const found = formats.find((format) => format.createWriter && format.extensions.includes(extension));
  if (!found) {
    throw new TensioError('UNKNOWN_FORMAT', `cannot tell the output format from ${quoteInput(extension || path)}; pass --to (one of ${formats.filter((f) => f.createWriter).map((f) => f.name).join(', ')})`, { path });
  }
  return found;
}

/**
 * Recognises the format of a file or folder: magic bytes first, then extension.
 *
 * @example
 * ```ts
 * (await detectFormat('model.bin')).name; // 'pytorch' when it is a torch zip
 * ```
 */
export async function detectFormat(path: string, options: FormatListOption & RemoteOptions = {}): Promise<TensorFormat> {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  const kind = await locationKind(path);
  if (kind === 'missing') throw new TensioError('NOT_FOUND', `${path} does not exist`, { path });
  if (kind === 'remote') {
    const layout = remoteLayoutFormat(path, formats) ?? footerIndexedFormat(path, formats);
    if (layout) return layout;
    const { source } = await openSourceInput(path, sourceOptionsOf(options));
    try {
      return await detectSourceFormat(source, options);
    } finally {
      await source.close?.();
    }
  }
  const isDirectory = kind === 'folder';
  const extension = fileExtension(path);
  if (isDirectory) {
    const matches = await Promise.all(formats.map(async (format) => (format.sniffFolder ? await format.sniffFolder(path) : false)));
    const index = matches.findIndex(Boolean);
    if (index >= 0) return formats[index]!;
    throw new TensioError('UNKNOWN_FORMAT', `${path} is a folder tensio does not recognise (expected a NumPack store or a sharded checkpoint)`, { path });
  }
  const { source } = await openSourceInput(path);
  try {
    // A local file: its tail costs nothing, so formats that sign their files at the end are seen.
    return matchProbe(formats, await probeSource(source, { tail: true }), path);
  } finally {
    await source.close?.();
  }
}

/**
 * {@link detectFormat} of a local path, also handing back the file it opened to sniff
 * (a regular file whose format `opensLocalFileAsSource`), so that the caller opens the
 * format over it instead of opening the file again; the caller then owns `source` and
 * closes it. Anything else (a folder, a URL, another format) comes back with no source,
 * nothing left open.
 *
 * @example
 * ```ts
 * const { format, source } = await detectLocalFile('x.npy'); // source: the open file
 * ```
 */
export async function detectLocalFile(path: string, options: FormatListOption & RemoteOptions = {}): Promise<{ format: TensorFormat; source?: ByteSource }> {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  // The file is opened first and the path asked about only when that fails (a folder or a
  // missing path then go to detectFormat, any other failure is thrown): a stat of the path
  // before every open was one more thread-pool hop per open (session 29).
  let source: ByteSource;
  try {
    ({ source } = await openSourceInput(path));
  } catch (error) {
    if ((await locationKind(path)) !== 'file') return { format: await detectFormat(path, options) };
    throw error;
  }
  let format: TensorFormat | undefined;
  try {
    format = matchProbe(formats, await probeSource(source, { tail: true }), path);
  } finally {
    if (!format?.opensLocalFileAsSource) await source.close?.();
  }
  return format.opensLocalFileAsSource ? { format, source } : { format };
}

/**
 * Recognises the format of bytes behind a source: magic bytes first, then the
 * extension of the source's name (a path or URL) when several formats or none match.
 *
 * @example
 * ```ts
 * (await detectSourceFormat(bytesSource(fileBytes, 'x.npz'))).name; // 'npz'
 * ```
 */
export async function detectSourceFormat(source: ByteSource, options: FormatListOption & { signal?: AbortSignal } = {}): Promise<TensorFormat> {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  // Over HTTP the tail is one more request; bytes in memory and local files give it free.
  const tail = !isRemoteLocation(source.name ?? '');
  return matchProbe(formats, await probeSource(source, { tail, ...(options.signal ? { signal: options.signal } : {}) }), source.name ?? '');
}

/** Bytes read from the front of a file for sniffing (HDF5 may put its superblock at 512, 1024 or 2048). */
export const SNIFF_HEAD_BYTES = 4096;
/** Bytes read from the end of a file for sniffing, when that is cheap (zTensor and Parquet sign their files at the end). */
export const SNIFF_TAIL_BYTES = 4096;

/**
 * What detection hands each format's `sniff`: the first bytes, the last bytes (when
 * reading them is cheap), the size and the name.
 *
 * @example
 * ```ts
 * const probe = await probeSource(source, { tail: true });
 * npyFormat.sniff(probe.head, probe);
 * ```
 */
export async function probeSource(source: ByteSource, options: { tail: boolean; signal?: AbortSignal }): Promise<SniffProbe> {
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const head = await source.read(0, Math.min(SNIFF_HEAD_BYTES, source.size), readOptions);
  const tailLength = Math.min(SNIFF_TAIL_BYTES, source.size);
  const tail = !options.tail ? undefined
    : source.size <= head.byteLength ? head.subarray(head.byteLength - tailLength)
      : await source.read(source.size - tailLength, tailLength, readOptions);
  return { head, ...(tail ? { tail } : {}), size: source.size, ...(source.name !== undefined ? { name: source.name } : {}) };
}

/** Magic bytes first; when several formats or none match, the extension of the name decides. */
function matchProbe(formats: readonly TensorFormat[], probe: SniffProbe, name: string): TensorFormat {
  const extension = name ? fileExtension(name.replace(/[?#].*$/, '')) : '';
  const byMagic = formats.filter((format) => format.sniff(probe.head, probe));
  if (byMagic.length === 1) return byMagic[0]!;
  const byExtension = extension ? (byMagic.length > 1 ? byMagic : formats).find((format) => format.extensions.includes(extension)) : undefined;
  if (byExtension) return byExtension;
  if (byMagic.length > 1) return byMagic[0]!;
  throw new TensioError('UNKNOWN_FORMAT', `cannot tell the format of ${name || 'the input'}: its first and last bytes match no known format${extension ? ` and ${quoteInput(extension)} is not a known extension` : ''}; pass { format } (--from)`, name ? { path: name } : {});
}

/**
 * The format an `http(s)://` URL names as a layout of several files (see
 * `TensorFormat.layoutExtensions`): a sharded index, a NumPack store. Undefined for a
 * URL of one file, whose bytes are sniffed instead. `restrictTo` (an explicit format)
 * also claims a URL ending in `/` when it stores folders.
 *
 * @example
 * ```ts
 * remoteLayoutFormat('https://h/llama/model.safetensors.index.json')?.name; // 'safetensors'
 * ```
 */
export function remoteLayoutFormat(url: string, formats: readonly TensorFormat[] = BUILT_IN_FORMATS, restrictTo?: TensorFormat): TensorFormat | undefined {
  if (!isRemoteLocation(url)) return undefined;
  const pathname = decodeURIComponent(new URL(url).pathname);
  const extension = fileExtension(pathname.replace(/\/+$/, ''));
  const candidates = restrictTo ? [restrictTo] : formats;
  const byExtension = candidates.find((format) => format.layoutExtensions?.includes(extension));
  if (byExtension) return byExtension;
  if (restrictTo?.sniffFolder && pathname.endsWith('/')) return restrictTo;
  return undefined;
}

/**
 * The format of an `http(s)://` or `s3://` URL that is opened from its end (`openFromEnd`,
 * a format indexed by a footer), known without reading a byte: `restrictTo` (the format the
 * caller named) when it is such a format, else the one the URL's extension names.
 * Undefined for other URLs and formats, which are opened from the start and sniffed.
 *
 * @example
 * ```ts
 * footerIndexedFormat('https://h/model.zt')?.name; // 'zt'
 * footerIndexedFormat('s3://models/model.zt')?.name; // 'zt'
 * ```
 */
export function footerIndexedFormat(url: string, formats: readonly TensorFormat[] = BUILT_IN_FORMATS, restrictTo?: TensorFormat): TensorFormat | undefined {
  if (!isRemoteLocation(url)) return undefined;
  if (restrictTo) return restrictTo.openFromEnd ? restrictTo : undefined;
  const extension = fileExtension(decodeURIComponent(new URL(url).pathname));
  return formats.find((format) => format.openFromEnd && format.extensions.includes(extension));
}
