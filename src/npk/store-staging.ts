/**
 * The change a store is staging: files written beside their final names, files to
 * remove, and whether the folder is being reset; published together by `publish.ts`.
 * Also what a failed operation's rollback needs of it (snapshot and restore).
 */
import { localFolder, type LocalFolder } from '../storage/local-folder.js';
import { TensioError } from '../core/errors.js';
import type { NpkArrayState } from './array-state.js';
import { NPK_JOURNAL_FILE } from './journal.js';
import { npkIsLockFile } from './lock.js';
import { npkEncodeMetadata, NPK_METADATA_FILE, type NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName, npkSegmentFolderName } from './names.js';
import { npkPendingPublish, npkPublish, npkPublishId, npkRecover, npkStagedName, NPK_INTENT_FILE } from './publish.js';
import { npkIsManifestPath } from './segments.js';

/** A change being staged: files written beside their final names, published together. */
interface Pending {
  readonly id: string;
  /** final name → staged name */
  readonly replace: Map<string, string>;
  readonly remove: Set<string>;
  /** Everything in the folder that the new catalogue does not use goes (dropIfExists, reset). */
  reset: boolean;
  /** Arrays whose data is staged and not yet readable. */
  readonly arrays: Set<string>;
}

/** The staging half of the state a failed change is rolled back to. */
export interface NpkStagingSnapshot {
  readonly replace: Map<string, string> | undefined;
  readonly remove: Set<string> | undefined;
  readonly reset: boolean;
  readonly arrayNames: Set<string> | undefined;
}

/**
 * The files an array uses in a store: its data file (with the canonical segment folder
 * of a segmented array) and, when it has deletions (or `always`), its bitmap.
 */
export function npkFilesOf(entry: NpkArrayEntry, withBitmap: boolean): string[] {
  const files = [entry.dataFile];
  if (npkIsManifestPath(entry.dataFile)) files.push(npkSegmentFolderName(entry.name));
  if (withBitmap) files.push(npkBitmapFileName(entry.name));
  return files;
}

/** The staged change of one open store (none until something is staged). */
export class NpkStaging {
  readonly #path: string;
  readonly #folder: LocalFolder;
  readonly #durable: boolean;
  #pending: Pending | undefined;
  /** Set when a publish failed after its commit point and could not be finished. */
  #broken: unknown;

  constructor(path: string, durable: boolean) {
    this.#path = path;
    this.#folder = localFolder(path);
    this.#durable = durable;
  }

