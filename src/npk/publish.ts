/**
 * How a change to a store is published so that a crash at any step leaves the old store
 * or the new one, never a mix.
 *
 * NumPack's file names are fixed by array name (`data_<name>.npkd`, and above all the
 * deletion bitmap `deleted_<name>.npkb`, whose path NumPack always recomputes from the
 * name), so the catalogue alone cannot be the commit point: saving over an array that
 * has a bitmap must switch its data and drop its bitmap together. Instead:
 *
 * 1. Stage: every new file (data, segment folder, manifest, bitmap, the catalogue
 *    itself) is written beside its final name as `<final>.tensio-staged-<id>` and
 *    fsynced. Nothing the current catalogue uses is touched, so a crash here leaves the
 *    old store plus strays that the next opener removes.
 * 2. Commit: the intent `.tensio-publish` (JSON: which staged names replace which final
 *    names, which final names go) is written to a temporary, fsynced, and renamed into
 *    place. That rename is the commit point.
 * 3. Roll forward: staged names are renamed over their final names, obsolete files
 *    removed, the staged catalogue renamed over `metadata.npkm`, then the intent removed.
 *    Every step is idempotent: a crash here is finished by the next opener
 *    ({@link npkRecover}), which replays the intent before reading anything.
 *
 * A change that only rewrites the catalogue (an append without deletions) skips the
 * intent: the catalogue's own atomic rename is then the commit point.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { localFolder, type LocalFolder } from '../storage/local-folder.js';
import { npkCrashPoint } from './crash-points.js';
import { NPK_LOCK_FILE, npkProcessAlive } from './lock.js';
import { NPK_METADATA_FILE } from './metadata.js';
import { npkCheckRelativePath } from './names.js';

/** The intent file: present only between a commit and the end of its roll-forward. */
export const NPK_INTENT_FILE = '.tensio-publish';
const STAGED = /\.tensio-staged-[0-9a-f]{12}$/;

/** A change ready to publish: the new catalogue and which files move. */
export interface NpkPublishPlan {
  /** Random id of this publish; staged names end with `.tensio-staged-<id>`. */
  readonly id: string;
  /** The new `metadata.npkm` bytes. */
  readonly catalogue: Uint8Array;
  /** `[staged, final]`: each staged file or folder replaces its final name. */
  readonly replace: readonly (readonly [string, string])[];
  /** Final names that go (old bitmaps, data files of another layout, dropped arrays). */
  readonly remove: readonly string[];
}

interface Intent {
  version: 1;
  id: string;
  catalogue: string;
  replace: [string, string][];
  remove: string[];
}

/** A fresh publish id (12 hex digits). */
export function npkPublishId(): string {
  return randomBytes(6).toString('hex');
}

/** The staged name of `final` for publish `id`. */
export function npkStagedName(final: string, id: string): string {
  return `${final}.tensio-staged-${id}`;
}

/** True for a leftover of an unfinished publish (`*.tensio-staged-<id>`). */
export function npkIsStagedName(name: string): boolean {
  return STAGED.test(name);
}

/** fsyncs a folder so that renames in it survive a power cut. */
export async function npkSyncFolder(dir: string): Promise<void> {
  await localFolder(dir).syncFolder();
}

/**
 * Writes a file of the store (fsynced when durable); used for staged files. Without
 * fsync a small file is far cheaper written synchronously (no thread-pool hops), as
 * the catalogue always was.
 */
export async function npkWriteStaged(folder: LocalFolder, key: string, bytes: Uint8Array | string, durable: boolean): Promise<void> {
  await folder.writeInPlace(key, bytes, durable ? { durable: true } : { blocking: true });
}

/**
 * The few file operations of a publish, on the store's folder. They touch names and
 * small files only; without fsync they run synchronously, which costs far less than a
 * thread-pool hop each.
 */
interface PublishOps {
  /** True for a folder, false for a file, undefined when missing. */
  isDirectory(key: string): Promise<boolean | undefined>;
  rename(from: string, to: string): Promise<void>;
  remove(key: string): Promise<void>;
  sync(): Promise<void>;
}

function publishOps(folder: LocalFolder, durable: boolean): PublishOps {
  const blocking = !durable;
  return {
    isDirectory: async (key) => {
      const info = await folder.stat(key, { blocking });
      return info === undefined ? undefined : info.kind === 'folder';
    },
    rename: (from, to) => folder.rename(from, to, { blocking }),
    remove: (key) => folder.removeTree(key, { blocking }),
    sync: durable ? () => folder.syncFolder() : async () => undefined,
  };
}

/**
 * Publishes a staged change in the store at `dir` (which the caller has locked). The
 * files named in `plan.replace` must already be written (and fsynced when `durable`).
 *
 * @example
 * ```ts
 * await npkPublish(dir, { id, catalogue, replace: [[npkStagedName('data_x.npkd', id), 'data_x.npkd']], remove: ['deleted_x.npkb'] }, true);
 * ```
 */
