/**
 * Publishing a sharded checkpoint as a SET, so that a crash at any instant leaves the
 * old model or the new one as read through the index, never a mix:
 *
 * 0. Every new shard is complete in a temporary file (`.NAME.tensio-*.tmp`).
 * 1…m. The shards are renamed into place one by one, under names the current index
 *    does not use (huggingface_hub's 5-digit `model-00001-of-00003` names, or 6+
 *    digits when the set being replaced already uses those), so the old index still
 *    reads exactly the old model.
 * m+1. The index is replaced atomically: the commit point. (A one-shard result has no
 *    index: the single file is published, then the old index is removed.)
 * m+2… The old set's shards, and any shard-named file of the same prefix the new index
 *    does not name, are removed (as `save_pretrained` does), one by one; so is the
 *    one-file form `<prefix><ext>` (as huggingface_hub does; transformers would load it
 *    instead of the index). Replacing it needs `overwrite`, like any existing file.
 *
 * A crash before the commit leaves the old model plus some unreferenced new shards; a
 * crash after it leaves the new model plus some unreferenced old ones. `verify` reports
 * such strays; the next write of the same prefix removes them.
 *
 * Everything goes through a {@link Store} (a local folder today; any store that can
 * write a key atomically, delete and list), addressed by keys under `folderKey`.
 */
import { errorFactory, TensioError } from '../../core/errors.js';
import { crashPoint } from '../../storage/crash-point.js';
import type { Store } from '../../storage/store.js';
import { parseShardIndex } from './index-file.js';
import { isHiddenFileName, parseShardFileName, shardFileName, shardIndexFileName } from './names.js';

const fail = errorFactory('sharded');

/** The step label the crash-test hook uses (`TENSIO_TEST_CRASH_AFTER=sharded-publish:K`). */
export const SHARDED_PUBLISH_OPERATION = 'sharded-publish';

/** Widest shard numbers tried before giving up on finding names the old set does not use. */
const MAX_SHARD_NAME_WIDTH = 9;

/** One new file of the set: complete in a temporary file, published by a rename. */
export interface StagedShardFile {
  /** Final file name in the folder. */
  readonly name: string;
  /** Renames the temporary file into place (fsynced). */
  publish(): Promise<void>;
  /** Deletes the temporary file (when not yet published). */
  abort(): Promise<void>;
}

/** What {@link publishShardSet} needs. */
export interface ShardSetPlan {
  /** Where the checkpoint lives. */
  readonly store: Store;
  /** The checkpoint's folder inside the store: `''` or `'sub/folder/'`. */
  readonly folderKey: string;
  readonly prefix: string;
  /** Shard extension with its dot (`.safetensors`). */
  readonly extension: string;
  /** The new files in shard order; one file (`<prefix><ext>`) means no index. */
  readonly files: readonly StagedShardFile[];
  /** The index text for several shards; undefined for one. */
  readonly indexText: string | undefined;
  /** Replace an existing checkpoint of this prefix. */
  readonly overwrite: boolean;
  /** Largest old index read, in bytes. */
  readonly maxIndexBytes: number;
}

/** What the folder holds for a prefix before a write. */
interface CurrentSet {
  /** True when `<prefix><ext>.index.json` exists. */
  readonly indexExists: boolean;
  /** Shards the current index names; undefined when the index exists but cannot be read. */
  readonly named: readonly string[] | undefined;
}

/** The shard names an index file (bytes) lists; undefined when it cannot be read. */
async function namedByIndex(store: Store, key: string, maxIndexBytes: number): Promise<readonly string[] | undefined> {
  try {
    const source = await store.open(key);
    try {
      if (source.size > maxIndexBytes) return undefined;
      return parseShardIndex(await source.read(0, source.size)).shards;
    } finally {
      await source.close?.();
    }
  } catch (error) {
    if (error instanceof TensioError) return undefined;
    throw error;
  }
}

async function currentSet(store: Store, folderKey: string, prefix: string, extension: string, maxIndexBytes: number): Promise<CurrentSet> {
  const indexKey = `${folderKey}${shardIndexFileName(prefix, extension)}`;
  if (!(await store.has(indexKey))) return { indexExists: false, named: [] };
  return { indexExists: true, named: await namedByIndex(store, indexKey, maxIndexBytes) };
}

/** File names directly in the folder (no sub-folders), through the store. */
async function folderNames(store: Store, folderKey: string): Promise<string[]> {
  if (!store.canList) return [];
  const keys = await store.list(folderKey, { recursive: false }).catch(() => [] as string[]);
  return keys.filter((key) => !key.endsWith('/')).map((key) => key.slice(folderKey.length));
}

/**
 * The file names for a new set of `count` shards: `<prefix><ext>` for one; otherwise
 * huggingface_hub's `<prefix>-00001-of-0000N<ext>` unless the checkpoint being
 * replaced uses any of those names, then the same with 6 digits (then 7, …), so that
 * no new shard ever replaces a file the current index reads. With an unreadable
 * current index, every existing file name counts as used.
 *
 * @example
 * ```ts
 * await chooseShardNames('ckpt', 'model', '.safetensors', 3, 100_000_000); // ['model-00001-of-00003.safetensors', …]
 * ```
 */
