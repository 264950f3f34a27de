/**
 * The formats tensio knows, and how a file's format is recognised: by its first bytes
 * first, by its extension second, by an explicit `format` option above both.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { TensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import { fileSource } from '../storage/file-source.js';
import { describeSourceInput, isByteSource, localPathOf, openSourceInput, type SourceInput } from '../storage/source-input.js';
import type { OpenOptions, TensorFormat, TensorReader } from '../model/types.js';

/** Every registered format. Each format folder contributes one entry (its `format.ts`). */
export const FORMATS: TensorFormat[] = [];

/** Adds a format to the registry (formats register themselves from `formats/index.ts`). */
export function registerFormat(format: TensorFormat): void {
  const existing = FORMATS.findIndex((entry) => entry.name === format.name);
  if (existing >= 0) FORMATS[existing] = format;
  else FORMATS.push(format);
}

/** The format with this name; throws `UNKNOWN_FORMAT` listing the known ones. */
export function getFormat(name: string): TensorFormat {
  const found = FORMATS.find((format) => format.name === name.toLowerCase());
  if (!found) {
    throw new TensioError('UNKNOWN_FORMAT', `unknown format ${JSON.stringify(name)}; known formats: ${FORMATS.map((f) => f.name).join(', ')}`);
  }
  return found;
}

/** Lower-case extension with its dot, treating `.safetensors.index.json` as one. */
export function fileExtension(path: string): string {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors.index.json')) return '.safetensors.index.json';
  if (lower.endsWith('.bin.index.json')) return '.bin.index.json';
  return extname(lower);
}

/** The format an output path's extension names; throws `UNKNOWN_FORMAT` if none does. */
export function formatForOutputPath(path: string): TensorFormat {
  const extension = fileExtension(path);
  const found = FORMATS.find((format) => format.createWriter && format.extensions.includes(extension));
  if (!found) {
    throw new TensioError('UNKNOWN_FORMAT', `cannot tell the output format from ${JSON.stringify(extension || path)}; pass --to (one of ${FORMATS.filter((f) => f.createWriter).map((f) => f.name).join(', ')})`, { path });
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
export async function detectFormat(path: string): Promise<TensorFormat> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new TensioError('NOT_FOUND', `${path} does not exist`, { path, cause });
  }
  const extension = fileExtension(path);
  if (isDirectory) {
    const matches = await Promise.all(FORMATS.map(async (format) => (format.sniffFolder ? await format.sniffFolder(path) : false)));
    const index = matches.findIndex(Boolean);
    if (index >= 0) return FORMATS[index]!;
    throw new TensioError('UNKNOWN_FORMAT', `${path} is a folder tensio does not recognise (expected a NumPack store or a sharded checkpoint)`, { path });
  }
  const source = await fileSource(path);
  let head: Uint8Array;
  try {
    head = await source.read(0, Math.min(64, source.size));
  } finally {
    await source.close();
  }
  const byMagic = FORMATS.filter((format) => format.sniff(head));
  if (byMagic.length === 1) return byMagic[0]!;
  const byExtension = (byMagic.length > 1 ? byMagic : FORMATS).find((format) => format.extensions.includes(extension));
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
export async function detectSourceFormat(source: ByteSource, options: { signal?: AbortSignal } = {}): Promise<TensorFormat> {
  const head = await source.read(0, Math.min(64, source.size), options.signal ? { signal: options.signal } : undefined);
  const name = source.name ?? '';
  const extension = name ? fileExtension(name.replace(/[?#].*$/, '')) : '';
  const byMagic = FORMATS.filter((format) => format.sniff(head));
  if (byMagic.length === 1) return byMagic[0]!;
  const byExtension = extension ? (byMagic.length > 1 ? byMagic : FORMATS).find((format) => format.extensions.includes(extension)) : undefined;
  if (byExtension) return byExtension;
  if (byMagic.length > 1) return byMagic[0]!;
  throw new TensioError('UNKNOWN_FORMAT', `cannot tell the format of ${name || 'the input'} from its first bytes${extension ? ` or its extension ${JSON.stringify(extension)}` : ''}; pass { format }`, name ? { path: name } : {});
}

/** Options for {@link openTensorFile}. */
export interface OpenTensorFileOptions extends OpenOptions {
  /** Skip detection and open as this format. */
  format?: string;
}

/**
 * Opens any supported tensor file, folder or source as a {@link TensorReader}: a local
 * path, a `file:` URL, bytes in memory or any {@link ByteSource}.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('weights.npz');
 * await using fromBytes = await openTensorFile(fileBytes, { format: 'npy' });
 * console.log(reader.format, reader.tensors.length);
 * ```
 */
export async function openTensorFile(input: SourceInput, options: OpenTensorFileOptions = {}): Promise<TensorReader> {
  const path = typeof input === 'string' || input instanceof URL ? localPathOf(input) : undefined;
  if (path !== undefined) {
    const format = options.format ? getFormat(options.format) : await detectFormat(path);
    return openWith(format, path, options);
  }
  if (!(input instanceof Uint8Array) && !isByteSource(input) && typeof input !== 'string' && !(input instanceof URL)) {
    throw new TensioError('INVALID_ARGUMENT', `openTensorFile takes a path, a URL, a Uint8Array or a ByteSource, not ${input === null ? 'null' : typeof input}`);
  }
  const { source, owned } = await openSourceInput(input, options.signal ? { signal: options.signal } : {});
  try {
    const format = options.format ? getFormat(options.format) : await detectSourceFormat(source, options);
    const reader = await openWith(format, source, options);
    return owned ? closingSourceWith(reader, source) : reader;
  } catch (error) {
    if (owned) await source.close?.();
    throw error;
  }
}

function openWith(format: TensorFormat, input: string | ByteSource, options: OpenOptions): Promise<TensorReader> {
  if (!format.open) throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot read ${format.name} files yet`);
  return format.open(input, options);
}

/** The same reader, whose `close()` also closes a source it was opened over. */
function closingSourceWith(reader: TensorReader, source: ByteSource): TensorReader {
  const close = async (): Promise<void> => {
    try {
      await reader.close();
    } finally {
      await source.close?.();
    }
  };
  const wrapped = Object.create(reader) as TensorReader;
  Object.defineProperties(wrapped, {
    close: { value: close },
    [Symbol.asyncDispose]: { value: close },
    path: { value: reader.path ?? describeSourceInput(source), enumerable: true },
  });
  return wrapped;
}
