/**
 * The state and lifecycle of one open NumPack store, shared by every operation file
 * (`store-open.ts`, `store-save.ts`, `store-append.ts`, …): the in-memory catalogue,
 * the writer lock, the queue that runs operations one at a time with rollback of a
 * failed change, the staged change and its publish, the journal of appends and replaces
 * (`store-journal.ts`) and its fold into the catalogue, and closing.
 */
import { TensioError } from '../core/errors.js';
import { MAX_TENSOR_BYTES, NPK_JOURNAL_CHECKPOINT_BYTES, NPK_MAX_JOURNAL_BYTES, NPK_MAX_ROW_BYTES } from '../core/limits.js';
import { tensorByteLength } from '../core/sizes.js';
import { localFolder, type LocalFolder } from '../storage/local-folder.js';
import { NpkArrayState, npkRowBytesOf } from './array-state.js';
import type { NpkBitmap } from './bitmap.js';
import { npkCrashPoint } from './crash-points.js';
import type { NpkLock } from './lock.js';
import type { NpkJournalWrite } from './journal.js';
import { npkEncodeMetadata, type NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName } from './names.js';
import { NpkScratch } from './logical-io.js';
import { npkWriteStaged } from './publish.js';
import { NPK_SEGMENT_TARGET_BYTES } from './segments.js';
import { npkWrapFileError } from './store-checks.js';
import { NpkJournal } from './store-journal.js';
import { npkFilesOf, NpkStaging, type NpkStagingSnapshot } from './store-staging.js';
import type { NpkStoreSettings, NumPackOpenOptions } from './store-types.js';
import { quoteInput, quoteValue } from '../core/quote.js';
import { NpkRowPatches } from './row-patches.js';

/** The state a failed change is rolled back to. */
interface Snapshot {
  readonly arrays: [string, NpkArrayState, NpkArrayEntry, NpkBitmap | undefined, NpkRowPatches][];
  readonly staging: NpkStagingSnapshot;
}

/** One open store. Internal: the public classes are `NumPackBase` and `NumPack`. */
export class NpkStoreCore {
  readonly path: string;
  /** The store's folder operations (every file access goes through them). */
  readonly folder: LocalFolder;
  readonly readOnly: boolean;
  readonly arrays = new Map<string, NpkArrayState>();
  readonly options: NpkStoreSettings;
  readonly staging: NpkStaging;
  /** The writer lock (set by `npkOpenStore` for writers). */
  lock: NpkLock | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /**
   * Set when only `last_modified` times changed (an in-place `replace`): the catalogue is
   * then rewritten at the next structural change or at `close()`, not after each call.
   * Rows written in place are durable either way; a crash can only leave a stale time.
   */
  catalogueTimesStale = false;
  /** The `metadata.npkm` bytes on disk (the base a new journal records); set at open and by each publish. */
  publishedCatalogue: Uint8Array | undefined;
  /** The window random-access reads coalesce into, reused (operations run one at a time). */
  readonly gatherScratch = new NpkScratch();
  /** The journal of changes committed since the last publish, if any. */
  #journal: NpkJournal | undefined;

  constructor(path: string, readOnly: boolean, options: NumPackOpenOptions) {
    this.path = path;
    this.folder = localFolder(path);
    this.readOnly = readOnly;
    this.options = {
      segmentTargetBytes: options.segmentTargetBytes ?? NPK_SEGMENT_TARGET_BYTES,
      durable: options.durable ?? true,
      maxTensorBytes: options.maxTensorBytes ?? MAX_TENSOR_BYTES,
      maxRowBytes: options.maxRowBytes ?? NPK_MAX_ROW_BYTES,
      maxJournalBytes: options.maxJournalBytes ?? NPK_MAX_JOURNAL_BYTES,
      commitOnClose: options.commitOnClose ?? false,
    };
    this.staging = new NpkStaging(path, this.options.durable);
  }

