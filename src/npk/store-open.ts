/**
 * Opening a store: writers take the folder's lock and finish or clean up an interrupted
 * publish and replay a journal a dead writer left; readers do the same when no writer
 * holds the store (or wait for a live writer's publish, and read a live writer's journal
 * without replaying it); then the catalogue is read and every array checked against
 * its files.
 */
import { TensioError } from '../core/errors.js';
import { NpkArrayState } from './array-state.js';
import { npkAcquireLock, type NpkLock } from './lock.js';
import { npkDecodeMetadata } from './metadata.js';
import { npkCheckName, npkCheckRelativePath } from './names.js';
import { npkPendingPublish, npkRecover } from './publish.js';
import type { NpkStoreCore } from './store-core.js';
import { npkHasJournal, npkJournaledCatalogue, npkReadCatalogueBytes, npkReplayJournal } from './store-journal.js';
import type { NumPackOpenOptions } from './store-types.js';
import { quoteInput } from '../core/quote.js';
import type { NpkJournalWrite } from './journal.js';
import { npkSegmentFolderName } from './names.js';
import { npkIsManifestPath } from './segments.js';

/** How long a reader waits for a writer to finish publishing before giving up with `LOCKED`. */
const READER_WAIT_MS = 5000;

/**
 * Takes the lock (writers), finishes or cleans up an interrupted publish, applies
 * dropIfExists and reads the catalogue into `store`.
 */
export async function npkOpenStore(store: NpkStoreCore, options: NumPackOpenOptions): Promise<void> {
  if (store.readOnly) {
    if (options.dropIfExists) throw new TensioError('INVALID_ARGUMENT', 'npk: dropIfExists cannot be used with readOnly', { format: 'npk' });
    const info = await store.folder.stat('');
    if (info?.kind !== 'folder') throw new TensioError('NOT_FOUND', `npk: ${store.path} is not a NumPack store folder`, { format: 'npk', path: store.path });
    if (await npkPendingPublish(store.path)) await finishPublishForReader(store.path);
    const liveJournal = (await npkHasJournal(store.folder)) && !(await replayJournalForReader(store));
    await readCatalogue(store, liveJournal);
    return;
  }
  await store.folder.makeFolder();
  store.lock = await npkAcquireLock(store.path);
  try {
    await npkRecover(store.path, store.options.durable);
    await npkReplayJournal(store.folder, store.options.durable, store.options.maxJournalBytes);
    store.publishedCatalogue = await npkReadCatalogueBytes(store.folder);
    if (options.dropIfExists) store.staging.markReset();
    else await readCatalogue(store, false, true);
  } catch (error) {
    await store.lock?.release();
    throw error;
  }
}

/**
 * Reads the catalogue into `store`; with `liveJournal`, as of a live writer's journal
 * (whose rows not yet in the data files become the arrays' patches). A writer
 * (`trimOrphans`) cuts rows an interrupted append left past the catalogue's count.
 */
async function readCatalogue(store: NpkStoreCore, liveJournal: boolean, trimOrphans = false): Promise<void> {
  let bytes = await npkReadCatalogueBytes(store.folder);
  let writes: NpkJournalWrite[] = [];
  if (liveJournal) ({ catalogue: bytes, writes } = await npkJournaledCatalogue(store.folder, bytes, store.options.maxJournalBytes));
  if (!bytes) return;
  for (const entry of npkDecodeMetadata(bytes).arrays) {
    npkCheckName(entry.name);
    npkCheckRelativePath(entry.dataFile, `data_file of ${quoteInput(entry.name)}`);
    store.arrays.set(entry.name, await NpkArrayState.load(store.path, entry, store.options.maxRowBytes, trimOrphans));
  }
  for (const write of writes) {
    const state = [...store.arrays.values()].find((candidate) => npkOwnsFile(candidate.entry, write.file));
    state?.patches.add(write.file, write.position, write.bytes, false);
  }
}

/** True when `file` is the data file of `entry` or one of its segments. */
function npkOwnsFile(entry: { name: string; dataFile: string }, file: string): boolean {
  return entry.dataFile === file || (npkIsManifestPath(entry.dataFile) && file.startsWith(`${npkSegmentFolderName(entry.name)}/`));
}

/**
 * A reader found a journal. If no live writer holds the store, its writer died: take the
 * lock and replay it (returns true). Otherwise the writer is working (returns false): its
 * journal is read in memory, never written.
 */
async function replayJournalForReader(store: NpkStoreCore): Promise<boolean> {
  let lock: NpkLock;
  try {
    lock = await npkAcquireLock(store.path);
  } catch {
    return false; // held by a live writer (LOCKED), or a folder this process cannot write
  }
  try {
    await npkRecover(store.path, true);
    await npkReplayJournal(store.folder, true, store.options.maxJournalBytes);
  } finally {
    await lock.release();
  }
  return true;
}

/**
 * A reader found the intent of an unfinished publish. If no live writer holds the store,
 * the publish was interrupted by a crash: take the lock and finish it. Otherwise a writer
 * is rolling it forward right now (a few renames): wait for it, up to a few seconds.
 */
async function finishPublishForReader(path: string): Promise<void> {
  let lock: NpkLock | undefined;
  try {
    lock = await npkAcquireLock(path);
  } catch (error) {
    if (!(error instanceof TensioError) || error.code !== 'LOCKED') throw error;
  }
  if (lock) {
    try {
      await npkRecover(path, true);
    } finally {
      await lock.release();
    }
    return;
  }
  const deadline = Date.now() + READER_WAIT_MS;
  while (await npkPendingPublish(path)) {
    if (Date.now() > deadline) {
      throw new TensioError('LOCKED', `npk: ${path} is being published by another process; try again when it has finished`, { format: 'npk', path });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
