/**
 * The safetensors entry of the format registry: sniffing, open, writers, verify.
 */
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import type { Metadata, TensorFormat, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import type { SafetensorsOpenFormatOptions, SafetensorsWriteFormatOptions } from './types.js';
import { safetensorsOpen } from './reader.js';
import { folderHasCheckpoint } from '../sharded/locate.js';
import { safetensorsShardLayout } from './sharded.js';
import { safetensorsShardedWriter } from './sharded-writer.js';
import { safetensorsStreamWriter } from './stream-writer.js';
import { SAFETENSORS_DTYPES, SAFETENSORS_METADATA_KEY, safetensorsDtypeName } from './types.js';
import { safetensorsVerify } from './verify.js';
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import { safetensorsEditMetadata } from './edit.js';
import { errorFactory } from '../../core/errors.js';
import { describeWriteTarget, isByteSink, type StoreKey, type WriteTarget } from '../../storage/write-target.js';

const fail = errorFactory('safetensors');

/**
 * True when the first bytes look like safetensors: a little-endian u64 header length
 * within the reader's limit, then (after optional JSON whitespace) `{`.
 *
 * @example
 * ```ts
 * safetensorsSniff(await source.read(0, 64)); // true for a safetensors file
 * ```
 */
export function safetensorsSniff(head: Uint8Array): boolean {
  if (head.byteLength < 9) return false;
  const length = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) return false;
  const end = Math.min(head.byteLength, 8 + Number(length));
  for (let at = 8; at < end; at++) {
    const byte = head[at]!;
    if (byte === 0x7b) return true;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return false;
}

/**
 * safetensors metadata holds strings only: other values (from formats that keep numbers,
 * lists, …) are written as their JSON text. Empty metadata becomes `undefined` (no
 * `__metadata__` entry at all).
 *
 * @example
 * ```ts
 * safetensorsMetadataFrom({ format: 'pt', 'general.block_count': 32 }); // { format: 'pt', 'general.block_count': '32' }
 * ```
 */
export function safetensorsMetadataFrom(metadata: Metadata | undefined): Record<string, string> | undefined {
  if (!metadata) return undefined;
  const entries = Object.entries(metadata);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    out[key] = typeof value === 'string' ? value : JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? String(value);
  }
  return out;
}

async function createSafetensorsWriter(target: WriteTarget, options: WriterOptions<SafetensorsWriteFormatOptions>): Promise<TensorWriter> {
  const formatOptions = options.formatOptions ?? {};
  const metadata = safetensorsMetadataFrom(options.metadata);
  const common = {
    tensors: options.tensors,
    ...(metadata ? { metadata } : {}),
    crc32: formatOptions.crc32 === true,
    overwrite: options.overwrite ?? true,
    ...(options.staging ? { staging: options.staging } : {}),
  };
  plannedWriterCheckPlan('safetensors', options.tensors);
  const { maxShardBytes } = formatOptions;
  const name = describeWriteTarget(target);
  const wantsShards = maxShardBytes !== undefined || name?.toLowerCase().endsWith('.safetensors.index.json') === true;
  if (wantsShards && isByteSink(target)) {
    fail('UNSUPPORTED_FEATURE', 'safetensors: a sharded checkpoint is several files (shards and an index) and cannot go to one sink; give a path or { store, key }');
  }
  const sharded = wantsShards
    ? await safetensorsShardedWriter(target as string | StoreKey, { ...common, ...(maxShardBytes !== undefined ? { maxShardBytes } : {}) })
    : undefined;
  const single = sharded ? undefined : await safetensorsStreamWriter(target, common);
  const files = (sharded ?? single)!;
  const specOf = new Map(options.tensors.map((spec) => [spec.name, spec]));
  // The block writers keep the file's own order (largest alignment first); add follows it.
  return createPlannedWriter({
    format: 'safetensors',
    order: files.order.map((name) => specOf.get(name)!),
    async writeTensor(spec, chunks) {
      const blocks = sharded ? sharded.shardWriterFor(spec.name) : single!;
      for await (const chunk of chunks) await blocks.writeBlock(spec.name, chunk);
      await blocks.finalizeTensor(spec.name);
    },
    publish: () => files.close(),
    discard: () => files.abort(),
    ...(sharded ? { outputs: () => ({ files: sharded.files, removedFiles: sharded.removedFiles }) } : {}),
  });
}

/**
 * Why safetensors cannot hold a tensor of this spec (`complex128`, `opaque`, the
 * reserved name `__metadata__`), or undefined when it can.
 *
 * @example
 * ```ts
 * safetensorsCannotWrite({ name: 'z', dtype: 'complex128', shape: [2] }); // 'safetensors has no complex128 dtype'
 * ```
 */
export function safetensorsCannotWrite(spec: TensorSpec): string | undefined {
  if (spec.name === SAFETENSORS_METADATA_KEY) return `${SAFETENSORS_METADATA_KEY} is reserved and cannot name a tensor`;
  if (!safetensorsDtypeName(spec.dtype)) return blockDTypeRefusal(spec.dtype, 'safetensors') ?? `safetensors has no ${spec.dtype} dtype`;
  return undefined;
}

/**
 * The registry entry. `formatOptions`: open `{ maxHeaderBytes, followIndex }`,
 * write `{ crc32: true, maxShardBytes }`.
 *
 * @example
 * ```ts
 * getFormat('safetensors') === safetensorsFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
export const safetensorsFormat: TensorFormat<SafetensorsOpenFormatOptions, SafetensorsWriteFormatOptions> = {
  name: 'safetensors',
  extensions: ['.safetensors', '.safetensors.index.json'],
  layoutExtensions: ['.safetensors.index.json'],
  capabilities: {
    tensors: 'many',
    dtypes: [...new Set(SAFETENSORS_DTYPES.map(([, dtype]) => dtype))],
    layouts: ['dense'],
    // Every offset is in the JSON header at the front of the file.
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'optional',
    folder: false,
  },
  sniff: safetensorsSniff,
  // A folder with a *.safetensors.index.json, or one model.safetensors (save_pretrained of a small model).
  sniffFolder: (path) => folderHasCheckpoint(path, safetensorsShardLayout()),
  open(input, options = {}) {
    const formatOptions = options.formatOptions ?? {};
    return safetensorsOpen(input, {
      ...(typeof formatOptions.maxHeaderBytes === 'number' ? { maxHeaderBytes: formatOptions.maxHeaderBytes } : {}),
      ...(formatOptions.followIndex === false ? { followIndex: false } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.http ? { http: options.http } : {}),
    });
  },
  createWriter: createSafetensorsWriter,
  verify: (path, options) => safetensorsVerify(path, options), // formatOptions.followIndex: false checks one shard alone
  cannotWrite: safetensorsCannotWrite,
  editMetadata: safetensorsEditMetadata,
  openOptionNames: ['maxHeaderBytes', 'followIndex'],
};