  /**
   * Runs store operations one at a time, so concurrent calls never interleave file
   * writes. A mutating operation that fails before its publish commits is rolled back:
   * its staged files are removed and the in-memory catalogue restored. A mutating
   * operation other than a journal record (`'journal'`: append, replace) first writes
   * the rows journaled replaces left pending into the data files ({@link flushPatches}).
   */
  run<T>(work: () => Promise<T>, mutating: boolean | 'journal' = false): Promise<T> {
    const next = this.#queue.then(async () => {
      if (this.#closed) throw new TensioError('INVALID_STATE', `npk: ${this.path} is closed`, { format: 'npk', path: this.path });
      if (mutating && this.readOnly) throw new TensioError('INVALID_STATE', `npk: ${this.path} was opened read-only`, { format: 'npk', path: this.path });
      this.staging.checkNotBroken();
      const snapshot = mutating ? this.#snapshot() : undefined;
      try {
        if (mutating === true) await this.flushPatches();
        return await work();
      } catch (error) {
        if (snapshot) await this.#restore(snapshot);
        throw npkWrapFileError(error, this.path);
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #snapshot(): Snapshot {
    return {
      // Entries and bitmaps are replaced, never changed in place, so references suffice.
      arrays: [...this.arrays].map(([name, state]) => [name, state, state.entry, state.bitmap, state.patches]),
      staging: this.staging.snapshot(),
    };
  }

  async #restore(snapshot: Snapshot): Promise<void> {
    for (const state of this.arrays.values()) {
      await state.closeData();
      state.generation++;
    }
    this.arrays.clear();
    for (const [name, state, entry, bitmap, patches] of snapshot.arrays) {
      await state.closeData();
      state.entry = entry;
      state.bitmap = bitmap;
      state.patches = patches;
      state.generation++;
      this.arrays.set(name, state);
    }
    await this.staging.restore(snapshot.staging);
  }

  /**
   * Puts an array's new catalogue entry and bitmap in place in memory, and marks the
   * files its old version used and the new one does not for removal at publish.
   */
  async setArray(entry: NpkArrayEntry, bitmap: NpkBitmap | undefined, staged: boolean): Promise<NpkArrayState> {
    const old = this.arrays.get(entry.name);
    const keep = new Set(npkFilesOf(entry, bitmap !== undefined));
    // The bitmap name is always checked: a 0-d array's bitmap is ignored on load but must not outlive it.
    for (const file of old ? npkFilesOf(old.entry, true) : [npkBitmapFileName(entry.name)]) {
      if (!keep.has(file) && !this.staging.replaces(file)) await this.staging.removeOnPublish(file);
    }
    await old?.closeData();
    const state = old ?? new NpkArrayState(entry);
    if (old) state.patches = new NpkRowPatches(npkRowBytesOf(entry)); // the old version's were flushed before this change
    state.entry = entry;
    state.bitmap = bitmap;
    state.generation++;
    this.arrays.set(entry.name, state);
    if (staged) this.staging.markArray(entry.name);
    return state;
  }

  /** Stages a bitmap file for an array (published with the next change). */
  async stageBitmap(state: NpkArrayState): Promise<void> {
    const name = npkBitmapFileName(state.entry.name);
    if (state.bitmap) {
      await npkWriteStaged(this.folder, this.staging.stage(name), state.bitmap.encode(), this.options.durable);
      npkCrashPoint(`bitmap of ${state.entry.name} staged`);
    } else await this.staging.removeOnPublish(name);
  }

  /**
   * Publishes the staged change (see `publish.ts`): at once, or at `close()` in
   * `commitOnClose` sessions.
   */
  async commit(): Promise<void> {
    if (this.options.commitOnClose) return;
    await this.#publishPending();
  }

  /**
   * Writes the rows that journaled replaces left pending (`row-patches.ts`) into their
   * data files, in place. Their journal records stay until the fold, so a crash in here
   * is redone by the next opener's replay.
   */
  async flushPatches(): Promise<void> {
    let wrote = false;
    for (const state of this.arrays.values()) {
      if (state.patches.size === 0) continue;
      await (await state.data(this.path, true)).applyWrites([...state.patches.writes()]);
      this.#journal?.noteTouched(state.patches.files());
      state.patches.clear();
      wrote = true;
    }
    if (wrote) npkCrashPoint('pending rows written in place');
  }

  async #publishPending(): Promise<void> {
    await this.flushPatches();
    // Rows the journal made durable only through its records are synced before the
    // catalogue that counts on them replaces the journal.
    if (this.#journal && this.options.durable) await this.#journal.syncTouched();
    this.publishedCatalogue = await this.staging.publish([...this.arrays.values()]);
    this.catalogueTimesStale = false;
    const journal = this.#journal;
    this.#journal = undefined;
    await journal?.remove();
  }

  /**
   * True when the next change may commit through the journal: a writer publishing each
   * call (not `commitOnClose`), with nothing staged, over a catalogue on disk.
   */
  canJournal(): boolean {
    return !this.readOnly && !this.options.commitOnClose && !this.staging.active && !this.staging.broken && this.publishedCatalogue !== undefined;
  }

  /**
   * Commits the in-memory catalogue (and `writes`, redone at replay) as one journal
   * record; `touched` names data files written in place whose rows the record counts on
   * (synced before the fold). Only when {@link canJournal}. A failure after the record
   * may have reached the disk leaves the store broken until reopened (which replays it).
   * `committed` runs right after the record is written, before a fold it may trigger.
   */
  async commitJournaled(writes: readonly NpkJournalWrite[], touched: readonly string[] = [], committed?: () => void): Promise<void> {
    const catalogue = npkEncodeMetadata([...this.arrays.values()].map((state) => state.entry));
    this.#journal ??= await NpkJournal.create(this.folder, this.publishedCatalogue!, this.options.durable);
    try {
      await this.#journal.append({ catalogue, writes }, touched, this.options.durable);
    } catch (error) {
      this.staging.markBroken(error);
      throw error;
    }
    committed?.();
    npkCrashPoint('journal record written (commit)');
    if (this.#journal.size > NPK_JOURNAL_CHECKPOINT_BYTES) await this.#publishPending();
  }

  /** An array by name; `NOT_FOUND`, or `INVALID_STATE` while its data waits for `close()`. */
  state(name: string): NpkArrayState {
    const state = this.arrays.get(name);
    if (!state) throw new TensioError('NOT_FOUND', `npk: no array named ${quoteInput(name)} in ${this.path}; it holds ${quoteValue([...this.arrays.keys()])}`, { format: 'npk', path: this.path });
    if (this.staging.hasArray(name) && this.options.commitOnClose) {
      throw new TensioError('INVALID_STATE', `npk: ${quoteInput(name)} is saved but not published before close()`, { format: 'npk', path: this.path });
    }
    return state;
  }

  /** Records a change of an array: new shape (default unchanged), size and modification time. */
  touch(state: NpkArrayState, shape?: readonly number[]): void {
    const newShape = shape ?? state.entry.shape;
    state.entry = { ...state.entry, shape: [...newShape], sizeBytes: tensorByteLength(state.entry.dtype, newShape, 'npk')!, lastModified: Date.now() * 1000 };
    state.generation++;
  }

  /** True until `close()`. */
  get isOpen(): boolean { return !this.#closed; }

  checkOpen(): void {
    if (this.#closed) throw new TensioError('INVALID_STATE', `npk: ${this.path} is closed`, { format: 'npk', path: this.path });
  }

  /** Publishes what is pending, closes files and releases the writer lock. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    try {
      if (!this.readOnly && !this.staging.broken && (this.staging.active || this.catalogueTimesStale || this.#journal)) await this.#publishPending();
    } catch (error) {
      if (this.staging.active) await this.staging.discard();
      throw npkWrapFileError(error, this.path);
    } finally {
      // Handles and the lock go even when that write fails; otherwise the store stays locked.
      await this.#journal?.close(); // left for the next opener to replay when the fold failed
      for (const state of this.arrays.values()) await state.closeData();
      await this.lock?.release();
    }
  }

  /** Closes without publishing: staged changes are thrown away. */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    try {
      await this.staging.discard();
      await this.#journal?.close(); // committed changes: the next opener folds them in
    } finally {
      for (const state of this.arrays.values()) await state.closeData();
      await this.lock?.release();
    }
  }
}
