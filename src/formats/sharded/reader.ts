/**
 * A sharded checkpoint read as ONE {@link TensorReader}: the index plus every shard it
 * names, each shard opened alone by its format, and the index checked against them.
 * Reads and streams are handed to the shard that holds the tensor, so each format
 * keeps its own way of locating bytes.
 */
import { errorFactory, TensioError, throwIfAborted } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { ReadPartOptions, ReadTensorOptions, StreamTensorOptions, TensorInfo, TensorReader } from '../../model/types.js';
import { siblingLocation } from '../../storage/source-input.js';
import type { ShardIndex } from './index-file.js';
import { readShardIndexFile } from './locate.js';
import type { ShardedLayout } from './types.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('sharded');

/** An index with its shards open; the shared first half of open and verify. */
export interface OpenedShards {
  readonly indexPath: string;
  readonly index: ShardIndex;
  /** Shard file name → its reader, in index order. */
  readonly readers: ReadonlyMap<string, TensorReader>;
  close(): Promise<void>;
}

/**
 * Opens one shard of an index by its file name: a path or URL beside the index, or
 * (in a web page) one of the `File`s the user chose.
 */
export type ShardOpener = (shard: string, signal?: AbortSignal) => Promise<TensorReader>;

/**
 * Opens the index and every shard it names (`NOT_FOUND` for a missing shard; a shard's
 * own error names the shard). Nothing is cross-checked here.
 */
export async function openShards(indexPath: string, layout: ShardedLayout, signal?: AbortSignal): Promise<OpenedShards> {
  const index = await readShardIndexFile(indexPath, layout.maxIndexBytes, layout);
  return openIndexShards(indexPath, index, (shard) => {
    const shardPath = siblingLocation(indexPath, shard); // a path, or a URL beside the index URL
    return layout.openShard(shardPath, signal).catch((cause: unknown) => {
      if (!(cause instanceof TensioError)) throw cause;
      if (cause.code === 'NOT_FOUND' && cause.path === shardPath) fail('NOT_FOUND', `${layout.format}: shard ${shard} named by ${indexPath} does not exist`, { path: shardPath, cause });
      throw new TensioError(cause.code, `${cause.message} (shard ${shardPath})`, { format: cause.format, path: shardPath, cause });
    });
  }, signal);
}

