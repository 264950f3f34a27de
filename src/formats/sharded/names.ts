/**
 * File names of sharded checkpoints, for any shard extension (`.safetensors`, `.bin`):
 * shards `<prefix>-00001-of-00003<ext>` (huggingface_hub's naming, 5-digit numbers),
 * the index `<prefix><ext>.index.json`, and the single file `<prefix><ext>` that
 * replaces both when a checkpoint fits in one shard.
 */

/** The parts of a shard file name. */
export interface ShardFileName {
  /** Everything before `-00001-of-…`, e.g. `model` or `pytorch_model`. */
  readonly prefix: string;
  /** 1-based shard number. */
  readonly index: number;
  /** Number of shards in the set. */
  readonly count: number;
  /** Digits used for the numbers: 5 as huggingface_hub writes them; tensio uses 6+ for a set that must not share names with the set it replaces. */
  readonly width: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses `<prefix>-00001-of-00003<extension>` (5 to 9 digits, case-insensitive
 * extension); undefined for any other name.
 *
 * @example
 * ```ts
 * parseShardFileName('model-00002-of-00003.safetensors', '.safetensors'); // { prefix: 'model', index: 2, count: 3, width: 5 }
 * ```
 */
export function parseShardFileName(fileName: string, extension: string): ShardFileName | undefined {
  const match = new RegExp(`^(.*)-(\\d{5,9})-of-(\\d{5,9})${escapeRegExp(extension)}$`, 'i').exec(fileName);
  if (!match) return undefined;
  return { prefix: match[1]!, index: Number(match[2]), count: Number(match[3]), width: match[2]!.length };
}

/**
 * The name of shard `zeroBasedIndex` of `count`: `<prefix>-00001-of-00003<extension>`
 * with `width` digits (default 5, as huggingface_hub).
 *
 * @example
 * ```ts
 * shardFileName('model', 0, 3, '.safetensors'); // 'model-00001-of-00003.safetensors'
 * ```
 */
export function shardFileName(prefix: string, zeroBasedIndex: number, count: number, extension: string, width = 5): string {
  const pad = (n: number) => String(n).padStart(width, '0');
  return `${prefix}-${pad(zeroBasedIndex + 1)}-of-${pad(count)}${extension}`;
}

/**
 * The index file name of a prefix: `model` + `.safetensors` → `model.safetensors.index.json`.
 *
 * @example
 * ```ts
 * shardIndexFileName('pytorch_model', '.bin'); // 'pytorch_model.bin.index.json'
 * ```
 */
export function shardIndexFileName(prefix: string, extension: string): string {
  return `${prefix}${extension}.index.json`;
}

/** True for names the folder scans skip: hidden files, which include tensio's own temporaries (`.NAME.tensio-*.tmp`). */
export function isHiddenFileName(fileName: string): boolean {
  return fileName.startsWith('.');
}
