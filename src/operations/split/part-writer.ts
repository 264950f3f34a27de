/**
 * The writer of one part of a split conversion (`convert(…, { part: { index, count } })`):
 * a {@link TensorWriter} whose `order` holds only this part's tensors, written as ONE
 * shard with the output format's own single-file writer, under the name huggingface_hub
 * gives shard I of N (`model-00002-of-00004.safetensors`). After the shard is published
 * (atomically, by its store) the part's manifest is written (atomically): its shard,
 * size, checksum and tensors. The manifest is the part's "done" mark; a part that is
 * run again first removes its manifest, then replaces its own shard, then writes its
 * manifest again, so at no moment does a manifest describe a shard it did not check.
 *
 * Nothing here writes the index: the output is not a checkpoint until
 * `finishSplitConvert` has checked every part and written it.
 */
import { TensioError } from '../../core/errors.js';
import { SPLIT_MAX_PARTS } from '../../core/limits.js';
import { tensorByteLength } from '../../core/sizes.js';
import type { Metadata, TensorBytes, TensorFormat, TensorInfo, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { hashingSink } from '../../storage/hashing-sink.js';
import type { Store } from '../../storage/store.js';
import type { WriteTarget } from '../../storage/write-target.js';
import { assignSplitParts, checkSplitPart, splitPlanId, type SplitPart } from './plan.js';
import { formatSplitManifest, parseSplitManifestName, splitManifestFolder, splitManifestName, splitShardName, type SplitShardRecord } from './manifest.js';
import { resolveSplitTarget } from './target.js';
import { splitChecksum, splitChecksumOf, type SplitChecksumAlgorithm } from './checksum.js';
import { crashPoint } from '../../storage/crash-point.js';

/** The step label of the crash-test hook (`TENSIO_TEST_CRASH_AFTER=split-part:1`: killed after the shard, before the manifest). */
export const SPLIT_PART_OPERATION = 'split-part';

/** What {@link createSplitPartWriter} needs: the whole conversion's plan and this part. */
export interface SplitPartWriterOptions extends Omit<WriterOptions, 'tensors' | 'metadata'> {
  /** Every tensor of the conversion, in plan order (all parts). */
  readonly tensors: readonly TensorSpec[];
  /** Source infos in the same order (for the writer, and the size of tensors whose spec has none). */
  readonly sourceTensors: readonly TensorInfo[];
  readonly metadata: Metadata;
  readonly part: SplitPart & { checksum?: SplitChecksumAlgorithm };
  /** Formats to name in refusals. */
  readonly formats: readonly TensorFormat[];
  /** Most parts accepted (default {@link SPLIT_MAX_PARTS}). */
  readonly maxParts?: number;
}

/** A part's writer: a {@link TensorWriter} plus what it wrote. */
export interface SplitPartWriter extends TensorWriter {
  /** The shard (when the part got tensors), then the manifest; set by `close()`. */
  readonly files: readonly string[];
  /** This part's share: tensors and output bytes. */
  readonly partTensors: number;
  readonly partBytes: number;
}

/** Output bytes of a planned tensor: its dtype × shape, or the source's size when that has no fixed size (parts of a sparse tensor). */
function plannedBytes(spec: TensorSpec, source: TensorInfo | undefined): number {
  return tensorByteLength(spec.dtype, spec.shape) ?? source?.byteLength ?? 0;
}

/**
 * Index metadata a part records: for safetensors, the user metadata as the sharded
 * writer puts it in its index (strings, without per-tensor `crc32:` entries); none
 * for other formats (transformers' `.bin` indexes carry only `total_size`).
 */
function indexMetadataOf(format: TensorFormat, metadata: Metadata): Record<string, string> {
  if (format.name !== 'safetensors') return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith('crc32:')) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? String(value);
    Object.defineProperty(out, key, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Checksum and size of a published key, read back through its store. */
async function hashStoredKey(store: Store, key: string, algorithm: SplitChecksumAlgorithm, signal?: AbortSignal): Promise<{ checksum: string; size: number }> {
  const source = await store.open(key, signal ? { signal } : {});
  try {
    return { checksum: await splitChecksumOf(source, `${algorithm}:`, signal ? { signal } : {}), size: source.size };
  } finally {
    await source.close?.();
  }
}

/**
 * Opens the writer of `options.part` of a conversion to `output` in `format`. Before
 * anything is written: an output that is already a checkpoint (its index, or its
 * one-file form) is refused with `ALREADY_EXISTS` unless `overwrite`; with it, the
 * index is removed first (the old model stops being visible as complete before any
 * of its shards is replaced), and so are manifests of runs with another part count.
 *
 * @example
 * ```ts
 * const writer = await createSplitPartWriter('out/model.safetensors.index.json', safetensorsFormat, { tensors: plan, sourceTensors, metadata: {}, part: { index: 1, count: 4 }, formats: BUILT_IN_FORMATS });
 * ```
 */
export async function createSplitPartWriter(output: WriteTarget, format: TensorFormat, options: SplitPartWriterOptions): Promise<SplitPartWriter> {
  const { part, tensors: plan } = options;
  checkSplitPart(part, options.maxParts ?? SPLIT_MAX_PARTS);
  const checksumAlgorithm = part.checksum ?? 'xxh3';
  splitChecksum(checksumAlgorithm); // refuses an unknown algorithm before anything is written or removed
  const target = resolveSplitTarget(output, format, options.formats);
  const { store, folderKey, prefix, extension, indexKey } = target;
  if (!store.canWrite) throw new TensioError('UNSUPPORTED_FEATURE', `${store.name} is a read-only store; a split conversion cannot write there`, { format: format.name });
  if (options.formatOptions && 'maxShardBytes' in options.formatOptions) {
    throw new TensioError('INVALID_ARGUMENT', `${format.name}: a split conversion writes one shard per part (choose the number of parts for the shard size); maxShardBytes / --max-shard-size does not apply`, { format: format.name });
  }
  const sizes = plan.map((spec, at) => plannedBytes(spec, options.sourceTensors[at]));
  const assigned = assignSplitParts(plan.map((spec, at) => ({ name: spec.name, bytes: sizes[at]! })), part.count);
  const mine = plan.filter((_, at) => assigned[at] === part.index - 1);
  const mySources = options.sourceTensors.filter((_, at) => assigned[at] === part.index - 1);
  const planBytes = sizes.reduce((sum, size) => sum + size, 0);
  const partBytes = sizes.reduce((sum, size, at) => (assigned[at] === part.index - 1 ? sum + size : sum), 0);
  const indexMetadata = indexMetadataOf(format, options.metadata);
  const plan_ = splitPlanId({ specs: plan, metadata: indexMetadata, count: part.count, prefix, extension });

  // An existing checkpoint: refused, or (overwrite) made invisible before anything of it is replaced.
  const manifestFolder = splitManifestFolder(folderKey, prefix, extension);
  for (const key of [indexKey, `${folderKey}${prefix}${extension}`]) {
    if (!(await store.has(key))) continue;
    if (!options.overwrite) throw new TensioError('ALREADY_EXISTS', `${store.locate(key)} already exists (use --force / overwrite to replace it with the split conversion's output)`, { path: store.locate(key) });
    if (key === indexKey) await store.delete(indexKey);
  }
  if (options.overwrite && store.canList) {
    for (const key of await store.list(manifestFolder, { recursive: false })) {
      const named = parseSplitManifestName(key.slice(manifestFolder.length));
      if (named && named.count !== part.count) await store.delete(key);
    }
  }
  const manifestKey = `${manifestFolder}${splitManifestName(part.index, part.count)}`;
  await store.delete(manifestKey); // this part is not done until its manifest is back

  const shardName = splitShardName(prefix, extension, part.index, part.count);
  const shardKey = `${folderKey}${shardName}`;
  let sink: ReturnType<typeof hashingSink> | undefined;
  let inner: TensorWriter | undefined;
  if (mine.length > 0) {
    sink = hashingSink(await store.sink(shardKey), splitChecksum(checksumAlgorithm));
    try {
      inner = await format.createWriter!(sink, {
        tensors: mine,
        metadata: options.metadata,
        overwrite: true,
        ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}),
        ...(options.staging ? { staging: options.staging } : {}),
        ...(options.sourceFormat ? { sourceFormat: options.sourceFormat } : {}),
        sourceTensors: mySources,
      });
    } catch (error) {
      await sink.abort();
      throw error;
    }
  }

  const files: string[] = [];
  let closed = false;
  const writer: SplitPartWriter = {
    format: format.name,
    order: inner?.order ?? [],
    files,
    partTensors: mine.length,
    partBytes,
    async add(name: string, data: TensorBytes, addOptions?: { signal?: AbortSignal }) {
      if (!inner) throw new TensioError('NOT_FOUND', `split: tensor ${name} is not in part ${part.index} of ${part.count}`);
      await inner.add(name, data, addOptions);
    },
    async close() {
      if (closed) return;
      const shards: SplitShardRecord[] = [];
      if (inner && sink) {
        await inner.close();
        // A writer that patched bytes (CRC32s in a header) leaves no valid running hash: read the shard back.
        const digest = sink.digest() ?? (await hashStoredKey(store, shardKey, checksumAlgorithm));
        shards.push({ file: shardName, size: digest.size, checksum: digest.checksum, tensors: inner.order.length === mine.length ? mine.map((spec) => spec.name) : [...inner.order] });
        files.push(store.locate(shardKey));
        crashPoint(SPLIT_PART_OPERATION, 1); // tests: a part killed between its shard and its manifest
      }
      const manifest = formatSplitManifest({ part: part.index, parts: part.count, plan: plan_, planTensors: plan.length, planBytes, tensorBytes: partBytes, indexMetadata, shards });
      await store.write(manifestKey, new TextEncoder().encode(manifest));
      files.push(store.locate(manifestKey));
      closed = true;
    },
    async abort() {
      await inner?.abort();
    },
  };
  return writer;
}
