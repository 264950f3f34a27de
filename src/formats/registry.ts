/**
 * The formats tensio knows, and how a file's format is recognised: by its first bytes
 * first, by its extension second, by an explicit `format` option above both.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { TensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import { fileSource } from '../storage/file-source.js';
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

/** Options for {@link openTensorFile}. */
export interface OpenTensorFileOptions extends OpenOptions {
  /** Skip detection and open as this format. */
  format?: string;
}

/**
 * Opens any supported tensor file, folder or source as a {@link TensorReader}.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('weights.npz');
 * console.log(reader.format, reader.tensors.length);
 * ```
 */
export async function openTensorFile(input: string | ByteSource, options: OpenTensorFileOptions = {}): Promise<TensorReader> {
  let format: TensorFormat;
  if (options.format) format = getFormat(options.format);
  else if (typeof input === 'string') format = await detectFormat(input);
  else {
    const head = await input.read(0, Math.min(64, input.size));
    const found = FORMATS.find((candidate) => candidate.sniff(head));
    if (!found) throw new TensioError('UNKNOWN_FORMAT', `cannot tell the format of ${input.name ?? 'the input'} from its first bytes; pass { format }`);
    format = found;
  }
  if (!format.open) throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot read ${format.name} files yet`);
  return format.open(input, options);
}
