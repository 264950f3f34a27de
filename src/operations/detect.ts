/**
 * How a file's format is recognised: by its first bytes first, by its extension second,
 * by an explicit `format` option above both (see {@link openTensorFile}).
 */
import { TensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import { isHttpUrl, locationKind, openSourceInput } from '../storage/source-input.js';
import type { TensorFormat } from '../model/types.js';
import { BUILT_IN_FORMATS, type FormatListOption } from './registry.js';

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
    throw new TensioError('UNKNOWN_FORMAT', `cannot tell the output format from ${JSON.stringify(extension || path)}; pass --to (one of ${formats.filter((f) => f.createWriter).map((f) => f.name).join(', ')})`, { path });
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
export async function detectFormat(path: string, options: FormatListOption & { http?: HttpSourceOptions; signal?: AbortSignal } = {}): Promise<TensorFormat> {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  const kind = await locationKind(path);
  if (kind === 'missing') throw new TensioError('NOT_FOUND', `${path} does not exist`, { path });
  if (kind === 'remote') {
    const layout = remoteLayoutFormat(path, formats);
    if (layout) return layout;
    const { source } = await openSourceInput(path, { ...(options.http ? { http: options.http } : {}), ...(options.signal ? { signal: options.signal } : {}) });
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
  let head: Uint8Array;
  try {
    head = await source.read(0, Math.min(64, source.size));
  } finally {
    await source.close?.();
  }
  const byMagic = formats.filter((format) => format.sniff(head));
  if (byMagic.length === 1) return byMagic[0]!;
  const byExtension = (byMagic.length > 1 ? byMagic : formats).find((format) => format.extensions.includes(extension));
  if (byExtension) return byExtension;
  if (byMagic.length > 1) return byMagic[0]!;
  throw new TensioError('UNKNOWN_FORMAT', `cannot tell the format of ${path}: its first bytes match no known format and ${JSON.stringify(extension)} is not a known extension`, { path });
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
  const head = await source.read(0, Math.min(64, source.size), options.signal ? { signal: options.signal } : undefined);
  const name = source.name ?? '';
  const extension = name ? fileExtension(name.replace(/[?#].*$/, '')) : '';
  const byMagic = formats.filter((format) => format.sniff(head));
  if (byMagic.length === 1) return byMagic[0]!;
  const byExtension = extension ? (byMagic.length > 1 ? byMagic : formats).find((format) => format.extensions.includes(extension)) : undefined;
  if (byExtension) return byExtension;
  if (byMagic.length > 1) return byMagic[0]!;
  throw new TensioError('UNKNOWN_FORMAT', `cannot tell the format of ${name || 'the input'} from its first bytes${extension ? ` or its extension ${JSON.stringify(extension)}` : ''}; pass { format }`, name ? { path: name } : {});
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
  if (!isHttpUrl(url)) return undefined;
  const pathname = decodeURIComponent(new URL(url).pathname);
  const extension = fileExtension(pathname.replace(/\/+$/, ''));
  const candidates = restrictTo ? [restrictTo] : formats;
  const byExtension = candidates.find((format) => format.layoutExtensions?.includes(extension));
  if (byExtension) return byExtension;
  if (restrictTo?.sniffFolder && pathname.endsWith('/')) return restrictTo;
  return undefined;
}
