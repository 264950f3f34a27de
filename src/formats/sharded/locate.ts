/**
 * Finding the parts of a sharded checkpoint on disk: the index that names a shard
 * (only when it really names it), and what a model folder holds.
 */
import { basename, join } from 'node:path';
import { errorFactory, TensioError } from '../../core/errors.js';
import { folderStore } from '../../storage/folder-store.js';
import { locationKind, openSourceInput, siblingLocation, sourceOptionsOf, type RemoteOptions } from '../../storage/source-input.js';
import { parseShardIndex, type ShardIndex } from './index-file.js';
import { isHiddenFileName, parseShardFileName, shardIndexFileName } from './names.js';
import type { ShardedLayout } from './types.js';

const fail = errorFactory('sharded');

/**
 * Reads and parses an index file, refusing one larger than `maxBytes`
 * (`HEADER_TOO_LARGE`). Errors name the file.
 *
 * @example
 * ```ts
 * const index = await readShardIndexFile('ckpt/model.safetensors.index.json', 100_000_000);
 * ```
 */
export async function readShardIndexFile(path: string, maxBytes: number, remote?: RemoteOptions): Promise<ShardIndex> {
  // A path, an http(s) or s3 URL: the index of a remote checkpoint is read the same way.
  const { source } = await openSourceInput(path, sourceOptionsOf(remote, undefined));
  try {
    if (source.size > maxBytes) fail('HEADER_TOO_LARGE', `sharded: index ${path} has ${source.size} bytes, over the limit ${maxBytes} (maxHeaderBytes)`, { path });
    try {
      return parseShardIndex(await source.read(0, source.size));
    } catch (error) {
      if (error instanceof TensioError && error.path === undefined) throw new TensioError(error.code, `${error.message} (${path})`, { format: error.format, path, cause: error });
      throw error;
    }
  } finally {
    await source.close?.();
  }
}

/**
 * The index a shard belongs to: `<prefix><ext>.index.json` beside a file named
 * `<prefix>-0000N-of-0000M<ext>`, but only when that index's `weight_map` names the
 * file. A file named like a shard that no index lists (a stale or stray shard, a
 * truncated copy) is not a way into some other model: undefined, open it alone.
 * An unreadable index beside a shard-named file is an error (the caller cannot tell
 * whether it belongs to it); `followIndex: false` opens the file alone anyway.
 *
 * @example
 * ```ts
 * await findIndexNamingShard('ckpt/model-00001-of-00002.safetensors', layout); // 'ckpt/model.safetensors.index.json'
 * ```
 */
export async function findIndexNamingShard(shardPath: string, layout: ShardedLayout): Promise<string | undefined> {
  const fileName = basename(shardPath);
  const parsed = parseShardFileName(fileName, layout.extension);
  if (!parsed) return undefined;
  // Remote shards are opened alone: probing for an index would cost a request per open.
  if ((await locationKind(shardPath)) === 'remote') return undefined;
  const candidate = siblingLocation(shardPath, shardIndexFileName(parsed.prefix, layout.extension));
  if ((await locationKind(candidate)) !== 'file') return undefined;
  let index: ShardIndex;
  try {
    index = await readShardIndexFile(candidate, layout.maxIndexBytes);
  } catch (cause) {
    if (!(cause instanceof TensioError)) throw cause;
    throw new TensioError(cause.code, `${cause.message}; ${fileName} is named like one of its shards (open it alone with --shard-only / followIndex: false)`, { format: layout.format, path: candidate, cause });
  }
  return index.shards.includes(fileName) ? candidate : undefined;
}

/** What a model folder holds for one shard format. */
export type FolderCheckpoint =
  | { readonly kind: 'index'; readonly path: string }
  | { readonly kind: 'single'; readonly path: string };

/**
 * What a folder holds for this layout: its index (`*.safetensors.index.json`;
 * with several, the one of the default prefix), else its one weights file
 * (`model.safetensors`, `pytorch_model.bin`: what `save_pretrained` writes for a
 * small model; the default name wins over other files of the extension, such as
 * `training_args.bin`). Undefined when it holds neither; `INVALID_ARGUMENT` when the
 * choice is ambiguous.
 *
 * @example
 * ```ts
 * await findCheckpointInFolder('checkpoints/gpt2', layout); // { kind: 'single', path: 'checkpoints/gpt2/model.safetensors' }
 * ```
 */
export async function findCheckpointInFolder(folder: string, layout: ShardedLayout): Promise<FolderCheckpoint | undefined> {
  // One level of the folder through its Store: files as names, sub-folders ending in '/'.
  const listed = await folderStore(folder).list('', { recursive: false }).catch(() => [] as string[]);
  const files = new Set(listed.filter((key) => !key.endsWith('/')));
  const entries = listed.map((key) => key.replace(/\/$/, '')).filter((name) => !isHiddenFileName(name)).sort();
  const indexSuffix = `${layout.extension}.index.json`;
  const indexes = entries.filter((name) => name.toLowerCase().endsWith(indexSuffix));
  if (indexes.length === 1) return { kind: 'index', path: join(folder, indexes[0]!) };
  if (indexes.length > 1) {
    const preferred = indexes.find((name) => name === shardIndexFileName(layout.defaultPrefix, layout.extension));
    if (preferred) return { kind: 'index', path: join(folder, preferred) };
    return fail('INVALID_ARGUMENT', `sharded: ${folder} holds ${indexes.length} index files (${indexes.join(', ')}); open one of them`, { path: folder });
  }
  const singles: string[] = [];
  for (const name of entries) {
    if (name.toLowerCase().endsWith(layout.extension) && !parseShardFileName(name, layout.extension) && files.has(name)) singles.push(name);
  }
  if (singles.length === 0) return undefined;
  const preferred = singles.find((name) => name === `${layout.defaultPrefix}${layout.extension}`);
  if (preferred) return { kind: 'single', path: join(folder, preferred) };
  if (singles.length === 1) return { kind: 'single', path: join(folder, singles[0]!) };
  return fail('INVALID_ARGUMENT', `sharded: ${folder} holds ${singles.length} ${layout.extension} files and no index (${singles.slice(0, 5).join(', ')}${singles.length > 5 ? ', …' : ''}); open one of them`, { path: folder });
}

/**
 * True when a folder holds something of this layout (an index or a weights file),
 * including the ambiguous cases {@link findCheckpointInFolder} refuses (so the
 * refusal, not "unknown format", is what the user sees).
 */
export async function folderHasCheckpoint(folder: string, layout: ShardedLayout): Promise<boolean> {
  try {
    return (await findCheckpointInFolder(folder, layout)) !== undefined;
  } catch {
    return true;
  }
}
