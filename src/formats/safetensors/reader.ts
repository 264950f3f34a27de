/**
 * The async shell over a {@link ByteSource}: reads 8 bytes, then exactly the header,
 * hands them to the synchronous parser, and builds a {@link TensorReader} whose tensors
 * are read straight from their spans.
 */
import { throwIfAborted } from '../../core/errors.js';
import { createTensorReader } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../../model/types.js';
import { toByteSource, type ByteInput, type ByteSource } from '../../storage/byte-source.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { safetensorsIsCrc32Key, safetensorsCrc32Key } from './checksum.js';
import { safetensorsParseHeaderJson, safetensorsReadHeaderLength } from './read.js';
import { openShardedCheckpoint } from '../sharded/reader.js';
import { safetensorsResolveTarget, safetensorsShardLayout } from './sharded.js';
import type { SafetensorsHeader, SafetensorsReadOptions } from './types.js';

/** Options for {@link safetensorsOpen}. */
export interface SafetensorsOpenOptions extends SafetensorsReadOptions {
  signal?: AbortSignal;
  /**
   * When given a shard (`model-00001-of-00003.safetensors`) that the index next to it
   * names in its `weight_map`, open the whole sharded checkpoint. Default true; false
   * opens just that file. A shard-named file the index does not list always opens alone.
   */
  followIndex?: boolean;
}

/**
 * Reads and validates the header of a safetensors source, reading only its first
 * `8 + N` bytes.
 *
 * @example
 * ```ts
 * await using source = await fileSource('model.safetensors');
 * const header = await safetensorsReadHeaderFrom(source);
 * ```
 */
export async function safetensorsReadHeaderFrom(input: ByteInput, options: SafetensorsReadOptions & { signal?: AbortSignal } = {}): Promise<SafetensorsHeader> {
  const source = toByteSource(input);
  const signalOption = options.signal ? { signal: options.signal } : undefined;
  const first8 = source.size >= 8 ? await source.read(0, 8, signalOption) : new Uint8Array(0);
  const headerLength = safetensorsReadHeaderLength(first8, source.size, options);
  throwIfAborted(options.signal);
  const headerBytes = await source.read(8, headerLength, signalOption);
  return safetensorsParseHeaderJson(headerBytes, source.size);
}

/**
 * The {@link TensorInfo}s of a parsed header, in data order. `extras.dataOffset` is the
 * absolute offset of the tensor in the file; `extras.crc32` the recorded CRC32, if any.
 *
 * @example
 * ```ts
 * const infos = safetensorsTensorInfos(header);
 * ```
 */
export function safetensorsTensorInfos(header: SafetensorsHeader, extras: Record<string, unknown> = {}): TensorInfo[] {
  // Only files written with checksums have crc32 keys: skip the per-tensor lookup (a fresh
  // key string each, costly over a million tensors) when there are none.
  const crcs = new Map<string, string>();
  for (const [key, value] of Object.entries(header.metadata)) if (safetensorsIsCrc32Key(key)) crcs.set(key, value);
  return header.tensors.map((entry) => {
    const crc = crcs.size === 0 ? undefined : crcs.get(safetensorsCrc32Key(entry.name));
    return {
      name: entry.name,
      dtype: entry.dtype,
      shape: entry.shape,
      byteLength: entry.byteLength,
      formatDtype: entry.formatDtype,
      extras: {
        ...extras,
        dataOffset: header.dataStart + entry.dataOffsets[0],
        dataOffsets: entry.dataOffsets,
        ...(crc !== undefined ? { crc32: crc } : {}),
      },
    };
  });
}

/**
 * Opens one safetensors file held by a source as a {@link TensorReader}. The source
 * is closed with the reader when `ownsSource` is set.
 *
 * @example
 * ```ts
 * const reader = await safetensorsOpenSource(bytesSource(fileBytes));
 * ```
 */
export async function safetensorsOpenSource(source: ByteSource, options: SafetensorsReadOptions & { signal?: AbortSignal; ownsSource?: boolean } = {}): Promise<TensorReader> {
  let header: SafetensorsHeader;
  try {
    header = await safetensorsReadHeaderFrom(source, options);
  } catch (error) {
    if (options.ownsSource) await source.close?.();
    throw error;
  }
  const tensors = safetensorsTensorInfos(header);
  return createTensorReader({
    format: 'safetensors',
    ...(source.name !== undefined ? { path: source.name } : {}),
    size: source.size,
    metadata: { ...header.metadata },
    tensors,
    locate: (info) => ({ kind: 'span', source, offset: info.extras!.dataOffset as number }),
    ...(options.ownsSource ? { close: async () => { await source.close?.(); } } : {}),
  });
}

/**
 * Opens safetensors as one {@link TensorReader}: a file path, a sharded checkpoint (its
 * `*.safetensors.index.json`, a folder holding one, or a shard its index names), a
 * model folder holding one `.safetensors` file, a {@link ByteSource}, or bytes in
 * memory. Only headers are read here.
 *
 * @example
 * ```ts
 * await using reader = await safetensorsOpen('model.safetensors');
 * const weight = await reader.read('lm_head.weight', { slice: { start: 0, end: 16 } });
 * ```
 */
export async function safetensorsOpen(input: string | ByteInput, options: SafetensorsOpenOptions = {}): Promise<TensorReader> {
  if (typeof input !== 'string') return safetensorsOpenSource(toByteSource(input), options);
  const target = await safetensorsResolveTarget(input, options);
  if (target.kind === 'index') return openShardedCheckpoint(target.path, safetensorsShardLayout(options), options.signal);
  const { source } = await openSourceInput(target.path, sourceOptionsOf(options));
  return safetensorsOpenSource(source, { ...options, ownsSource: true });
}
