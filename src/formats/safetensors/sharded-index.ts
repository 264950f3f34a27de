/**
 * The `*.safetensors.index.json` of a sharded checkpoint and the shard naming
 * `model-00001-of-00003.safetensors`: the safetensors names of the generic sharded
 * helpers in `src/formats/sharded/`.
 */
import { formatShardIndex, parseShardIndex, type ShardIndex } from '../sharded/index-file.js';
import { parseShardFileName, shardFileName } from '../sharded/names.js';

/** A parsed sharded-checkpoint index. */
export type SafetensorsIndex = ShardIndex;

/**
 * Parses the text of a `*.safetensors.index.json`. Shard names must be plain file
 * names (no folders, no `..`), so an index can never point outside its folder.
 *
 * @example
 * ```ts
 * const index = safetensorsParseIndex(await readFile('model.safetensors.index.json'));
 * ```
 */
export function safetensorsParseIndex(bytes: Uint8Array): SafetensorsIndex {
  return parseShardIndex(bytes);
}

/**
 * `model-00001-of-00003.safetensors` → `{ prefix: 'model', index: 1, count: 3 }`.
 *
 * @example
 * ```ts
 * safetensorsParseShardName('model-00002-of-00003.safetensors')?.index; // 2
 * ```
 */
export function safetensorsParseShardName(fileName: string): { prefix: string; index: number; count: number } | undefined {
  const parsed = parseShardFileName(fileName, '.safetensors');
  return parsed ? { prefix: parsed.prefix, index: parsed.index, count: parsed.count } : undefined;
}

/**
 * The huggingface_hub shard file name: `<prefix>-00001-of-00003.safetensors`, or
 * `<prefix>.safetensors` when there is one shard.
 *
 * @example
 * ```ts
 * safetensorsShardName('model', 0, 3); // 'model-00001-of-00003.safetensors'
 * ```
 */
export function safetensorsShardName(prefix: string, zeroBasedIndex: number, count: number): string {
  if (count === 1) return `${prefix}.safetensors`;
  return shardFileName(prefix, zeroBasedIndex, count, '.safetensors');
}

/**
 * Index JSON as transformers writes it: 2-space indent, sorted keys, final newline.
 *
 * @example
 * ```ts
 * const text = safetensorsFormatIndex({ total_size: 1024 }, { 'a': 'model-00001-of-00002.safetensors' });
 * ```
 */
export function safetensorsFormatIndex(metadata: Record<string, unknown>, weightMap: Record<string, string>): string {
  return formatShardIndex(metadata, weightMap);
}
