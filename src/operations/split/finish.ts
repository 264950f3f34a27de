/**
 * Finishing a split conversion: once every part has written its shard and manifest,
 * check them all and write the index, the commit point that makes the output a
 * checkpoint. Checks, each failure a `TensioError` naming the part:
 *
 * - every part 1…N has a manifest (`INCOMPLETE` names the missing ones), all from
 *   runs with the same number of parts and the same plan (`INVALID_STATE`);
 * - each manifest parses and says what its file name says (`INVALID_JSON`,
 *   `INVALID_METADATA`, `UNSUPPORTED_VERSION`);
 * - each shard exists (`NOT_FOUND`) with the recorded size (`SIZE_MISMATCH`), holds
 *   exactly the recorded tensors (`INVALID_METADATA`, from its header) and, unless
 *   `checksums: false`, the recorded checksum (`CHECKSUM_MISMATCH`);
 * - no tensor is in two parts (`DUPLICATE_NAME`) and together they hold the whole
 *   plan (`INCOMPLETE`).
 *
 * Then the index is written atomically, and shard-named files of the same prefix it
 * does not name (an older run's shards) and the one-file form `<prefix><ext>` are
 * removed, as a sharded publish does. Finishing again rewrites the same index.
 */
import type { S3Options } from '../../storage/s3-client.js';
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { SPLIT_MAX_MANIFEST_BYTES, SPLIT_MAX_PARTS } from '../../core/limits.js';
import { quoteInput } from '../../core/quote.js';
import type { Progress, TensorFormat } from '../../model/types.js';
import type { Store } from '../../storage/store.js';
import type { WriteTarget } from '../../storage/write-target.js';
import { bindS3Target, describeWriteTarget } from '../../storage/write-target.js';
import { formatShardIndex } from '../../formats/sharded/index-file.js';
import { isHiddenFileName, parseShardFileName } from '../../formats/sharded/names.js';
import { BUILT_IN_FORMATS, getFormat, type FormatListOption } from '../registry.js';
import { parseSplitManifest, parseSplitManifestName, splitManifestFolder, splitManifestName, type SplitPartManifest } from './manifest.js';
import { resolveSplitTarget, splitFormatNames, type SplitTarget } from './target.js';
import { splitChecksumOf } from './checksum.js';

/** Options for {@link finishSplitConvert}. */
export interface FinishSplitConvertOptions extends FormatListOption {
  /** Output format, when the output's name does not say (a folder). */
  to?: string;
  /** Re-read every shard and compare its checksum (XXH3-64 or SHA-256) with its manifest (default true); false checks sizes and headers only. */
  checksums?: boolean;
  /** Largest manifest read (default {@link SPLIT_MAX_MANIFEST_BYTES}). */
  maxManifestBytes?: number;
  /** Most parts accepted (default {@link SPLIT_MAX_PARTS}). */
  maxParts?: number;
  signal?: AbortSignal;
  /** For an `s3://` output: endpoint, region, profile, credentials, part size, … (over `setS3Defaults`). */
  s3?: S3Options;
  /** Bytes checked so far, of all shards. */
  onProgress?: (progress: Progress) => void;
}

/** What {@link finishSplitConvert} did. */
export interface FinishSplitConvertResult {
  outputFormat: string;
  /** The index written. */
  index: string;
  parts: number;
  /** The shards the index names, in part order. */
  shards: string[];
  tensors: number;
  /** The index's `total_size`: bytes of tensor data. */
  bytes: number;
  /** Bytes of shard files checked. */
  shardBytes: number;
  /** Shards whose checksum was recomputed and matched. */
  checksumsVerified: number;
  /** Files removed after the index was written (shards of an older run, the one-file form). */
  removedFiles: string[];
}

/** The format of a split output: `to`, else the format whose shard index name `output` ends with. */
function splitOutputFormat(output: WriteTarget, options: FinishSplitConvertOptions): TensorFormat {
  const formats = options.formats ?? BUILT_IN_FORMATS;
  if (options.to) return getFormat(options.to, formats);
  const name = (describeWriteTarget(output) ?? '').toLowerCase();
  const found = formats.find((format) => format.shardedOutput && name.endsWith(`${format.shardedOutput.extension}.index.json`));
  if (found) return found;
  throw new TensioError('INVALID_ARGUMENT', `cannot tell the format of ${describeWriteTarget(output) ?? 'the output'}: name its index (e.g. out/model.safetensors.index.json) or pass the format (to / --to: ${splitFormatNames(formats).join(', ')})`);
}

