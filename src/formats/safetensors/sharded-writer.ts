/**
 * Writing sharded checkpoints the huggingface_hub way: tensors in plan (state-dict)
 * order fill shards up to `maxShardBytes`, an oversized tensor gets a shard of its own,
 * files are named `model-00001-of-0000N.safetensors`, and `model.safetensors.index.json`
 * maps every tensor to its shard. One shard ⇒ plain `model.safetensors`, no index.
 * Publishing replaces an existing checkpoint as a set (see `src/formats/sharded/publish.ts`):
 * new shards under names the old index does not use, the index last, old shards removed.
 * A writer holds the prefix's lock (`.<prefix>.safetensors.writer-lock` in a local folder)
 * from creation to `close()`/`abort()`: a second writer of the same prefix gets `LOCKED`
 * instead of publishing its set over the first one's.
 */
import { basename, dirname } from 'node:path';
import { errorFactory } from '../../core/errors.js';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { tensorByteLength } from '../../core/sizes.js';
import type { TensorBytes, TensorSpec, TensorWriter } from '../../model/types.js';
import { isFolderStore } from '../../storage/folder-store.js';
import { acquireWriterLock, type WriterLock } from '../../storage/writer-lock.js';
import { keyFolder, type Store } from '../../storage/store.js';
import { isStoreKey, outputFolderStore, type StoreKey } from '../../storage/write-target.js';
import { checkShardSetTarget, chooseShardNames, publishShardSet } from '../sharded/publish.js';
import { shardIndexFileName } from '../sharded/names.js';
import { safetensorsIsCrc32Key } from './checksum.js';
import { safetensorsFormatIndex } from './sharded-index.js';
import { safetensorsStreamWriter, type SafetensorsStreamWriter, type SafetensorsStreamWriterOptions } from './stream-writer.js';
import type { SafetensorsTensors } from './write.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('safetensors');

/** huggingface_hub's default shard limit, "5GB". */
export const SAFETENSORS_DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/** Options for {@link safetensorsShardedWriter}. */
export interface SafetensorsShardedWriterOptions extends Omit<SafetensorsStreamWriterOptions, 'preserveOrder'> {
  /** Largest data size of one shard; default 5 GB (huggingface_hub's default). */
  maxShardBytes?: number;
}

/** Where a sharded write goes: a folder and a file-name prefix. */
export function safetensorsResolveShardTarget(target: string): { folder: string; prefix: string } {
  const lower = target.toLowerCase();
  if (lower.endsWith('.safetensors.index.json')) return { folder: dirname(target), prefix: basename(target).slice(0, -'.safetensors.index.json'.length) };
  if (lower.endsWith('.safetensors')) return { folder: dirname(target), prefix: basename(target).slice(0, -'.safetensors'.length) };
  return { folder: target, prefix: 'model' };
}

/** A sharded target as a store, the folder key inside it and the prefix. */
interface ShardSetTarget {
  readonly store: Store;
  readonly folderKey: string;
  readonly prefix: string;
}

/**
 * A path becomes a local folder store (an S3 prefix for `s3://`) over its folder (created by the first shard's
 * write); a `{ store, key }` keeps its store, the key naming the index, the one-file
 * form or (no `.safetensors` ending) a folder key.
 */
function shardSetTarget(target: string | StoreKey): ShardSetTarget {
  if (!isStoreKey(target)) {
    const { folder, prefix } = safetensorsResolveShardTarget(target);
    return { store: outputFolderStore(folder), folderKey: '', prefix };
  }
  const { key } = target;
  const lower = key.toLowerCase();
  const named = lower.endsWith('.safetensors.index.json') || lower.endsWith('.safetensors');
  if (!named) return { store: target.store, folderKey: key === '' || key.endsWith('/') ? key : `${key}/`, prefix: 'model' };
  const { prefix } = safetensorsResolveShardTarget(key.slice(keyFolder(key).length));
  return { store: target.store, folderKey: keyFolder(key), prefix };
}

/**
 * Splits a plan into shards exactly as huggingface_hub's `split_state_dict_into_shards_factory`.
 *
 * @example
 * ```ts
 * safetensorsSplitShards(plan, 1_000_000); // [[spec, spec], [spec]]
 * ```
 */
