/**
 * Sharded `.zt` output (§7): tensor blobs go to data shards named positionally beside
 * the root (`model.zt` + shard `00001` → `model-00001.zt`), each a container whose footer
 * says "no manifest", filled up to `maxShardBytes` (a larger tensor gets a shard of its
 * own); the root holds only the manifest, whose shard table gives each shard's exact size
 * and whole-file XXH3-64. Shards are published first, the root last (the commit point):
 * a crash before the root leaves the previous root naming the previous shards.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { tensorByteLength } from '../../core/sizes.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import type { Metadata, TensorInfo, TensorSpec, TensorWriter } from '../../model/types.js';
import { atomicFileSink } from '../../storage/atomic-file-sink.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { siblingLocation } from '../../storage/source-input.js';
import { cborEncodeCanonical } from './cbor.js';
import { ztHasher, type ZtDigestAlgorithm } from './digest.js';
import { ztCannotWrite, ztStorageOf } from './dtypes.js';
import { ztShardFileName } from './reader.js';
import { ZT_ALIGN_FLOOR, ZT_FOOTER_BYTES, ZT_MAGIC, ztCompareNames } from './types.js';
import { ztAttributesFrom, ztFooterBytes, ztFooterFields, ztObjectAttributes } from './write.js';

/** Options of {@link ztCreateShardedWriter}. */
export interface ZtShardedWriteOptions {
  tensors: readonly TensorSpec[];
  metadata?: Metadata;
  overwrite?: boolean;
  /** Most bytes per data shard (a larger tensor gets a shard of its own). */
  maxShardBytes: number;
  /** Blob alignment inside shards, default 4096. */
  align?: number;
  /** Digest on every part (default xxh3). */
  digest?: ZtDigestAlgorithm | 'none';
  /** A conversion's input: from `.zt`, object attributes are carried over (see `ztObjectAttributes`). */
  sourceFormat?: string;
  sourceTensors?: readonly TensorInfo[];
}

/**
 * A writer of a sharded `.zt`: `root` is the root file's path.
 *
 * @example
 * ```ts
 * const writer = await ztCreateShardedWriter('model.zt', { tensors: plan, maxShardBytes: 2 ** 30 });
 * ```
 */
export async function ztCreateShardedWriter(root: string, options: ZtShardedWriteOptions): Promise<TensorWriter> {
  const align = options.align ?? ZT_ALIGN_FLOOR;
  const digest = options.digest ?? 'xxh3';
  if (!Number.isSafeInteger(options.maxShardBytes) || options.maxShardBytes < 1) throw new TensioError('INVALID_ARGUMENT', `zt: maxShardBytes must be a positive integer, got ${options.maxShardBytes}`, { format: 'zt' });
  const planned = options.tensors.map((spec) => {
    const why = ztCannotWrite(spec) ?? (spec.parts ? 'a sharded .zt holds dense tensors only (write sparse tensors to one file)' : undefined);
    if (why) throw new TensioError('UNSUPPORTED_DTYPE', `zt: cannot hold ${JSON.stringify(spec.name)}: ${why}`, { format: 'zt' });
    return { spec, name: spec.name.normalize('NFC'), byteLength: tensorByteLength(spec.dtype, spec.shape, 'zt') ?? 0 };
  }).sort((a, b) => ztCompareNames(a.name, b.name));
  const attributes = options.metadata ? ztAttributesFrom(options.metadata) : undefined;
  const objectAttributes = ztObjectAttributes(options);
  const objects = new Map<string, unknown>();
  const shards = new Map<string, { size: number; digest: string }>();
  const published: ByteSink[] = [];
  let current: { name: string; sink: ByteSink; hasher: ReturnType<typeof ztHasher>; blobs: number } | undefined;
  const zeros = new Uint8Array(align);

  async function put(bytes: Uint8Array): Promise<void> {
    current!.hasher.update(bytes);
    await current!.sink.write(bytes);
  }
  async function finishShard(): Promise<void> {
    if (!current) return;
    await put(ztFooterFields(0, 0, 0n)); // a data shard: no manifest
    await current.sink.close();
    published.push(current.sink);
    shards.set(current.name, { size: current.sink.position, digest: current.hasher.digest() });
    current = undefined;
  }
  async function startShard(): Promise<void> {
    const name = String(shards.size + 1).padStart(5, '0');
    const sink = await atomicFileSink(siblingLocation(root, ztShardFileName(root, name)), { noOverwrite: options.overwrite === false });
    current = { name, sink, hasher: ztHasher('xxh3'), blobs: 0 };
    await put(ZT_MAGIC);
  }

  async function writeTensor(spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    const object = planned.find((candidate) => candidate.spec === spec)!;
    const padded = (position: number) => Math.ceil(position / align) * align;
    if (!current || (current.blobs > 0 && padded(current.sink.position) + object.byteLength + ZT_FOOTER_BYTES > options.maxShardBytes)) {
      await finishShard();
      await startShard();
    }
    const shard = current!;
    while (shard.sink.position < padded(shard.sink.position)) await put(zeros.subarray(0, padded(shard.sink.position) - shard.sink.position));
    const offset = shard.sink.position;
    const hasher = digest === 'none' ? undefined : ztHasher(digest);
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      hasher?.update(chunk);
      await put(chunk);
    }
    shard.blobs++;
    const storage = ztStorageOf(spec.dtype)!;
    const length = shard.sink.position - offset;
    const objectAttributesOut = storage.attributes ?? objectAttributes(spec.name, undefined);
    objects.set(object.name, {
      shape: spec.shape,
      layout: storage.layout ?? 'dense',
      ...(objectAttributesOut !== undefined ? { attributes: objectAttributesOut } : {}),
      parts: { data: { dtype: storage.dtype, ...(storage.type !== undefined ? { type: storage.type } : {}), blob: [length === 0 ? padded(Math.max(offset, align)) : offset, length], shard: shard.name, ...(hasher ? { digest: hasher.digest() } : {}) } },
    });
  }

  async function publish(): Promise<void> {
    await finishShard();
    const manifest = cborEncodeCanonical({ objects, shards, ...(attributes ? { attributes } : {}) });
    const sink = await atomicFileSink(root, { noOverwrite: options.overwrite === false });
    try {
      await sink.write(ZT_MAGIC);
      await sink.write(new Uint8Array(ZT_ALIGN_FLOOR - ZT_MAGIC.length));
      await sink.write(manifest);
      await sink.write(ztFooterBytes(ZT_ALIGN_FLOOR, manifest));
      await sink.close();
    } catch (error) {
      await sink.abort();
      throw error;
    }
  }

  return createPlannedWriter({
    format: 'zt',
    order: planned.map((object) => object.spec),
    writeTensor,
    publish,
    async discard() {
      await current?.sink.abort();
      current = undefined;
    },
    outputs: () => ({ files: [...shards.keys()].map((name) => siblingLocation(root, ztShardFileName(root, name))).concat(root) }),
  });
}
