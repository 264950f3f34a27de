/**
 * GGUF files ↔ NumPack store, through the model seam: `fromGgufFile` copies a GGUF
 * model's tensors into a store (block-quantized ones dequantized to float32 by default,
 * bit for bit as gguf-py; or kept as raw `uint8` blocks), `toGgufFile` writes a store's
 * arrays as GGUF (optionally quantized on the way).
 */
import type { S3Options } from '../storage/s3-client.js';
import type { DType } from '../core/dtype.js';
import type { Metadata } from '../model/types.js';
import { convertReader } from '../operations/convert.js';
import type { HttpSourceOptions } from '../storage/http-source.js';
import type { SourceInput } from '../storage/source-input.js';
import { exportStore, openInput, requireNames, type S3CallOptions } from './store-transfer.js';

/** Options of {@link fromGgufFile}. */
export interface FromGgufFileOptions {
  /** Tensors to copy (default: all). */
  keys?: readonly string[];
  /**
   * Block-quantized tensors as float32 values (default true: NumPack has no block
   * dtypes); `false` keeps their raw blocks as `uint8` arrays (`[..., rowBytes]`).
   */
  dequantize?: boolean;
  /** Replace the whole store instead of adding to it. Default false: merge. */
  dropIfExists?: boolean;
  /** For an `http(s)://` input: request headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
  signal?: AbortSignal;
}

/**
 * Copies a GGUF file's tensors (path, URL, bytes or source) into the store at `npkPath`.
 *
 * @example
 * ```ts
 * await fromGgufFile('tinyllama-Q8_0.gguf', 'tiny.npk'); // float32 arrays, dequantized as gguf-py does
 * ```
 */
export async function fromGgufFile(ggufPath: SourceInput, npkPath: string, options: FromGgufFileOptions = {}): Promise<void> {
  await using reader = await openInput(ggufPath, 'gguf', options);
  if (options.keys) requireNames(reader, options.keys);
  await convertReader(reader, npkPath, {
    to: 'npk',
    overwrite: true,
    dequantize: options.dequantize ?? true,
    metadata: {},
    writeOptions: { merge: options.dropIfExists !== true },
    ...(options.keys ? { tensors: options.keys } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Options of {@link toGgufFile}. */
export interface ToGgufFileOptions extends S3CallOptions {
  /** Arrays to write (default: all). */
  arrayNames?: readonly string[];
  /** GGUF metadata (typed `{ type, value }` or plain values, typed as gguf-py types them). */
  metadata?: Metadata;
  /** `general.architecture`. */
  arch?: string;
  /** Quantize float arrays of ≥ 2 dimensions (`'q8_0'`, `'q4_0'`, …). */
  quantize?: DType;
  signal?: AbortSignal;
}

/**
 * Writes arrays of a store to a GGUF v3 file (atomically, streaming).
 *
 * @example
 * ```ts
 * await toGgufFile('tiny.npk', 'tiny-Q8_0.gguf', { arch: 'llama', quantize: 'q8_0' });
 * ```
 */
export async function toGgufFile(npkPath: string, ggufPath: string, options: ToGgufFileOptions = {}): Promise<void> {
  await exportStore(npkPath, ggufPath, {
    ...(options.s3 ? { s3: options.s3 } : {}),
    to: 'gguf',
    ...(options.arrayNames ? { arrayNames: options.arrayNames } : {}),
    ...(options.metadata ? { metadata: { ...options.metadata } } : {}),
    writeOptions: { ...(options.arch ? { arch: options.arch } : {}), ...(options.quantize ? { quantize: options.quantize } : {}) },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
