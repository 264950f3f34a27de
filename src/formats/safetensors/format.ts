/**
 * The safetensors implementation: open, writers, verify, metadata edit, over the cheap
 * descriptor (`descriptor.ts`: sniffing, capabilities, dtype check) that the registry
 * lists lazily.
 */
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import type { Metadata, TensorFormat, TensorWriter, WriterOptions } from '../../model/types.js';
import type { SafetensorsOpenFormatOptions, SafetensorsWriteFormatOptions } from './types.js';
import { safetensorsOpen } from './reader.js';
import { folderHasCheckpoint } from '../sharded/locate.js';
import { safetensorsShardLayout } from './sharded.js';
import { safetensorsShardedWriter } from './sharded-writer.js';
import { safetensorsStreamWriter } from './stream-writer.js';
import { safetensorsDescriptor } from './descriptor.js';
import { safetensorsVerify } from './verify.js';
import { safetensorsEditMetadata } from './edit.js';
import { errorFactory } from '../../core/errors.js';
import { describeWriteTarget, isByteSink, type StoreKey, type WriteTarget } from '../../storage/write-target.js';

const fail = errorFactory('safetensors');

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
    ...(formatOptions.headerReserve !== undefined ? { headerReserve: formatOptions.headerReserve } : {}),
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
 * The safetensors format with its operations loaded. `formatOptions`: open
 * `{ maxHeaderBytes, followIndex }`, write `{ crc32: true, maxShardBytes, headerReserve }`. The
 * registry's entry (`getFormat('safetensors')`) is the lazy one built from
 * `safetensorsDescriptor`, which imports this module on first use.
 *
 * @example
 * ```ts
 * const writer = await safetensorsFormat.createWriter!('x.safetensors', { tensors: [{ name: 'w', dtype: 'float32', shape: [2] }] });
 * ```
 */
export const safetensorsFormat: TensorFormat<SafetensorsOpenFormatOptions, SafetensorsWriteFormatOptions> = {
  ...safetensorsDescriptor,
  // A folder with a *.safetensors.index.json, or one model.safetensors (save_pretrained of a small model).
  sniffFolder: (path) => folderHasCheckpoint(path, safetensorsShardLayout()),
  open(input, options = {}) {
    const formatOptions = options.formatOptions ?? {};
    return safetensorsOpen(input, {
      ...(typeof formatOptions.maxHeaderBytes === 'number' ? { maxHeaderBytes: formatOptions.maxHeaderBytes } : {}),
      ...(formatOptions.followIndex === false ? { followIndex: false } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
    });
  },
  createWriter: createSafetensorsWriter,
  verify: (path, options) => safetensorsVerify(path, options), // formatOptions.followIndex: false checks one shard alone
  editMetadata: safetensorsEditMetadata,
};

export { safetensorsSniff, safetensorsCannotWrite } from './descriptor.js';
