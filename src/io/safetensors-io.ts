/**
 * safetensors ↔ NumPack store: records of tensors in memory, `.safetensors` files on
 * disk, plus header-only metadata and one-tensor-at-a-time iteration.
 */
import type { S3Options } from '../storage/s3-client.js';
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import type { Metadata } from '../model/types.js';
import { NumPack } from '../npk/numpack.js';
import { copyIntoStore, exportStore, openInput, requireNames, type IntoStoreOptions, type S3CallOptions } from './store-transfer.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import type { RemoteOptions, SourceInput } from '../storage/source-input.js';

/** Options of {@link fromSafetensors}. */
export interface FromSafetensorsOptions {
  /** Replace the whole store first; default false (arrays of the same name are overwritten, others kept). */
  dropIfExists?: boolean;
}

/**
 * Saves a record of tensors (as `safetensors.numpy.load_file` gives) into a store.
 *
 * @example
 * ```ts
 * await fromSafetensors({ weight, bias }, 'model.npk');
 * ```
 */
export async function fromSafetensors(tensors: Readonly<Record<string, Tensor>>, npkPath: string, options: FromSafetensorsOptions = {}): Promise<void> {
  await using npk = await NumPack.open(npkPath, { dropIfExists: options.dropIfExists ?? false });
  await npk.save(tensors);
}

/** Options of {@link toSafetensors}. */
export interface ToSafetensorsOptions {
  /** Arrays to load (default: all). */
  arrayNames?: readonly string[];
}

/**
 * Loads arrays of a store as a record of tensors, ready for a safetensors writer.
 *
 * @example
 * ```ts
 * const tensors = await toSafetensors('model.npk');
 * ```
 */
export async function toSafetensors(npkPath: string, options: ToSafetensorsOptions = {}): Promise<Record<string, Tensor>> {
  await using npk = await NumPack.open(npkPath, { readOnly: true });
  const out: Record<string, Tensor> = {};
  for (const name of options.arrayNames ?? npk.getMemberList()) out[name] = await npk.load(name);
  return out;
}

/** Options of {@link fromSafetensorsFile}. */
export interface FromSafetensorsFileOptions extends IntoStoreOptions {
  /** Tensors to convert (default all); unknown keys → `NOT_FOUND` listing them. */
  keys?: readonly string[];
  /** For an `http(s)://` input: request headers (tokens), retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/**
 * Converts a `.safetensors` file into a store, one array per tensor, streaming.
 *
 * @example
 * ```ts
 * await fromSafetensorsFile('model.safetensors', 'model.npk', { keys: ['embed.weight'] });
 * ```
 */
export async function fromSafetensorsFile(safetensorsPath: SourceInput, npkPath: string, options: FromSafetensorsFileOptions = {}): Promise<void> {
  await using reader = await openInput(safetensorsPath, 'safetensors', options);
  if (options.keys) requireNames(reader, options.keys);
  const names = options.keys ?? reader.tensors.map((info) => info.name);
  await copyIntoStore(reader, npkPath, names.map((name) => [name, name]), options);
}

/** Options of {@link toSafetensorsFile}. */
export interface ToSafetensorsFileOptions extends S3CallOptions {
  /** Arrays to write (default: all). */
  arrayNames?: readonly string[];
  /** `__metadata__` of the file (string values; others are JSON-encoded). */
  metadata?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

/**
 * Writes arrays of a store to a `.safetensors` file (atomically, streaming).
 *
 * @example
 * ```ts
 * await toSafetensorsFile('model.npk', 'model.safetensors', { metadata: { format: 'numpack' } });
 * ```
 */
export async function toSafetensorsFile(npkPath: string, safetensorsPath: string, options: ToSafetensorsFileOptions = {}): Promise<void> {
  await exportStore(npkPath, safetensorsPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: 'safetensors',
    ...(options.arrayNames ? { arrayNames: options.arrayNames } : {}),
    ...(options.metadata ? { metadata: { ...options.metadata } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** What {@link getSafetensorsMetadata} returns. */
export interface SafetensorsFileSummary {
  tensors: Record<string, { dtype: DType; shape: number[] }>;
  metadata: Metadata;
}

/**
 * Tensor names, dtypes and shapes plus `__metadata__`, reading the header only.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = await getSafetensorsMetadata('model.safetensors');
 * ```
 */
export async function getSafetensorsMetadata(path: SourceInput, options: RemoteOptions = {}): Promise<SafetensorsFileSummary> {
  await using reader = await openInput(path, 'safetensors', options);
  const tensors: SafetensorsFileSummary['tensors'] = {};
  for (const info of reader.tensors) tensors[info.name] = { dtype: info.dtype, shape: [...info.shape] };
  return { tensors, metadata: { ...reader.metadata } };
}

/** Options of {@link iterSafetensors}. */
export interface IterSafetensorsOptions {
  /** Tensors to yield (default all, in file order); unknown keys → `NOT_FOUND`. */
  keys?: readonly string[];
  signal?: AbortSignal;
  /** For an `http(s)://` input: request headers (tokens), retries, timeouts. */
  http?: HttpSourceOptions;
  /** For an `s3://` input: endpoint, region, profile, credentials, anonymous. */
  s3?: S3Options;
}

/**
 * Yields `[name, tensor]` one tensor at a time, so only one is in memory.
 *
 * @example
 * ```ts
 * for await (const [name, tensor] of iterSafetensors('model.safetensors')) console.log(name, tensor.shape);
 * ```
 */
export async function* iterSafetensors(path: SourceInput, options: IterSafetensorsOptions = {}): AsyncGenerator<[string, Tensor]> {
  await using reader = await openInput(path, 'safetensors', options);
  if (options.keys) requireNames(reader, options.keys);
  for (const name of options.keys ?? reader.tensors.map((info) => info.name)) {
    yield [name, await reader.read(name, options.signal ? { signal: options.signal } : {})];
  }
}
