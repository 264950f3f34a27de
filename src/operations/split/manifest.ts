/**
 * The manifest a part of a split conversion writes after its shards: which shards it
 * wrote (file name, size, checksum, the tensors each holds) and the plan it belongs to.
 * `finishSplitConvert` trusts nothing in it: it is parsed strictly (duplicate keys,
 * sizes and names checked, names must be the ones the part's number implies) and
 * every shard is checked against it before an index is written.
 *
 * Manifests live beside the output in a hidden folder, `.<prefix><ext>.parts/`
 * (`.model.safetensors.parts/part-00002-of-00004.json`), which folder scans skip.
 */
import { TensioError } from '../../core/errors.js';
import { quoteInput } from '../../core/quote.js';
import { isJsonObject, JsonNumberLiteral, parseStrictJson, type JsonObject, type JsonValue } from '../../formats/safetensors/strict-json.js';
import { shardFileName } from '../../formats/sharded/names.js';
import { SPLIT_CHECKSUM_PATTERN } from './checksum.js';

/** The manifest version this code writes and reads. */
export const SPLIT_MANIFEST_VERSION = 1;

/** One shard a part wrote. */
export interface SplitShardRecord {
  /** File name in the output folder (`model-00002-of-00004.safetensors`). */
  readonly file: string;
  /** Size in bytes. */
  readonly size: number;
  /** Checksum of the whole file: `xxh3:<16 hex>` or `sha256:<64 hex>` (see `checksum.ts`). */
  readonly checksum: string;
  /** Output names of the tensors it holds, in plan order. */
  readonly tensors: readonly string[];
}

/** A part manifest. */
export interface SplitPartManifest {
  readonly part: number;
  readonly parts: number;
  /** {@link splitPlanId} of the whole conversion. */
  readonly plan: string;
  /** Tensors and output bytes of the whole plan (every part). */
  readonly planTensors: number;
  readonly planBytes: number;
  /** Output bytes of this part's tensors (the index's `total_size` is their sum over parts). */
  readonly tensorBytes: number;
  /** Metadata the index carries besides `total_size` (the same in every part). */
  readonly indexMetadata: Readonly<Record<string, string>>;
  readonly shards: readonly SplitShardRecord[];
}

/**
 * The hidden folder key holding the manifests of `<prefix><extension>` in `folderKey`.
 *
 * @example
 * ```ts
 * splitManifestFolder('', 'model', '.safetensors'); // '.model.safetensors.parts/'
 * ```
 */
export function splitManifestFolder(folderKey: string, prefix: string, extension: string): string {
  return `${folderKey}.${prefix}${extension}.parts/`;
}

/** Digits of part and shard numbers: 5 as huggingface_hub, more past 99,999 parts. */
export function splitNameWidth(count: number): number {
  return Math.max(5, String(count).length);
}

/**
 * The manifest's file name: `part-00002-of-00004.json`.
 *
 * @example
 * ```ts
 * splitManifestName(2, 4); // 'part-00002-of-00004.json'
 * ```
 */
export function splitManifestName(part: number, count: number): string {
  const width = splitNameWidth(count);
  return `part-${String(part).padStart(width, '0')}-of-${String(count).padStart(width, '0')}.json`;
}

/** Part and count of a manifest file name; undefined for any other name. */
export function parseSplitManifestName(name: string): { part: number; count: number } | undefined {
  const match = /^part-(\d{5,9})-of-(\d{5,9})\.json$/.exec(name);
  if (!match) return undefined;
  return { part: Number(match[1]), count: Number(match[2]) };
}

/**
 * The shard file part `part` of `count` writes: huggingface_hub's own name for shard
 * `part` of `count` (`model-00002-of-00004.safetensors`), so a finished output is an
 * ordinary sharded checkpoint, and parts can never pick the same name.
 *
 * @example
 * ```ts
 * splitShardName('model', '.safetensors', 2, 4); // 'model-00002-of-00004.safetensors'
 * ```
 */
export function splitShardName(prefix: string, extension: string, part: number, count: number): string {
  return shardFileName(prefix, part - 1, count, extension, splitNameWidth(count));
}

/**
 * The manifest as JSON text (sorted, 2-space indented, final newline).
 *
 * @example
 * ```ts
 * await store.write(key, new TextEncoder().encode(formatSplitManifest(manifest)));
 * ```
 */
export function formatSplitManifest(manifest: SplitPartManifest): string {
  return `${JSON.stringify({
    tensio_split_manifest: SPLIT_MANIFEST_VERSION,
    part: manifest.part,
    parts: manifest.parts,
    plan: manifest.plan,
    plan_tensors: manifest.planTensors,
    plan_bytes: manifest.planBytes,
    tensor_bytes: manifest.tensorBytes,
    index_metadata: manifest.indexMetadata,
    shards: manifest.shards.map((shard) => ({ file: shard.file, size: shard.size, checksum: shard.checksum, tensors: shard.tensors })),
  }, null, 2)}\n`;
}

