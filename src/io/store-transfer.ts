/**
 * The two moves every file function makes, through the model seam only: a tensor file
 * into a store (open with `openTensorFile`, write with the npk format's writer) and a
 * store out to a file (`convertReader` into the target format's writer).
 */
import type { S3Options } from '../storage/s3-client.js';
import { TensioError } from '../core/errors.js';
import { getFormat, openTensorFile } from '../operations/index.js';
import { convertReader, type ConvertResult } from '../operations/index.js';
import type { Metadata, TensorReader } from '../model/types.js';
import { estimateChunkRows } from './file-utils.js';
import { DEFAULT_CHUNK_SIZE } from './constants.js';
import type { RemoteOptions, SourceInput } from '../storage/source-input.js';
import { quoteValue } from '../core/quote.js';

/** Options shared by the `from*File` functions. */
export interface IntoStoreOptions {
  /** Replace the whole store instead of adding to it (NumPack's `drop_if_exists`). Default false: merge. */
  dropIfExists?: boolean;
  /** Target bytes per streamed chunk (default {@link DEFAULT_CHUNK_SIZE}); chunks hold whole rows. */
  chunkSize?: number;
  signal?: AbortSignal;
}

/**
 * Copies tensors of an open reader into the store at `npkPath`, renamed per `plan`
 * (`[sourceName, arrayName]`), streaming each in chunks of {@link estimateChunkRows} rows.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('w.safetensors');
 * await copyIntoStore(reader, 'w.npk', [['weight', 'weight']]);
 * ```
 */
export async function copyIntoStore(reader: TensorReader, npkPath: string, plan: readonly [string, string][], options: IntoStoreOptions = {}): Promise<void> {
  const infos = plan.map(([source, target]) => ({ info: reader.info(source), target }));
  const writer = await getFormat('npk').createWriter!(npkPath, {
    tensors: infos.map(({ info, target }) => ({ name: target, dtype: info.dtype, shape: info.shape })),
    overwrite: true,
    formatOptions: { merge: !options.dropIfExists },
  });
  try {
    for (const { info, target } of infos) {
      const rowBytes = info.shape.length === 0 || info.shape[0] === 0 ? info.byteLength : info.byteLength / info.shape[0]!;
      const rows = estimateChunkRows(info.shape, info.dtype, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
      const chunkBytes = Math.max(1, rows * rowBytes);
      await writer.add(target, reader.stream(info.name, { chunkBytes, reuseBuffer: true, ...(options.signal ? { signal: options.signal } : {}) }));
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Opens a tensor file as a reader (any registered format). */
export function openInput(input: SourceInput, format?: string, remote?: RemoteOptions): Promise<TensorReader> {
  return openTensorFile(input, { ...(format ? { format } : {}), ...(remote?.http ? { http: remote.http } : {}), ...(remote?.s3 ? { s3: remote.s3 } : {}) });
}

/** Per-call settings for an `s3://` path (endpoint, region, profile, credentials, anonymous, part size, concurrency). */
export interface S3CallOptions {
  /** For an `s3://` path: over `setS3Defaults` and the AWS chain. */
  s3?: S3Options;
}

/** Options of {@link exportStore}. */
export interface ExportStoreOptions extends S3CallOptions {
  /** Arrays to write (default: all). */
  arrayNames?: readonly string[];
  /** Output format name (default from the extension). */
  to?: string;
  metadata?: Metadata;
  writeOptions?: Record<string, unknown>;
  signal?: AbortSignal;
}

/**
 * Writes arrays of a store to a file of another format through `convertReader`.
 *
 * @example
 * ```ts
 * await exportStore('w.npk', 'w.safetensors', { arrayNames: ['weight'] });
 * ```
 */
export async function exportStore(npkPath: string, outPath: string, options: ExportStoreOptions = {}): Promise<ConvertResult> {
  const reader = await openTensorFile(npkPath, { format: 'npk' });
  try {
    if (options.arrayNames) requireNames(reader, options.arrayNames);
    return await convertReader(reader, outPath, {
      overwrite: true,
      ...(options.to ? { to: options.to } : {}),
      ...(options.arrayNames ? { tensors: options.arrayNames } : {}),
      ...(options.metadata ? { metadata: options.metadata } : { metadata: {} }),
      ...(options.writeOptions ? { writeOptions: options.writeOptions } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.s3 ? { s3: options.s3 } : {}),
    });
  } finally {
    await reader.close();
  }
}

/** Throws `NOT_FOUND` listing every requested name the reader lacks. */
export function requireNames(reader: TensorReader, names: readonly string[]): void {
  const missing = names.filter((name) => !reader.has(name));
  if (missing.length) {
    throw new TensioError('NOT_FOUND', `not found in ${reader.path ?? 'the input'}: ${quoteValue(missing)}; it holds ${quoteValue(reader.tensors.map((t) => t.name))}`, reader.path ? { path: reader.path } : {});
  }
}

/**
 * The one array to export when the caller named none: the store's only array, else
 * `INVALID_ARGUMENT` listing them (NumPack's "please provide the array_name argument").
 */
export function singleArrayName(names: readonly string[], requested: string | undefined, where: string): string {
  if (requested !== undefined) return requested;
  if (names.length === 1) return names[0]!;
  throw new TensioError('INVALID_ARGUMENT', `${where} holds ${names.length} arrays ${quoteValue(names)}; pass { arrayName }`);
}