export async function chooseShardNames(store: Store, folderKey: string, prefix: string, extension: string, count: number, maxIndexBytes: number): Promise<string[]> {
  if (count === 1) return [`${prefix}${extension}`];
  const current = await currentSet(store, folderKey, prefix, extension, maxIndexBytes);
  const used = new Set(current.named ?? (await folderNames(store, folderKey)));
  for (let width = 5; width <= MAX_SHARD_NAME_WIDTH; width++) {
    const names = Array.from({ length: count }, (_, index) => shardFileName(prefix, index, count, extension, width));
    if (names.every((name) => !used.has(name))) return names;
  }
  return fail('ALREADY_EXISTS', `sharded: every shard naming of ${prefix}-…-of-${count}${extension} is used by the checkpoint in ${store.locate(folderKey || '.')}; write to another folder`);
}

/**
 * Refuses (`ALREADY_EXISTS`) to replace an existing checkpoint of this prefix (its
 * index or its one-file form), or any file the new set would take, unless `overwrite`. Called before anything is written.
 */
export async function checkShardSetTarget(store: Store, folderKey: string, prefix: string, extension: string, names: readonly string[], overwrite: boolean): Promise<void> {
  if (overwrite) return;
  // The one-file form counts as the same checkpoint: a sharded write replaces (removes) it.
  for (const name of new Set([shardIndexFileName(prefix, extension), `${prefix}${extension}`, ...names])) {
    const path = store.locate(`${folderKey}${name}`);
    if (await store.has(`${folderKey}${name}`)) fail('ALREADY_EXISTS', `${path} already exists (use --force / overwrite to replace it)`, { path });
  }
}

/**
 * Publishes a complete new set in the order described at the top of this file and
 * returns the files it removed afterwards. If anything fails before the commit
 * point, the new files already renamed into place are deleted and the old
 * checkpoint is untouched.
 *
 * @example
 * ```ts
 * const { removed } = await publishShardSet({ store: folderStore('ckpt'), folderKey: '', prefix: 'model', extension: '.safetensors', files, indexText, overwrite: true, maxIndexBytes });
 * ```
 */
export async function publishShardSet(plan: ShardSetPlan): Promise<{ removed: string[] }> {
  const { store, folderKey, prefix, extension } = plan;
  const indexKey = `${folderKey}${shardIndexFileName(prefix, extension)}`;
  const indexPath = store.locate(indexKey);
  const newNames = new Set(plan.files.map((file) => file.name));
  const before = await currentSet(store, folderKey, prefix, extension, plan.maxIndexBytes);
  if (before.named?.some((name) => newNames.has(name)) && plan.indexText !== undefined) {
    // Another writer changed the checkpoint since the names were chosen.
    await Promise.all(plan.files.map((file) => file.abort()));
    fail('INVALID_STATE', `sharded: the index ${indexPath} changed while the new shards were written and now names some of them; nothing was published`, { path: indexPath });
  }
  let step = 0;
  crashPoint(SHARDED_PUBLISH_OPERATION, step);
  const published: string[] = [];
  try {
    for (const file of plan.files) {
      await file.publish();
      published.push(file.name);
      crashPoint(SHARDED_PUBLISH_OPERATION, ++step);
    }
    if (plan.indexText !== undefined) {
      await store.write(indexKey, new TextEncoder().encode(plan.indexText), { noOverwrite: !plan.overwrite });
    } else if (before.indexExists) {
      // One file replaces a sharded set: the old index goes, so nothing reads the old shards.
      await store.delete(indexKey);
    }
  } catch (error) {
    await Promise.all(plan.files.filter((file) => !published.includes(file.name)).map((file) => file.abort()));
    // Unreferenced by any index (their names differ from the old set's): safe to delete.
    if (plan.indexText !== undefined) await Promise.all(published.map((name) => store.delete(`${folderKey}${name}`).catch(() => undefined)));
    throw error;
  }
  crashPoint(SHARDED_PUBLISH_OPERATION, ++step);
  const stale = new Set((before.named ?? []).filter((name) => !newNames.has(name)));
  for (const name of await folderNames(store, folderKey)) {
    if (isHiddenFileName(name) || newNames.has(name)) continue;
    if (parseShardFileName(name, extension)?.prefix === prefix) stale.add(name);
    // The one-file form of the prefix (`model.safetensors`) is the checkpoint being
    // replaced too: left beside the new index, transformers would load it instead.
    else if (name === `${prefix}${extension}` && plan.indexText !== undefined) stale.add(name);
  }
  const removed: string[] = [];
  for (const name of [...stale].sort()) {
    const ok = await store.delete(`${folderKey}${name}`).then(() => true, () => false);
    if (ok) removed.push(name);
    crashPoint(SHARDED_PUBLISH_OPERATION, ++step);
  }
  return { removed };
}
