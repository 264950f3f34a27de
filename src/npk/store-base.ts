/**
 * The core of a NumPack store: catalogue, lock, serialised operations, whole-array
 * saves and the read-only accessors. {@link NumPack} adds the row operations.
 */
import type { DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { MAX_TENSOR_BYTES, NPK_MAX_ROW_BYTES } from '../core/limits.js';
import { tensorByteLength } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { chunksOf, type TensorBytes } from '../storage/tensor-bytes.js';
import { localFolder, type LocalFolder } from '../storage/local-folder.js';
import { npkWriteArrayFiles } from './array-data.js';
import { NpkArrayState, npkRowBytesOf } from './array-state.js';
import { npkDtypeCode, npkDtypeName } from './dtype-codes.js';
import { NpkBitmap } from './bitmap.js';
import { npkCrashPoint } from './crash-points.js';
import { npkAcquireLock, npkIsLockFile, type NpkLock } from './lock.js';
import { npkDecodeMetadata, npkEncodeMetadata, NPK_METADATA_FILE, type NpkArrayEntry } from './metadata.js';
import { npkBitmapFileName, npkCheckName, npkCheckRelativePath, npkSegmentFolderName } from './names.js';
import { npkPendingPublish, npkPublish, npkPublishId, npkRecover, npkStagedName, npkWriteStaged, NPK_INTENT_FILE } from './publish.js';
import { npkIsManifestPath, NPK_SEGMENT_TARGET_BYTES } from './segments.js';
import { quoteInput, quoteValue } from '../core/quote.js';

/** Options for {@link NumPack.open}. */
export interface NumPackOpenOptions {
  /**
   * Start from an empty store (NumPack's `drop_if_exists`). The old content is not
   * deleted at open: it is replaced by the first change published (or at `close()`),
   * atomically, so a crash in between leaves the old store.
   */
  dropIfExists?: boolean;
  /** Read only: no lock, no writes; mutating calls throw `INVALID_STATE`. The store must exist. */
  readOnly?: boolean;
  /** Arrays above this many bytes are written segmented (default 256 MiB, NumPack's target). */
  segmentTargetBytes?: number;
  /** fsync data and metadata before each call returns (default true). */
  durable?: boolean;
  /** Largest array `load()` returns in one buffer (default {@link MAX_TENSOR_BYTES}). */
  maxTensorBytes?: number;
  /** Largest row an array may declare; bigger ones are refused at open (default {@link NPK_MAX_ROW_BYTES}). */
  maxRowBytes?: number;
  /**
   * Publish every change at `close()` only, as one atomic step (the converter's writer
   * uses this to replace a store as a whole). Arrays saved in the session cannot be read
   * before then.
   *
   * @internal
   */
  commitOnClose?: boolean;
}

/** How long a reader waits for a writer to finish publishing before giving up with `LOCKED`. */
const READER_WAIT_MS = 5000;

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

/** The state a failed change is rolled back to. */
interface Snapshot {
  readonly arrays: [string, NpkArrayState, NpkArrayEntry, NpkBitmap | undefined][];
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

/** Options for {@link NumPack.iterate}. */
export interface NumPackIterateOptions {
  /** Rows per batch (NumPack's `buffer_size`); default 1, as NumPack. */
  batchRows?: number;
  signal?: AbortSignal;
}

/** One array in {@link NumPack.getMetadata}. */
export interface NumPackArrayMetadata {
  /** Physical shape, as `metadata.npkm` records it. */
  shape: number[];
  /** Shape with deleted rows left out. */
  logicalShape: number[];
  deletedRows: number;
  dataFile: string;
  /** Microseconds since the epoch. */
  lastModified: number;
  sizeBytes: number;
  dtype: DType;
  /** NumPack's enum name, e.g. `'Float32'`. */
  npkDtype: string;
}

/** What {@link NumPack.getMetadata} returns. */
export interface NumPackMetadata {
  arrays: Record<string, NumPackArrayMetadata>;
  baseDir: string;
  totalArrays: number;
}

/** A tensor description and its bytes, for {@link NumPack.saveStream}. */
export interface NumPackArraySpec {
  dtype: DType;
  shape: readonly number[];
}

/** Shared machinery of {@link NumPack}; not used directly. */
export abstract class NumPackBase {
  readonly path: string;
  /** The store's folder operations (every file access goes through them). */
  protected readonly folder: LocalFolder;
  readonly readOnly: boolean;
  protected readonly arrays = new Map<string, NpkArrayState>();
  protected readonly options: Required<Omit<NumPackOpenOptions, 'dropIfExists' | 'readOnly'>>;
  #lock: NpkLock | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #pending: Pending | undefined;
  /** Set when a publish failed after its commit point and could not be finished. */
  #broken: unknown;

  protected constructor(path: string, readOnly: boolean, options: NumPackOpenOptions) {
    this.path = path;
    this.folder = localFolder(path);
    this.readOnly = readOnly;
    this.options = {
      segmentTargetBytes: options.segmentTargetBytes ?? NPK_SEGMENT_TARGET_BYTES,
      durable: options.durable ?? true,
      maxTensorBytes: options.maxTensorBytes ?? MAX_TENSOR_BYTES,
      maxRowBytes: options.maxRowBytes ?? NPK_MAX_ROW_BYTES,
      commitOnClose: options.commitOnClose ?? false,
    };
  }

  /**
   * Takes the lock (writers), finishes or cleans up an interrupted publish, applies
   * dropIfExists and reads the catalogue.
   */
  protected static async initialize(store: NumPackBase, options: NumPackOpenOptions): Promise<void> {
    if (store.readOnly) {
      if (options.dropIfExists) throw new TensioError('INVALID_ARGUMENT', 'npk: dropIfExists cannot be used with readOnly', { format: 'npk' });
      const info = await store.folder.stat('');
      if (info?.kind !== 'folder') throw new TensioError('NOT_FOUND', `npk: ${store.path} is not a NumPack store folder`, { format: 'npk', path: store.path });
      if (await npkPendingPublish(store.path)) await finishPublishForReader(store.path);
      await store.#readCatalogue();
      return;
    }
    await store.folder.makeFolder();
    store.#lock = await npkAcquireLock(store.path);
    try {
      await npkRecover(store.path, store.options.durable);
      if (options.dropIfExists) store.#pendingChange().reset = true;
      else await store.#readCatalogue();
    } catch (error) {
      await store.#lock?.release();
      throw error;
    }
  }

  async #readCatalogue(): Promise<void> {
    const bytes = await this.folder.readBytes(NPK_METADATA_FILE).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!bytes) return;
    for (const entry of npkDecodeMetadata(bytes).arrays) {
      npkCheckName(entry.name);
      npkCheckRelativePath(entry.dataFile, `data_file of ${quoteInput(entry.name)}`);
      this.arrays.set(entry.name, await NpkArrayState.load(this.path, entry, this.options.maxRowBytes));
    }
  }

  /**
   * Runs store operations one at a time, so concurrent calls never interleave file
   * writes. A mutating operation that fails before its publish commits is rolled back:
   * its staged files are removed and the in-memory catalogue restored.
   */
  protected run<T>(work: () => Promise<T>, mutating = false): Promise<T> {
    const next = this.#queue.then(async () => {
      if (this.#closed) throw new TensioError('INVALID_STATE', `npk: ${this.path} is closed`, { format: 'npk', path: this.path });
      if (mutating && this.readOnly) throw new TensioError('INVALID_STATE', `npk: ${this.path} was opened read-only`, { format: 'npk', path: this.path });
      this.#checkNotBroken();
      const snapshot = mutating ? this.#snapshot() : undefined;
      try {
        return await work();
      } catch (error) {
        if (snapshot) await this.#restore(snapshot);
        throw npkWrapFileError(error, this.path);
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #checkNotBroken(): void {
    if (this.#broken !== undefined) {
      throw new TensioError('INVALID_STATE', `npk: a publish in ${this.path} committed but could not be finished (${(this.#broken as Error).message ?? this.#broken}); close and reopen the store to finish it`, { format: 'npk', path: this.path });
    }
  }

  #snapshot(): Snapshot {
    const pending = this.#pending;
    return {
      // Entries and bitmaps are replaced, never changed in place, so references suffice.
      arrays: [...this.arrays].map(([name, state]) => [name, state, state.entry, state.bitmap]),
      replace: pending && new Map(pending.replace),
      remove: pending && new Set(pending.remove),
      reset: pending?.reset ?? false,
      arrayNames: pending && new Set(pending.arrays),
    };
  }

  async #restore(snapshot: Snapshot): Promise<void> {
    for (const state of this.arrays.values()) {
      await state.closeData();
      state.generation++;
    }
    this.arrays.clear();
    for (const [name, state, entry, bitmap] of snapshot.arrays) {
      await state.closeData();
      state.entry = entry;
      state.bitmap = bitmap;
      state.generation++;
      this.arrays.set(name, state);
    }
    const pending = this.#pending;
    if (!pending) return;
    // Staged files of the failed operation go; those of earlier operations (commitOnClose) stay.
    for (const [final, staged] of pending.replace) {
      if (snapshot.replace?.get(final) !== staged) await this.folder.removeTree(staged).catch(() => undefined);
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

  #pendingChange(): Pending {
    this.#pending ??= { id: npkPublishId(), replace: new Map(), remove: new Set(), reset: false, arrays: new Set() };
    return this.#pending;
  }

  /**
   * The staged name to write a file or folder whose final name is `final` (relative to
   * the store); it replaces `final` when the change is published.
   */
  protected stage(final: string): string {
    const pending = this.#pendingChange();
    const previous = pending.replace.get(final);
    if (previous) return previous; // staged twice in one change: the caller overwrites it
    const staged = npkStagedName(final, pending.id);
    pending.replace.set(final, staged);
    pending.remove.delete(final);
    return staged;
  }

  /** Marks `final` (relative to the store) for removal when the change is published. */
  protected async removeOnPublish(final: string): Promise<void> {
    const pending = this.#pendingChange();
    const staged = pending.replace.get(final);
    if (staged) {
      pending.replace.delete(final);
      await this.folder.removeTree(staged);
    }
    pending.remove.add(final);
  }

  /**
   * Puts an array's new catalogue entry and bitmap in place in memory, and marks the
   * files its old version used and the new one does not for removal at publish.
   */
  protected async setArray(entry: NpkArrayEntry, bitmap: NpkBitmap | undefined, staged: boolean): Promise<NpkArrayState> {
    const old = this.arrays.get(entry.name);
    const keep = new Set(npkFilesOf(entry, bitmap !== undefined));
    // The bitmap name is always checked: a 0-d array's bitmap is ignored on load but must not outlive it.
    for (const file of old ? npkFilesOf(old.entry, true) : [npkBitmapFileName(entry.name)]) {
      if (!keep.has(file) && !this.#pending?.replace.has(file)) await this.removeOnPublish(file);
    }
    await old?.closeData();
    const state = old ?? new NpkArrayState(entry);
    state.entry = entry;
    state.bitmap = bitmap;
    state.generation++;
    this.arrays.set(entry.name, state);
    if (staged) this.#pendingChange().arrays.add(entry.name);
    return state;
  }

  /** Stages a bitmap file for an array (published with the next change). */
  protected async stageBitmap(state: NpkArrayState): Promise<void> {
    const name = npkBitmapFileName(state.entry.name);
    if (state.bitmap) {
      await npkWriteStaged(this.folder, this.stage(name), state.bitmap.encode(), this.options.durable);
      npkCrashPoint(`bitmap of ${state.entry.name} staged`);
    } else await this.removeOnPublish(name);
  }

  /**
   * Publishes the staged change (see `publish.ts`): at once, or at `close()` in
   * `commitOnClose` sessions.
   */
  protected async commit(): Promise<void> {
    if (this.options.commitOnClose) return;
    await this.#publishPending();
  }

  async #publishPending(): Promise<void> {
    const pending = this.#pending ?? { id: npkPublishId(), replace: new Map<string, string>(), remove: new Set<string>(), reset: false, arrays: new Set<string>() };
    const states = [...this.arrays.values()];
    const remove = new Set(pending.remove);
    if (pending.reset) {
      const used = new Set(states.flatMap((state) => npkFilesOf(state.entry, state.bitmap !== undefined)));
      const staged = new Set(pending.replace.values());
      for (const name of await this.folder.names()) {
        if (name === NPK_METADATA_FILE || name === NPK_INTENT_FILE || npkIsLockFile(name) || used.has(name) || staged.has(name)) continue;
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
      await npkPublish(this.path, plan, this.options.durable);
    } catch (error) {
      if (!(await npkPendingPublish(this.path))) throw error; // not committed: the caller rolls back
      // Committed, but the roll-forward failed: try once more, else refuse further work.
      try {
        await npkRecover(this.path, this.options.durable);
      } catch {
        this.#broken = error;
        this.#pending = undefined;
        throw error;
      }
    }
    this.#pending = undefined;
    this.catalogueTimesStale = false;
  }

  protected state(name: string): NpkArrayState {
    const state = this.arrays.get(name);
    if (!state) throw new TensioError('NOT_FOUND', `npk: no array named ${quoteInput(name)} in ${this.path}; it holds ${quoteValue([...this.arrays.keys()])}`, { format: 'npk', path: this.path });
    if (this.#pending?.arrays.has(name) && this.options.commitOnClose) {
      throw new TensioError('INVALID_STATE', `npk: ${quoteInput(name)} is saved but not published before close()`, { format: 'npk', path: this.path });
    }
    return state;
  }

  /**
   * Set when only `last_modified` times changed (an in-place `replace`): the catalogue is
   * then rewritten at the next structural change or at `close()`, not after each call.
   * Rows written in place are durable either way; a crash can only leave a stale time.
   */
  protected catalogueTimesStale = false;

  /** Publishes the catalogue (and whatever change is staged). */
  protected async writeCatalogue(): Promise<void> {
    await this.commit();
  }

  protected touch(state: NpkArrayState, shape?: readonly number[]): void {
    const newShape = shape ?? state.entry.shape;
    state.entry = { ...state.entry, shape: [...newShape], sizeBytes: tensorByteLength(state.entry.dtype, newShape, 'npk')!, lastModified: Date.now() * 1000 };
    state.generation++;
  }

  /**
   * Creates or overwrites arrays. All tensors are checked (names, dtypes, sizes) before
   * anything is written; the new data is written beside the old and published in one
   * commit, so after a crash the store holds all of the record or none of it.
   *
   * @example
   * ```ts
   * await npk.save({ a: tensorA, b: tensorB });
   * ```
   */
  async save(arrays: Readonly<Record<string, Tensor>>): Promise<void> {
    const entries = checkRecord(arrays);
    for (const [name, tensor] of entries) {
      npkCheckName(name);
      npkDtypeCode(tensor.dtype);
      checkTensorBytes(name, tensor);
    }
    return this.run(async () => {
      // One publish for the whole record: after a crash, all of it or none of it.
      for (const [name, tensor] of entries) await this.saveOne(name, tensor, tensor.data, undefined, false);
      await this.commit();
    }, true);
  }

  /**
   * Creates or overwrites one array from streamed bytes (C order, little-endian), with
   * bounded memory; large arrays become segmented as they are written.
   *
   * @example
   * ```ts
   * await npk.saveStream('big', { dtype: 'float32', shape: [1e6, 10] }, reader.stream('big'));
   * ```
   */
  async saveStream(name: string, spec: NumPackArraySpec, data: TensorBytes, options: { signal?: AbortSignal } = {}): Promise<void> {
    npkCheckName(name);
    npkDtypeCode(spec.dtype);
    return this.run(() => this.saveOne(name, spec, data, options.signal), true);
  }

  protected async saveOne(name: string, spec: NumPackArraySpec, data: TensorBytes, signal?: AbortSignal, publish = true): Promise<void> {
    const old = this.arrays.get(name);
    if (!old) {
      const clash = [...this.arrays.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
      if (clash) throw new TensioError('DUPLICATE_NAME', `npk: ${quoteInput(name)} differs from the existing ${quoteInput(clash)} only in case; their files would collide on case-insensitive disks`, { format: 'npk' });
    }
    const totalBytes = tensorByteLength(spec.dtype, spec.shape, 'npk')!;
    // The new data is written beside the old (which stays readable until the publish).
    const dataFile = await npkWriteArrayFiles(this.path, name, chunksOf(data, signal), {
      rowBytes: npkRowBytesOf(spec), totalBytes, segmentTargetBytes: this.options.segmentTargetBytes, durable: this.options.durable,
      stage: (final) => this.stage(final), ...(signal ? { signal } : {}),
    });
    await this.setArray({ name, shape: [...spec.shape], dataFile, lastModified: Date.now() * 1000, sizeBytes: totalBytes, dtype: spec.dtype }, undefined, true);
    if (publish) await this.commit();
  }

  /**
   * Deletes every array and its files, atomically: the old store stays whole until the
   * empty catalogue is published.
   *
   * @example
   * ```ts
   * await npk.reset();
   * ```
   */
  reset(): Promise<void> {
    return this.run(async () => {
      for (const state of this.arrays.values()) {
        await state.closeData();
        state.generation++;
      }
      this.arrays.clear();
      const pending = this.#pendingChange();
      pending.reset = true;
      for (const [final, staged] of pending.replace) {
        await this.folder.removeTree(staged);
        pending.replace.delete(final);
      }
      await this.commit();
    }, true);
  }

  /** Logical shape; throws `NOT_FOUND`. */
  getShape(name: string): number[] {
    this.checkOpen();
    return this.state(name).logicalShape;
  }

  /** Array names, in catalogue order. */
  getMemberList(): string[] {
    this.checkOpen();
    return [...this.arrays.keys()];
  }

  /** True when the store holds an array of that name. */
  hasArray(name: string): boolean {
    this.checkOpen();
    return this.arrays.has(name);
  }

  /** Last change of an array, in microseconds since the epoch; undefined if missing. */
  getModifyTime(name: string): number | undefined {
    this.checkOpen();
    return this.arrays.get(name)?.entry.lastModified;
  }

  /**
   * The catalogue, NumPack's `get_metadata()` plus logical shapes and deleted rows.
   *
   * @example
   * ```ts
   * npk.getMetadata().arrays.x.shape; // physical shape
   * ```
   */
  getMetadata(): NumPackMetadata {
    this.checkOpen();
    const arrays: Record<string, NumPackArrayMetadata> = {};
    for (const [name, state] of this.arrays) {
      const { entry } = state;
      arrays[name] = {
        shape: [...entry.shape], logicalShape: state.logicalShape, deletedRows: state.bitmap?.deletedCount ?? 0, dataFile: entry.dataFile,
        lastModified: entry.lastModified, sizeBytes: entry.sizeBytes, dtype: entry.dtype, npkDtype: npkDtypeName(entry.dtype),
      };
    }
    return { arrays, baseDir: this.path, totalArrays: this.arrays.size };
  }

  /** True until `close()`. */
  get isOpen(): boolean { return !this.#closed; }

  protected checkOpen(): void {
    if (this.#closed) throw new TensioError('INVALID_STATE', `npk: ${this.path} is closed`, { format: 'npk', path: this.path });
  }

  /**
   * Closes files and releases the writer lock. Safe to call twice.
   *
   * @example
   * ```ts
   * await npk.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    try {
      if (!this.readOnly && this.#broken === undefined && (this.#pending || this.catalogueTimesStale)) await this.#publishPending();
    } catch (error) {
      if (this.#pending) await this.#discardPending();
      throw npkWrapFileError(error, this.path);
    } finally {
      // Handles and the lock go even when that write fails; otherwise the store stays locked.
      for (const state of this.arrays.values()) await state.closeData();
      await this.#lock?.release();
    }
  }

  /**
   * Closes without publishing: staged changes are thrown away and the store stays as
   * last published. The converter's writer uses it on abort.
   *
   * @internal
   */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    try {
      await this.#discardPending();
    } finally {
      for (const state of this.arrays.values()) await state.closeData();
      await this.#lock?.release();
    }
  }

  async #discardPending(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const staged of pending.replace.values()) await this.folder.removeTree(staged).catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function checkRecord(arrays: unknown): [string, Tensor][] {
  if (typeof arrays !== 'object' || arrays === null || Array.isArray(arrays)) {
    throw new TensioError('INVALID_ARGUMENT', 'npk: arrays must be a record of name → tensor', { format: 'npk' });
  }
  return Object.entries(arrays as Record<string, Tensor>);
}

export function checkTensorBytes(name: string, tensor: Tensor): void {
  const expected = tensorByteLength(tensor.dtype, tensor.shape, 'npk');
  if (!(tensor.data instanceof Uint8Array) || tensor.data.byteLength !== expected) {
    throw new TensioError('SIZE_MISMATCH', `npk: ${quoteInput(name)} of dtype ${tensor.dtype} and shape [${tensor.shape.join(', ')}] needs ${expected} bytes, got ${tensor.data?.byteLength}`, { format: 'npk' });
  }
}

export function needRows(state: NpkArrayState): void {
  if (state.entry.shape.length === 0) {
    throw new TensioError('INVALID_SHAPE', `npk: ${quoteInput(state.entry.name)} is 0-d and has no rows`, { format: 'npk' });
  }
}

export function checkCompatible(state: NpkArrayState, name: string, tensor: Tensor, what: string): void {
  needRows(state);
  checkTensorBytes(name, tensor);
  if (tensor.dtype !== state.entry.dtype) {
    throw new TensioError('INVALID_ARGUMENT', `npk: ${what} of ${quoteInput(name)}: dtype ${tensor.dtype} differs from the stored ${state.entry.dtype}`, { format: 'npk' });
  }
  const stored = state.entry.shape;
  if (tensor.shape.length !== stored.length || tensor.shape.some((dim, i) => i > 0 && dim !== stored[i])) {
    throw new TensioError('INVALID_SHAPE', `npk: ${what} of ${quoteInput(name)}: shape [${tensor.shape.join(', ')}] does not fit rows of [${stored.join(', ')}]`, { format: 'npk' });
  }
}


/**
 * A failed system call (disk full, permission denied, a folder where a file should be)
 * becomes `TensioError('IO_ERROR')` naming the store, so callers and the CLI see one
 * error family; anything else passes through unchanged.
 */
export function npkWrapFileError(error: unknown, path: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  if (error instanceof TensioError || !(error instanceof Error) || typeof errno.code !== 'string' || typeof errno.syscall !== 'string') return error;
  return new TensioError('IO_ERROR', `npk: ${errno.syscall} failed in ${path}: ${error.message}`, { format: 'npk', path, cause: error });
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