/** Every shard of a parsed index opened with `openShard`, in index order; all closed again if one fails. */
async function openIndexShards(indexPath: string, index: ShardIndex, openShard: ShardOpener, signal?: AbortSignal): Promise<OpenedShards> {
  const readers = new Map<string, TensorReader>();
  const close = async () => {
    await Promise.all([...readers.values()].map((reader) => reader.close()));
  };
  try {
    for (const shard of index.shards) {
      throwIfAborted(signal);
      readers.set(shard, await openShard(shard, signal));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { indexPath, index, readers, close };
}

/** One disagreement between an index and its shards. */
export interface ShardMismatch {
  readonly code: 'NOT_FOUND' | 'DUPLICATE_NAME' | 'INVALID_METADATA';
  readonly tensor: string;
  readonly shard?: string;
  readonly message: string;
}

/**
 * Every way the shards disagree with the index: a tensor stored in two shards, a
 * tensor found in another shard than the index says, a mapped tensor no shard holds,
 * and (only when `strict`) a shard tensor the index does not list. Bounded: stops
 * after `limit` findings.
 */
export function compareShardsWithIndex(opened: OpenedShards, options: { strict: boolean; limit?: number }): ShardMismatch[] {
  const limit = options.limit ?? 100;
  const found: ShardMismatch[] = [];
  const shardOf = new Map<string, string>();
  const { index, indexPath } = opened;
  for (const [shard, reader] of opened.readers) {
    for (const info of reader.tensors) {
      if (found.length >= limit) return found;
      const earlier = shardOf.get(info.name);
      if (earlier !== undefined) {
        found.push({ code: 'DUPLICATE_NAME', tensor: info.name, shard, message: `tensor ${quoteInput(info.name)} is stored in two shards (${earlier} and ${shard})` });
        continue;
      }
      shardOf.set(info.name, shard);
      const mapped = Object.hasOwn(index.weightMap, info.name) ? index.weightMap[info.name] : undefined;
      if (mapped !== undefined && mapped !== shard) {
        found.push({ code: 'DUPLICATE_NAME', tensor: info.name, shard, message: `tensor ${quoteInput(info.name)} is in ${shard} but the index maps it to ${mapped}` });
      } else if (mapped === undefined && options.strict) {
        found.push({ code: 'INVALID_METADATA', tensor: info.name, shard, message: `shard ${shard} holds tensor ${quoteInput(info.name)}, which ${indexPath} does not list` });
      }
    }
  }
  for (const [name, shard] of Object.entries(index.weightMap)) {
    if (found.length >= limit) return found;
    if (!shardOf.has(name)) found.push({ code: 'NOT_FOUND', tensor: name, shard, message: `the index maps tensor ${quoteInput(name)} to ${shard}, which does not hold it` });
  }
  return found;
}

/**
 * Opens a sharded checkpoint from its index as one reader. Throws `NOT_FOUND` for a
 * missing shard or a mapped tensor missing from its shard, `DUPLICATE_NAME` for a
 * tensor stored in two shards or in another shard than the index says. A shard
 * tensor the index does not list is read (transformers loads whole shards) but
 * `verify` reports it.
 *
 * @example
 * ```ts
 * await using reader = await openShardedCheckpoint('ckpt/model.safetensors.index.json', layout);
 * ```
 */
export async function openShardedCheckpoint(indexPath: string, layout: ShardedLayout, signal?: AbortSignal): Promise<TensorReader> {
  return checkedCombination(await openShards(indexPath, layout, signal), layout.format);
}

/**
 * A sharded checkpoint as one reader from an index already parsed and a way to open
 * each shard by name — the web inspector's "choose the index and its shards" path,
 * where the files are `File`s, not names beside each other. The same checks as
 * {@link openShardedCheckpoint}.
 *
 * @example
 * ```ts
 * const reader = await openShardedCheckpointWith('model.safetensors.index.json', parseShardIndex(bytes), 'safetensors', (shard) => openTensorFile(blobSource(files.get(shard)!)));
 * ```
 */
export async function openShardedCheckpointWith(indexName: string, index: ShardIndex, format: string, openShard: ShardOpener, signal?: AbortSignal): Promise<TensorReader> {
  return checkedCombination(await openIndexShards(indexName, index, openShard, signal), format);
}

/** The shards as one reader, after the index check (closes them all when it fails). */
async function checkedCombination(opened: OpenedShards, format: string): Promise<TensorReader> {
  try {
    const mismatch = compareShardsWithIndex(opened, { strict: false, limit: 1 })[0];
    if (mismatch) {
      fail(mismatch.code, `${format}: ${mismatch.message} (${opened.indexPath})`, { path: mismatch.shard ? siblingLocation(opened.indexPath, mismatch.shard) : opened.indexPath });
    }
    return combineShardReaders(opened, format);
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/** One reader over several: infos in shard order (each with `extras.shard`), reads handed to the owning shard. */
function combineShardReaders(opened: OpenedShards, format: string): TensorReader {
  const owner = new Map<string, TensorReader>();
  const infos = new Map<string, TensorInfo>();
  const tensors: TensorInfo[] = [];
  const metadata: Record<string, unknown> = {};
  let size = 0;
  for (const [shard, reader] of opened.readers) {
    size += reader.size;
    Object.assign(metadata, reader.metadata);
    for (const info of reader.tensors) {
      const combined: TensorInfo = { ...info, extras: { ...info.extras, shard } };
      owner.set(info.name, reader);
      infos.set(info.name, combined);
      tensors.push(combined);
    }
  }
  let closed = false;
  const checkOpen = () => {
    if (closed) fail('INVALID_STATE', `${format}: reader is closed`);
  };
  const info = (name: string): TensorInfo => {
    const found = infos.get(name);
    if (!found) return fail('NOT_FOUND', `${format}: no tensor named ${quoteInput(name)} in ${opened.indexPath}`, { path: opened.indexPath });
    return found;
  };
  const reader: TensorReader = {
    format,
    path: opened.indexPath,
    size,
    metadata,
    tensors,
    info,
    has: (name) => infos.has(name),
    async read(name: string, options?: ReadTensorOptions): Promise<Tensor> {
      checkOpen();
      info(name);
      return owner.get(name)!.read(name, options);
    },
    stream(name: string, options?: StreamTensorOptions): AsyncIterable<Uint8Array> {
      checkOpen();
      info(name);
      return owner.get(name)!.stream(name, options);
    },
    async readPart(name: string, part: string, options?: ReadPartOptions): Promise<Tensor> {
      checkOpen();
      info(name);
      return owner.get(name)!.readPart(name, part, options);
    },
    streamPart(name: string, part: string, options?: StreamTensorOptions): AsyncIterable<Uint8Array> {
      checkOpen();
      info(name);
      return owner.get(name)!.streamPart(name, part, options);
    },
    async close() {
      if (closed) return;
      closed = true;
      await opened.close();
    },
    async [Symbol.asyncDispose]() {
      await reader.close();
    },
  };
  return reader;
}