/** Reads one manifest, capped. */
async function readManifest(target: SplitTarget, key: string, part: number, count: number, maxBytes: number, signal?: AbortSignal): Promise<SplitPartManifest> {
  const { store } = target;
  const where = store.locate(key);
  const source = await store.open(key, signal ? { signal } : {});
  let bytes: Uint8Array;
  try {
    if (source.size > maxBytes) throw new TensioError('LIMIT_EXCEEDED', `split: the manifest of part ${part}/${count} (${where}) has ${source.size} bytes, over the limit ${maxBytes} (maxManifestBytes)`, { path: where });
    bytes = await source.read(0, source.size, signal ? { signal } : {});
  } finally {
    await source.close?.();
  }
  return parseSplitManifest(bytes, { where, part, count, prefix: target.prefix, extension: target.extension });
}

/** Checks one shard against its manifest record: size, tensors (header), SHA-256. Returns whether the checksum was compared. */
async function checkShard(target: SplitTarget, format: TensorFormat, manifest: SplitPartManifest, record: SplitPartManifest['shards'][number], checksums: boolean, onBytes: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  const { store, folderKey } = target;
  const key = `${folderKey}${record.file}`;
  const where = store.locate(key);
  const label = `part ${manifest.part}/${manifest.parts}`;
  const readOptions = signal ? { signal } : {};
  if (!(await store.has(key, readOptions))) {
    throw new TensioError('NOT_FOUND', `split: shard ${record.file} of ${label} does not exist (${where}), though the part's manifest lists it; run part ${manifest.part}/${manifest.parts} again`, { path: where });
  }
  const source = await store.open(key, readOptions);
  try {
    if (source.size !== record.size) {
      throw new TensioError('SIZE_MISMATCH', `split: shard ${record.file} of ${label} has ${source.size} bytes, its manifest says ${record.size}; it was changed after the part finished: run part ${manifest.part}/${manifest.parts} again`, { path: where });
    }
    // The header: the shard must hold exactly the tensors the manifest lists (the index is built from the lists).
    const reader = await format.open!(source, signal ? { signal } : {});
    try {
      const held = new Set(reader.tensors.map((info) => info.name));
      const listed = new Set(record.tensors);
      const extra = [...held].find((name) => !listed.has(name));
      const missing = [...listed].find((name) => !held.has(name));
      if (extra !== undefined || missing !== undefined || held.size !== record.tensors.length) {
        const what = missing !== undefined ? `lists tensor ${quoteInput(missing)}, which the shard does not hold` : extra !== undefined ? `does not list tensor ${quoteInput(extra)}, which the shard holds` : 'lists a tensor twice';
        throw new TensioError('INVALID_METADATA', `split: the manifest of ${label} ${what} (${where}); run part ${manifest.part}/${manifest.parts} again`, { path: where });
      }
    } finally {
      await reader.close();
    }
    if (!checksums) {
      onBytes(source.size);
      return;
    }
    const actual = await splitChecksumOf(source, record.checksum, { ...(signal ? { signal } : {}), onBytes });
    if (actual !== record.checksum) {
      throw new TensioError('CHECKSUM_MISMATCH', `split: shard ${record.file} of ${label} has checksum ${actual}, its manifest says ${record.checksum}; it was changed after the part finished: run part ${manifest.part}/${manifest.parts} again`, { path: where });
    }
  } finally {
    await source.close?.();
  }
}