/** What {@link parseSplitManifest} checks the manifest against. */
export interface SplitManifestExpectation {
  /** The manifest's key, for messages. */
  readonly where: string;
  /** Part and count from its file name: the content must say the same. */
  readonly part: number;
  readonly count: number;
  readonly prefix: string;
  readonly extension: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and checks a manifest's bytes. Every problem is a `TensioError` whose message
 * names the part and the manifest: `INVALID_UTF8`/`INVALID_JSON`/`DUPLICATE_KEY` for
 * bad JSON, `UNSUPPORTED_VERSION`, `INVALID_METADATA` for a field of the wrong type or
 * range, a part number that disagrees with the file name, or a shard name other than
 * the one the part writes.
 *
 * @example
 * ```ts
 * const manifest = parseSplitManifest(bytes, { where: 'out/.model.safetensors.parts/part-00001-of-00002.json', part: 1, count: 2, prefix: 'model', extension: '.safetensors' });
 * ```
 */
export function parseSplitManifest(bytes: Uint8Array, expected: SplitManifestExpectation): SplitPartManifest {
  const label = `part ${expected.part}/${expected.count}`;
  const bad = (what: string, code: 'INVALID_METADATA' | 'INVALID_JSON' | 'UNSUPPORTED_VERSION' = 'INVALID_METADATA'): never => {
    throw new TensioError(code, `split: the manifest of ${label} (${expected.where}) ${what}; run that part again`, { path: expected.where });
  };
  let root: JsonValue;
  try {
    root = parseStrictJson(utf8.decode(bytes));
  } catch (cause) {
    const code = cause instanceof TensioError ? cause.code : 'INVALID_UTF8';
    throw new TensioError(code, `split: the manifest of ${label} (${expected.where}) is not valid JSON (${cause instanceof Error ? cause.message : String(cause)}); run that part again`, { path: expected.where, cause });
  }
  if (!isJsonObject(root)) return bad('is not a JSON object', 'INVALID_JSON');
  const version = root.get('tensio_split_manifest');
  if (version !== SPLIT_MANIFEST_VERSION) return bad(`has version ${quoteValueOf(version)}; this tensio reads version ${SPLIT_MANIFEST_VERSION}`, 'UNSUPPORTED_VERSION');
  const count = (field: string): number => {
    const value = root.get(field);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return bad(`has ${field} ${quoteValueOf(value)}, not a whole number of 0 or more`);
    return value;
  };
  const part = count('part');
  const parts = count('parts');
  if (part !== expected.part || parts !== expected.count) bad(`says it is part ${part} of ${parts}, but its file name says ${expected.part} of ${expected.count}`);
  const plan = root.get('plan');
  if (typeof plan !== 'string' || !/^[0-9a-f]{64}$/.test(plan)) return bad('has no plan fingerprint (64 hex digits)');
  const planTensors = count('plan_tensors');
  const planBytes = count('plan_bytes');
  const tensorBytes = count('tensor_bytes');
  if (tensorBytes > planBytes) bad(`declares ${tensorBytes} tensor bytes, more than the whole plan's ${planBytes}`);
  const metadataValue = root.get('index_metadata');
  if (!isJsonObject(metadataValue)) return bad('has no index_metadata object');
  const indexMetadata: Record<string, string> = {};
  for (const [key, value] of metadataValue) {
    if (typeof value !== 'string') bad(`has index_metadata entry ${quoteInput(key)} that is not a string`);
    Object.defineProperty(indexMetadata, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const shardsValue = root.get('shards');
  if (!Array.isArray(shardsValue)) return bad('has no shards list');
  // A part writes at most one shard (none when it got no tensors).
  if (shardsValue.length > 1) bad(`lists ${shardsValue.length} shards; a part writes at most one`);
  const shards: SplitShardRecord[] = [];
  let listed = 0;
  for (const item of shardsValue) {
    if (!isJsonObject(item)) return bad('has a shard entry that is not an object');
    const shard = shardRecord(item, bad);
    const expectedName = splitShardName(expected.prefix, expected.extension, expected.part, expected.count);
    if (shard.file !== expectedName) bad(`names shard ${quoteInput(shard.file)}; part ${expected.part} of ${expected.count} writes ${expectedName}`);
    listed += shard.tensors.length;
    if (listed > planTensors) bad(`lists more tensors than the whole plan's ${planTensors}`);
    shards.push(shard);
  }
  return { part, parts, plan, planTensors, planBytes, tensorBytes, indexMetadata, shards };
}

function shardRecord(item: JsonObject, bad: (what: string) => never): SplitShardRecord {
  const file = item.get('file');
  if (typeof file !== 'string') return bad('has a shard without a file name');
  const size = item.get('size');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return bad(`has shard ${quoteInput(file)} with size ${quoteValueOf(size)}, not a whole number of bytes`);
  const checksum = item.get('checksum');
  if (typeof checksum !== 'string' || !SPLIT_CHECKSUM_PATTERN.test(checksum)) return bad(`has shard ${quoteInput(file)} without a checksum (xxh3:<16 hex digits> or sha256:<64>)`);
  const tensorsValue = item.get('tensors');
  if (!Array.isArray(tensorsValue)) return bad(`has shard ${quoteInput(file)} without a tensors list`);
  const tensors: string[] = [];
  for (const name of tensorsValue) {
    if (typeof name !== 'string') return bad(`has shard ${quoteInput(file)} whose tensors list holds a ${name === null ? 'null' : typeof name}, not a name`);
    tensors.push(name);
  }
  return { file, size, checksum, tensors };
}

function quoteValueOf(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value instanceof JsonNumberLiteral) return value.text.slice(0, 40);
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'a list';
  return quoteInput(JSON.stringify(value));
}
