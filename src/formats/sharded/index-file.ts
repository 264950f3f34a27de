/**
 * The index of a sharded checkpoint, as huggingface_hub and transformers write it
 * for safetensors (`model.safetensors.index.json`) and PyTorch `.bin` shards
 * (`pytorch_model.bin.index.json`): `{"metadata": {"total_size": …}, "weight_map":
 * {tensor: shard file}}`.
 */
import { errorFactory } from '../../core/errors.js';
import { isJsonObject, JsonNumberLiteral, parseStrictJson, type JsonValue } from '../safetensors/strict-json.js';

const fail = errorFactory('sharded');
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A parsed sharded-checkpoint index. */
export interface ShardIndex {
  /** The index's `metadata` object (`total_size`, sometimes `total_parameters`, …). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Tensor name → shard file name (a plain name in the index's folder). */
  readonly weightMap: Readonly<Record<string, string>>;
  /** Distinct shard file names, in order of first appearance. */
  readonly shards: readonly string[];
}

/**
 * Parses the bytes of an index file. Shard names must be plain file names (no
 * folders, no `..`), so an index can never point outside its folder; duplicate keys
 * are refused (`DUPLICATE_KEY`) rather than resolved silently.
 *
 * @example
 * ```ts
 * const index = parseShardIndex(await readFile('model.safetensors.index.json'));
 * ```
 */
export function parseShardIndex(bytes: Uint8Array): ShardIndex {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    return fail('INVALID_UTF8', `sharded: index file is not valid UTF-8`, { cause });
  }
  const root = parseStrictJson(text.trimStart().startsWith('\ufeff') ? text.trimStart().slice(1) : text);
  if (!isJsonObject(root)) return fail('INVALID_JSON', 'sharded: index file is not a JSON object');
  const map = root.get('weight_map');
  if (!isJsonObject(map)) return fail('INVALID_JSON', 'sharded: index file has no "weight_map" object');
  const weightMap: Record<string, string> = {};
  const shards: string[] = [];
  const seen = new Set<string>();
  for (const [tensor, file] of map) {
    if (typeof file !== 'string') fail('INVALID_JSON', `sharded: weight_map entry ${JSON.stringify(tensor)} must name a shard file`);
    const shard = file as string;
    if (shard === '' || shard === '.' || shard === '..' || /[/\\\0]/.test(shard)) {
      fail('INVALID_NAME', `sharded: weight_map entry ${JSON.stringify(tensor)} names ${JSON.stringify(shard)}, not a plain file name in the index's folder`);
    }
    // defineProperty: a tensor named __proto__ must be data, not the object's prototype.
    Object.defineProperty(weightMap, tensor, { value: shard, enumerable: true, writable: true, configurable: true });
    if (!seen.has(shard)) {
      seen.add(shard);
      shards.push(shard);
    }
  }
  const metadataValue = root.get('metadata');
  const metadata = metadataValue === undefined || metadataValue === null ? {} : toPlain(metadataValue);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) fail('INVALID_JSON', 'sharded: index "metadata" must be an object');
  return { metadata: metadata as Record<string, unknown>, weightMap, shards };
}

function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumberLiteral) return Number(value.text);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value) Object.defineProperty(out, key, { value: toPlain(item), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * Index JSON as transformers writes it: 2-space indent, sorted keys, final newline.
 *
 * @example
 * ```ts
 * const text = formatShardIndex({ total_size: 1024 }, { a: 'model-00001-of-00002.safetensors' });
 * ```
 */
export function formatShardIndex(metadata: Record<string, unknown>, weightMap: Record<string, string>): string {
  const sortKeys = (record: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) Object.defineProperty(out, key, { value: record[key], enumerable: true, writable: true, configurable: true });
    return out;
  };
  return `${JSON.stringify({ metadata: sortKeys(metadata), weight_map: sortKeys(weightMap) }, null, 2)}\n`;
}