/** Lists the part manifests: part → key, for the one part count present (refusing a mix). */
async function findManifests(target: SplitTarget, maxParts: number, signal?: AbortSignal): Promise<{ count: number; keys: Map<number, string> }> {
  const { store, folderKey, prefix, extension } = target;
  const folder = splitManifestFolder(folderKey, prefix, extension);
  const output = store.locate(target.indexKey);
  const byCount = new Map<number, Map<number, string>>();
  for (const key of await store.list(folder, { recursive: false, ...(signal ? { signal } : {}) })) {
    const named = parseSplitManifestName(key.slice(folder.length));
    if (!named) continue;
    if (named.count < 1 || named.count > maxParts || named.part < 1 || named.part > named.count) {
      throw new TensioError('INVALID_NAME', `split: ${store.locate(key)} is not a manifest of a part 1 to N of N parts (at most ${maxParts}, maxParts); remove it`, { path: store.locate(key) });
    }
    if (!byCount.has(named.count)) byCount.set(named.count, new Map());
    byCount.get(named.count)!.set(named.part, key);
  }
  if (byCount.size === 0) {
    throw new TensioError('INCOMPLETE', `split: no part of a split conversion to ${output} has finished (no manifests in ${store.locate(folder.slice(0, -1))}); run 'tensio convert IN OUT --part I/N' for every I first`, { path: output });
  }
  if (byCount.size > 1) {
    const runs = [...byCount].sort(([a], [b]) => a - b).map(([count, parts]) => `of ${count} parts: ${[...parts.keys()].sort((a, b) => a - b).slice(0, 10).join(', ')}${parts.size > 10 ? ', …' : ''}`);
    throw new TensioError('INVALID_STATE', `split: ${output} has parts of runs with different part counts (${runs.join('; ')}); run every part with the same N (a part run with --force removes the manifests of other counts)`, { path: output });
  }
  const [count, keys] = [...byCount][0]!;
  const missing: number[] = [];
  for (let part = 1; part <= count; part++) if (!keys.has(part)) missing.push(part);
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((part) => `${part}/${count}`).join(', ');
    throw new TensioError('INCOMPLETE', `split: part${missing.length === 1 ? '' : 's'} ${shown}${missing.length > 10 ? `, … (${missing.length} in all)` : ''} of ${output} ha${missing.length === 1 ? 's' : 've'} not finished (no ${splitManifestName(missing[0]!, count)}); run ${missing.length === 1 ? 'it' : 'them'} (again), then finish`, { path: output });
  }
  return { count, keys };
}

/**
 * Checks every part of a split conversion to `output` and writes its index (see the
 * top of this file). `output` is what the parts were given: the index path
 * (`out/model.safetensors.index.json`), a folder with `to`, or `{ store, key }`.
 *
 * @example
 * ```ts
 * // on 4 machines (or processes): await convert('big.pt', 'out/model.safetensors.index.json', { part: { index: i, count: 4 } });
 * const result = await finishSplitConvert('out/model.safetensors.index.json');
 * console.log(result.index, result.shards.length); // out/model.safetensors.index.json 4
 * ```
 */