export function safetensorsSplitShards(plan: readonly TensorSpec[], maxShardBytes: number): TensorSpec[][] {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) fail('INVALID_ARGUMENT', `safetensors: maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  const shards: TensorSpec[][] = [];
  let current: TensorSpec[] = [];
  let currentSize = 0;
  for (const spec of plan) {
    const size = tensorByteLength(spec.dtype, spec.shape, 'safetensors') ?? 0;
    if (size > maxShardBytes) {
      shards.push([spec]);
      continue;
    }
    if (currentSize + size > maxShardBytes) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(spec);
    currentSize += size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** A sharded checkpoint being streamed; a {@link TensorWriter} over one stream writer per shard. */
export class SafetensorsShardedWriter implements TensorWriter {
  readonly format = 'safetensors';
  readonly order: readonly string[];
  /** File paths this writer publishes (shards, then the index when there is one). */
  readonly files: readonly string[];
  /** The index path, when there is more than one shard. */
  readonly indexPath: string | undefined;
  /** Files of the replaced checkpoint removed after the new one was committed (set by `close()`). */
  removedFiles: readonly string[] = [];
  private readonly writerOf = new Map<string, SafetensorsStreamWriter>();
  private done = false;

  private constructor(
    private readonly writers: readonly SafetensorsStreamWriter[],
    private readonly indexText: string | undefined,
    private readonly target: ShardSetTarget & { names: readonly string[] },
    private readonly overwrite: boolean,
    private readonly lock: WriterLock | undefined,
  ) {
    for (const writer of writers) for (const name of writer.order) this.writerOf.set(name, writer);
    this.order = writers.flatMap((writer) => writer.order);
    const locate = (name: string): string => target.store.locate(`${target.folderKey}${name}`);
    const shardPaths = target.names.map(locate);
    this.indexPath = indexText !== undefined ? locate(shardIndexFileName(target.prefix, '.safetensors')) : undefined;
    this.files = this.indexPath ? [...shardPaths, this.indexPath] : shardPaths;
  }

  /** Plans the shards and opens one temporary file per shard. Prefer {@link safetensorsShardedWriter}. */
  static async create(target: string | StoreKey, options: SafetensorsShardedWriterOptions): Promise<SafetensorsShardedWriter> {
    const { store, folderKey, prefix } = shardSetTarget(target);
    if (!store.canWrite || !store.canList) {
      fail('UNSUPPORTED_FEATURE', `safetensors: a sharded checkpoint is published as a set (new shards, the index, then the old shards removed), which needs a store that can write and list; ${store.name} cannot`);
    }
    const shards = safetensorsSplitShards(options.tensors, options.maxShardBytes ?? SAFETENSORS_DEFAULT_MAX_SHARD_BYTES);
    if (shards.length === 0) shards.push([]);
    // One writer per prefix at a time, from choosing names to publishing: two would pick the same names.
    const lock = await lockShardSet(store, folderKey, prefix);
    const writers: SafetensorsStreamWriter[] = [];
    let names: string[];
    try {
      // Names the checkpoint being replaced does not use, so its index keeps reading it until ours commits.
      names = await chooseShardNames(store, folderKey, prefix, '.safetensors', shards.length, options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES);
      await checkShardSetTarget(store, folderKey, prefix, '.safetensors', names, options.overwrite !== false);
      for (const [index, shard] of shards.entries()) {
        // Each shard through the store: written aside, published (renamed) only by publishShardSet.
        const sink = await store.sink(`${folderKey}${names[index]!}`, { noOverwrite: options.overwrite === false, ...(options.durable === false ? { durable: false } : {}) });
        writers.push(await safetensorsStreamWriter(sink, { ...options, tensors: shard }).catch(async (error: unknown) => {
          await sink.abort();
          throw error;
        }));
      }
    } catch (error) {
      await Promise.all(writers.map((writer) => writer.abort()));
      await lock?.release();
      throw error;
    }
    let indexText: string | undefined;
    if (shards.length > 1) {
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      shards.forEach((shard, index) => {
        for (const spec of shard) {
          weightMap[spec.name] = names[index]!;
          totalSize += tensorByteLength(spec.dtype, spec.shape, 'safetensors') ?? 0;
        }
      });
      const userMetadata = Object.fromEntries(Object.entries(options.metadata ?? {}).filter(([key]) => !safetensorsIsCrc32Key(key)));
      indexText = safetensorsFormatIndex({ ...userMetadata, total_size: totalSize }, weightMap);
    }
    return new SafetensorsShardedWriter(writers, indexText, { store, folderKey, prefix, names }, options.overwrite !== false, lock);
  }

  /** Writes one planned tensor (bytes or chunks) into its shard. */
  async add(name: string, data: TensorBytes, options: { signal?: AbortSignal } = {}): Promise<void> {
    const writer = this.writerOf.get(name);
    if (!writer) fail('NOT_FOUND', `safetensors: tensor ${quoteInput(name)} is not in the plan`);
    await writer!.add(name, data, options);
  }

  /** The stream writer of the shard holding `name`, for block-by-block writing. */
  shardWriterFor(name: string): SafetensorsStreamWriter {
    const writer = this.writerOf.get(name);
    if (!writer) return fail('NOT_FOUND', `safetensors: tensor ${quoteInput(name)} is not in the plan`);
    return writer;
  }

  /**
   * Publishes the set: every shard under its new name, then the index (the commit
   * point), then removes the replaced checkpoint's shards and any shard-named file of
   * the same prefix the new index does not name.
   */
  async close(): Promise<void> {
    if (this.done) return;
    const { removed } = await publishShardSet({
      store: this.target.store,
      folderKey: this.target.folderKey,
      prefix: this.target.prefix,
      extension: '.safetensors',
      files: this.target.names.map((name, index) => ({ name, publish: () => this.writers[index]!.close(), abort: () => this.writers[index]!.abort() })),
      indexText: this.indexText,
      overwrite: this.overwrite,
      maxIndexBytes: SAFETENSORS_MAX_HEADER_BYTES,
    }).finally(() => this.lock?.release());
    this.removedFiles = removed.map((name) => this.target.store.locate(`${this.target.folderKey}${name}`));
    this.done = true;
  }

  /** Throws away every shard not yet published. */
  async abort(): Promise<void> {
    try {
      await Promise.all(this.writers.map((writer) => writer.abort()));
    } finally {
      await this.lock?.release();
    }
  }
}

/**
 * Takes the writer lock of one prefix in a local folder (created if missing); other
 * stores have no lock primitive yet, and their writers are not serialized.
 */
async function lockShardSet(store: Store, folderKey: string, prefix: string): Promise<WriterLock | undefined> {
  if (!isFolderStore(store)) return undefined;
  await store.makeFolder(folderKey.replace(/\/$/, ''));
  const where = store.locate(`${folderKey}${prefix}.safetensors`);
  return acquireWriterLock(store, `${folderKey}.${prefix}.safetensors.writer-lock`, {
    format: 'safetensors',
    held: `safetensors: ${where} (sharded) is being written by another process`,
    advice: 'wait for it to finish, or write to another folder or prefix',
  });
}

/**
 * Opens a sharded writer: `target` is a folder (files `model-…`), a base path
 * (`out/model.safetensors`) or an index path (`out/model.safetensors.index.json`).
 *
 * @example
 * ```ts
 * const writer = await safetensorsShardedWriter('ckpt', { tensors: plan, maxShardBytes: 2e9 });
 * for (const name of writer.order) await writer.add(name, await reader.read(name).then((t) => t.data));
 * await writer.close();
 * ```
 */
export function safetensorsShardedWriter(target: string | StoreKey, options: SafetensorsShardedWriterOptions): Promise<SafetensorsShardedWriter> {
  return SafetensorsShardedWriter.create(target, options);
}

/**
 * Writes tensors in memory as a sharded checkpoint; returns the files written.
 *
 * @example
 * ```ts
 * const { files } = await safetensorsWriteSharded('ckpt', tensors, { maxShardBytes: 1 << 20, metadata: { format: 'pt' } });
 * ```
 */
export async function safetensorsWriteSharded(target: string | StoreKey, tensors: SafetensorsTensors, options: Omit<SafetensorsShardedWriterOptions, 'tensors'> = {}): Promise<{ files: readonly string[]; indexPath?: string }> {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, import('../../core/tensor.js').Tensor>);
  const writer = await safetensorsShardedWriter(target, { ...options, tensors: list.map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })) });
  const byName = new Map(list);
  try {
    for (const name of writer.order) await writer.add(name, byName.get(name)!.data);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { files: writer.files, ...(writer.indexPath ? { indexPath: writer.indexPath } : {}) };
}