export async function npkPublish(dir: string, plan: NpkPublishPlan, durable: boolean): Promise<void> {
  const folder = localFolder(dir);
  const ops = publishOps(folder, durable);
  // Whatever could make the roll-forward fail is checked before the commit point.
  for (const [from, to] of plan.replace) {
    const [source, target] = [await ops.isDirectory(from), await ops.isDirectory(to)];
    if (source === undefined) throw new TensioError('IO_ERROR', `npk: staged ${from} in ${dir} is missing`, { format: 'npk', path: join(dir, from) });
    if (target !== undefined && target !== source) {
      throw new TensioError('IO_ERROR', `npk: cannot publish ${to} in ${dir}: a ${target ? 'folder' : 'file'} of that name is in the way`, { format: 'npk', path: join(dir, to) });
    }
  }
  const staged = npkStagedName(NPK_METADATA_FILE, plan.id);
  await npkWriteStaged(folder, staged, plan.catalogue, durable);
  npkCrashPoint('catalogue staged');
  if (plan.replace.length === 0 && plan.remove.length === 0) {
    // Only the catalogue changes (an append without deletions): its rename is the commit.
    await ops.rename(staged, NPK_METADATA_FILE);
    npkCrashPoint('catalogue renamed (commit)');
    await ops.sync();
    return;
  }
  const intent: Intent = { version: 1, id: plan.id, catalogue: staged, replace: plan.replace.map(([from, to]) => [from, to]), remove: [...plan.remove] };
  const temporary = npkStagedName(NPK_INTENT_FILE, plan.id);
  await npkWriteStaged(folder, temporary, JSON.stringify(intent), durable);
  npkCrashPoint('intent staged');
  await ops.sync(); // staged files' names are durable before the commit
  await ops.rename(temporary, NPK_INTENT_FILE);
  npkCrashPoint('intent renamed (commit)');
  await ops.sync();
  await rollForward(intent, ops);
}

async function rollForward(intent: Intent, ops: PublishOps): Promise<void> {
  for (const [from, to] of intent.replace) {
    if ((await ops.isDirectory(from)) === undefined) continue; // already moved
    // rename() replaces a file atomically but not a non-empty folder: remove that first.
    if (await ops.isDirectory(to)) await ops.remove(to);
    await ops.rename(from, to);
    npkCrashPoint(`replaced ${to}`);
  }
  for (const name of intent.remove) {
    await ops.remove(name);
    npkCrashPoint(`removed ${name}`);
  }
  if ((await ops.isDirectory(intent.catalogue)) !== undefined) {
    await ops.rename(intent.catalogue, NPK_METADATA_FILE);
    npkCrashPoint('catalogue renamed');
  }
  await ops.sync();
  await ops.remove(NPK_INTENT_FILE);
  npkCrashPoint('intent removed');
}

function parseIntent(bytes: Uint8Array, dir: string): Intent {
  const bad = (why: string): never => {
    throw new TensioError('INVALID_METADATA', `npk: ${join(dir, NPK_INTENT_FILE)} (an unfinished publish) is unreadable: ${why}; it cannot be finished safely, restore the store from a copy`, { format: 'npk', path: dir });
  };
  let parsed: Partial<Intent>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Intent>;
  } catch {
    return bad('not JSON');
  }
  if (parsed.version !== 1 || typeof parsed.id !== 'string' || !/^[0-9a-f]{12}$/.test(parsed.id)) return bad('no version 1 id');
  if (parsed.catalogue !== npkStagedName(NPK_METADATA_FILE, parsed.id)) return bad('unexpected catalogue name');
  if (!Array.isArray(parsed.replace) || !Array.isArray(parsed.remove)) return bad('no replace/remove lists');
  for (const pair of parsed.replace) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string' || pair[0] !== npkStagedName(pair[1], parsed.id)) return bad('a replace entry is not [staged, final]');
    npkCheckRelativePath(pair[1], 'a file of the unfinished publish');
  }
  for (const name of parsed.remove) {
    if (typeof name !== 'string') return bad('a remove entry is not a name');
    npkCheckRelativePath(name, 'a file of the unfinished publish');
    if (name === NPK_METADATA_FILE || name === NPK_LOCK_FILE || name === NPK_INTENT_FILE) return bad(`it would remove ${name}`);
  }
  return parsed as Intent;
}

/**
 * Reads the intent of an unfinished publish, if any.
 *
 * @example
 * ```ts
 * if (await npkPendingPublish('s.npk')) console.log('a publish was interrupted');
 * ```
 */
export async function npkPendingPublish(dir: string): Promise<boolean> {
  return (await localFolder(dir).stat(NPK_INTENT_FILE)) !== undefined;
}

/**
 * Brings a store to a committed state; the caller holds its lock. A committed publish
 * that was interrupted is finished; staged files of an uncommitted one are removed, as
 * are the temporaries of lock takers that died.
 *
 * @example
 * ```ts
 * const lock = await npkAcquireLock(dir);
 * await npkRecover(dir, true);
 * ```
 */
export async function npkRecover(dir: string, durable: boolean): Promise<void> {
  const folder = localFolder(dir);
  const bytes = await folder.readBytes(NPK_INTENT_FILE).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (bytes) {
    await rollForward(parseIntent(bytes, dir), publishOps(folder, durable));
  }
  let names: string[];
  try {
    names = await folder.names();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (npkIsStagedName(name)) await folder.removeTree(name);
    else if (/^\.lock\.(\d+)-[0-9a-f]+\.tmp$/.test(name) && !npkProcessAlive(Number(/^\.lock\.(\d+)/.exec(name)![1]))) {
      await folder.unlink(name, { quiet: true });
    }
  }
}