  #change(): Pending {
    this.#pending ??= { id: npkPublishId(), replace: new Map(), remove: new Set(), reset: false, arrays: new Set() };
    return this.#pending;
  }

  /** True while something is staged. */
  get active(): boolean { return this.#pending !== undefined; }

  /** `INVALID_STATE` once a committed publish could not be finished. */
  checkNotBroken(): void {
    if (this.#broken !== undefined) {
      throw new TensioError('INVALID_STATE', `npk: a publish in ${this.#path} committed but could not be finished (${(this.#broken as Error).message ?? this.#broken}); close and reopen the store to finish it`, { format: 'npk', path: this.#path });
    }
  }

  /** True when a committed publish could not be finished (nothing more is published). */
  get broken(): boolean { return this.#broken !== undefined; }

  /** The publish replaces everything the new catalogue does not use (dropIfExists, reset). */
  markReset(): void {
    this.#change().reset = true;
  }

  /** Records that `name`'s data is staged (not readable before the publish). */
  markArray(name: string): void {
    this.#change().arrays.add(name);
  }

  /** True when `name`'s data is staged and not yet published. */
  hasArray(name: string): boolean {
    return this.#pending?.arrays.has(name) ?? false;
  }

  /** True when a staged file will replace `final`. */
  replaces(final: string): boolean {
    return this.#pending?.replace.has(final) ?? false;
  }

  /**
   * The staged name to write a file or folder whose final name is `final` (relative to
   * the store); it replaces `final` when the change is published.
   */
  stage(final: string): string {
    const pending = this.#change();
    const previous = pending.replace.get(final);
    if (previous) return previous; // staged twice in one change: the caller overwrites it
    const staged = npkStagedName(final, pending.id);
    pending.replace.set(final, staged);
    pending.remove.delete(final);
    return staged;
  }

  /** Marks `final` (relative to the store) for removal when the change is published. */
  async removeOnPublish(final: string): Promise<void> {
    const pending = this.#change();
    const staged = pending.replace.get(final);
    if (staged) {
      pending.replace.delete(final);
      await this.#folder.removeTree(staged);
    }
    pending.remove.add(final);
  }

  /** Throws away every staged file (a reset drops the arrays staged so far). */
  async dropStagedFiles(): Promise<void> {
    const pending = this.#change();
    for (const [final, staged] of pending.replace) {
      await this.#folder.removeTree(staged);
      pending.replace.delete(final);
    }
  }

  snapshot(): NpkStagingSnapshot {
    const pending = this.#pending;
    return {
      replace: pending && new Map(pending.replace),
      remove: pending && new Set(pending.remove),
      reset: pending?.reset ?? false,
      arrayNames: pending && new Set(pending.arrays),
    };
  }

  async restore(snapshot: NpkStagingSnapshot): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    // Staged files of the failed operation go; those of earlier operations (commitOnClose) stay.
    for (const [final, staged] of pending.replace) {
      if (snapshot.replace?.get(final) !== staged) await this.#folder.removeTree(staged).catch(() => undefined);
    }
    if (!snapshot.replace) {
      this.#pending = undefined;
      return;
    }
    pending.replace.clear();
    for (const [final, staged] of snapshot.replace) pending.replace.set(final, staged);
    pending.remove.clear();
    for (const name of snapshot.remove!) pending.remove.add(name);
    pending.arrays.clear();
    for (const name of snapshot.arrayNames!) pending.arrays.add(name);
    pending.reset = snapshot.reset;
  }

  /**
   * Marks the store broken: a change committed (a journal record written) but its
   * in-memory state cannot be trusted; the next opener replays it.
   */
  markBroken(error: unknown): void {
    this.#broken ??= error;
  }

  /** Publishes the staged change with the catalogue of `states` (see `publish.ts`); returns the catalogue published. */
  async publish(states: readonly NpkArrayState[]): Promise<Uint8Array> {
    const pending = this.#pending ?? { id: npkPublishId(), replace: new Map<string, string>(), remove: new Set<string>(), reset: false, arrays: new Set<string>() };
    const remove = new Set(pending.remove);
    if (pending.reset) {
      const used = new Set(states.flatMap((state) => npkFilesOf(state.entry, state.bitmap !== undefined)));
      const staged = new Set(pending.replace.values());
      for (const name of await this.#folder.names()) {
        if (name === NPK_METADATA_FILE || name === NPK_INTENT_FILE || name === NPK_JOURNAL_FILE || npkIsLockFile(name) || used.has(name) || staged.has(name)) continue;
        remove.add(name);
      }
    }
    for (const final of pending.replace.keys()) remove.delete(final);
    const plan = {
      id: pending.id,
      catalogue: npkEncodeMetadata(states.map((state) => state.entry)),
      replace: [...pending.replace].map(([final, staged]) => [staged, final] as const),
      remove: [...remove],
    };
    try {
      await npkPublish(this.#path, plan, this.#durable);
    } catch (error) {
      if (!(await npkPendingPublish(this.#path))) throw error; // not committed: the caller rolls back
      // Committed, but the roll-forward failed: try once more, else refuse further work.
      try {
        await npkRecover(this.#path, this.#durable);
      } catch {
        this.#broken = error;
        this.#pending = undefined;
        throw error;
      }
    }
    this.#pending = undefined;
    return plan.catalogue;
  }

  /** Removes every staged file; the store stays as last published. */
  async discard(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const staged of pending.replace.values()) await this.#folder.removeTree(staged).catch(() => undefined);
  }
}