export async function finishSplitConvert(given: WriteTarget, options: FinishSplitConvertOptions = {}): Promise<FinishSplitConvertResult> {
  const output = bindS3Target(given, options.s3);
  const formats = options.formats ?? BUILT_IN_FORMATS;
  const format = splitOutputFormat(output, options);
  const target = resolveSplitTarget(output, format, formats);
  const { store, folderKey, prefix, extension, indexKey } = target;
  if (!store.canList || !store.canWrite) {
    throw new TensioError('UNSUPPORTED_FEATURE', `split: finishing lists the part manifests and writes the index, which ${store.name} cannot (it must be able to list and write)`, { path: store.name });
  }
  if (!format.open) throw new TensioError('UNSUPPORTED_FEATURE', `split: tensio cannot read ${format.name} shards to check them`, { format: format.name });
  const { signal } = options;
  const { count, keys } = await findManifests(target, options.maxParts ?? SPLIT_MAX_PARTS, signal);
  const manifests: SplitPartManifest[] = [];
  for (let part = 1; part <= count; part++) {
    throwIfAborted(signal);
    manifests.push(await readManifest(target, keys.get(part)!, part, count, options.maxManifestBytes ?? SPLIT_MAX_MANIFEST_BYTES, signal));
  }
  const first = manifests[0]!;
  for (const manifest of manifests) {
    if (manifest.plan !== first.plan || manifest.planTensors !== first.planTensors || manifest.planBytes !== first.planBytes) {
      throw new TensioError('INVALID_STATE', `split: part ${manifest.part}/${count} was converted with another plan than part 1/${count} (a different input, tensor selection, dtype or metadata option); run every part with the same input and options (part ${manifest.part} again, or all)`, { path: store.locate(keys.get(manifest.part)!) });
    }
  }
  // The weight map, refusing a tensor in two parts, and the sizes it adds up to.
  const weightMap: Record<string, string> = {};
  const partOf = new Map<string, number>();
  let tensorBytes = 0;
  let shardBytes = 0;
  for (const manifest of manifests) {
    tensorBytes += manifest.tensorBytes;
    for (const shard of manifest.shards) {
      shardBytes += shard.size;
      for (const name of shard.tensors) {
        const earlier = partOf.get(name);
        if (earlier !== undefined) {
          throw new TensioError('DUPLICATE_NAME', `split: tensor ${quoteInput(name)} is in part ${earlier}/${count} and part ${manifest.part}/${count}; run part ${manifest.part}/${count} again`, { path: store.locate(keys.get(manifest.part)!) });
        }
        partOf.set(name, manifest.part);
        Object.defineProperty(weightMap, name, { value: shard.file, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  // Every shard, against its manifest.
  const checksums = options.checksums !== false;
  let checked = 0;
  let checksumsVerified = 0;
  const shards: string[] = [];
  for (const manifest of manifests) {
    for (const record of manifest.shards) {
      throwIfAborted(signal);
      await checkShard(target, format, manifest, record, checksums, (bytes) => {
        checked += bytes;
        options.onProgress?.({ done: checked, total: shardBytes, item: record.file });
      }, signal);
      if (checksums) checksumsVerified++;
      shards.push(record.file);
    }
  }
  // Last, so that a part whose manifest disagrees with its shard is named above.
  if (partOf.size !== first.planTensors || tensorBytes !== first.planBytes) {
    throw new TensioError('INCOMPLETE', `split: the ${count} parts hold ${partOf.size} tensors (${tensorBytes} bytes), the plan has ${first.planTensors} (${first.planBytes} bytes); run the parts again`, { path: store.locate(indexKey) });
  }
  // The commit point.
  await store.write(indexKey, new TextEncoder().encode(formatShardIndex({ ...first.indexMetadata, total_size: first.planBytes }, weightMap)));
  const removedFiles = await removeStaleFiles(store, folderKey, prefix, extension, new Set(shards), signal);
  return {
    outputFormat: format.name,
    index: store.locate(indexKey),
    parts: count,
    shards: shards.map((file) => store.locate(`${folderKey}${file}`)),
    tensors: partOf.size,
    bytes: first.planBytes,
    shardBytes,
    checksumsVerified,
    removedFiles,
  };
}

/** After the commit: shard-named files of the prefix the index does not name, and the one-file form. */
async function removeStaleFiles(store: Store, folderKey: string, prefix: string, extension: string, named: ReadonlySet<string>, signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  const keys = await store.list(folderKey, { recursive: false, ...(signal ? { signal } : {}) }).catch(() => [] as string[]);
  for (const key of keys) {
    if (key.endsWith('/')) continue;
    const name = key.slice(folderKey.length);
    if (isHiddenFileName(name) || named.has(name)) continue;
    const stale = parseShardFileName(name, extension)?.prefix === prefix || name === `${prefix}${extension}`;
    if (stale && (await store.delete(key).then(() => true, () => false))) removed.push(store.locate(key));
  }
  return removed;
}

/**
 * Finishes when every part 1…`count` has its manifest (so the last part to end can
 * write the index without a separate `--finish` step); undefined when some part has
 * not finished yet. Each part calls it after writing its own manifest, so the last
 * one to write sees them all, on any store whose listing shows a completed write (a
 * local folder, S3); parts ending together may both finish, writing the same index.
 *
 * @example
 * ```ts
 * const finished = await finishSplitConvertIfComplete('out/model.safetensors.index.json', 4); // undefined until the last part
 * ```
 */
export async function finishSplitConvertIfComplete(given: WriteTarget, count: number, options: FinishSplitConvertOptions = {}): Promise<FinishSplitConvertResult | undefined> {
  const output = bindS3Target(given, options.s3);
  const formats = options.formats ?? BUILT_IN_FORMATS;
  const target = resolveSplitTarget(output, splitOutputFormat(output, options), formats);
  const folder = splitManifestFolder(target.folderKey, target.prefix, target.extension);
  const done = new Set<number>();
  for (const key of await target.store.list(folder, { recursive: false, ...(options.signal ? { signal: options.signal } : {}) })) {
    const named = parseSplitManifestName(key.slice(folder.length));
    if (named?.count === count) done.add(named.part);
  }
  for (let part = 1; part <= count; part++) if (!done.has(part)) return undefined;
  return finishSplitConvert(output, options);
}
