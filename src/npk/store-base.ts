/**
 * The core of a NumPack store: catalogue, lock, serialised operations, whole-array
 * saves and the read-only accessors. {@link NumPack} adds the row operations.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { MAX_TENSOR_BYTES } from '../core/limits.js';
import { tensorByteLength } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { chunksOf, type TensorBytes } from '../storage/tensor-bytes.js';
import { npkWriteArrayFiles } from './array-data.js';
import { NpkArrayState, npkRowBytesOf } from './array-state.js';
import { npkDtypeCode, npkDtypeName } from './dtype-codes.js';
import { npkRemove, npkWriteFileAtomic } from './files.js';
import { npkAcquireLock, NPK_LOCK_FILE, type NpkLock } from './lock.js';
import { npkDecodeMetadata, npkEncodeMetadata, NPK_METADATA_FILE } from './metadata.js';
import { npkBitmapFileName, npkCheckName, npkCheckRelativePath, npkDataFileName, npkManifestFileName, npkSegmentFolderName } from './names.js';
import { NPK_SEGMENT_TARGET_BYTES } from './segments.js';

/** Options for {@link NumPack.open}. */
export interface NumPackOpenOptions {
  /** Delete whatever the folder holds first (NumPack's `drop_if_exists`). */
  dropIfExists?: boolean;
  /** Read only: no lock, no writes; mutating calls throw `INVALID_STATE`. The store must exist. */
  readOnly?: boolean;
  /** Arrays above this many bytes are written segmented (default 256 MiB, NumPack's target). */
  segmentTargetBytes?: number;
  /** fsync data and metadata before each call returns (default true). */
  durable?: boolean;
  /** Largest array `load()` returns in one buffer (default {@link MAX_TENSOR_BYTES}). */
  maxTensorBytes?: number;
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
  readonly readOnly: boolean;
  protected readonly arrays = new Map<string, NpkArrayState>();
  protected readonly options: Required<Omit<NumPackOpenOptions, 'dropIfExists' | 'readOnly'>>;
  #lock: NpkLock | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  protected constructor(path: string, readOnly: boolean, options: NumPackOpenOptions) {
    this.path = path;
    this.readOnly = readOnly;
    this.options = {
      segmentTargetBytes: options.segmentTargetBytes ?? NPK_SEGMENT_TARGET_BYTES,
      durable: options.durable ?? true,
      maxTensorBytes: options.maxTensorBytes ?? MAX_TENSOR_BYTES,
    };
  }

  /** Takes the lock (writers), applies dropIfExists and reads the catalogue. */
  protected static async initialize(store: NumPackBase, options: NumPackOpenOptions): Promise<void> {
    if (store.readOnly) {
      if (options.dropIfExists) throw new TensioError('INVALID_ARGUMENT', 'npk: dropIfExists cannot be used with readOnly', { format: 'npk' });
      const info = await stat(store.path).catch(() => undefined);
      if (!info?.isDirectory()) throw new TensioError('NOT_FOUND', `npk: ${store.path} is not a NumPack store folder`, { format: 'npk', path: store.path });
    } else {
      await mkdir(store.path, { recursive: true });
      store.#lock = await npkAcquireLock(store.path);
    }
    try {
      if (options.dropIfExists) await store.#removeAllFiles();
      await store.#readCatalogue();
    } catch (error) {
      await store.#lock?.release();
      throw error;
    }
  }

  async #readCatalogue(): Promise<void> {
    const bytes = await readFile(join(this.path, NPK_METADATA_FILE)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!bytes) return;
    for (const entry of npkDecodeMetadata(bytes).arrays) {
      npkCheckName(entry.name);
      npkCheckRelativePath(entry.dataFile, `data_file of ${JSON.stringify(entry.name)}`);
      this.arrays.set(entry.name, await NpkArrayState.load(this.path, entry));
    }
  }

  /** Runs store operations one at a time, so concurrent calls never interleave file writes. */
  protected run<T>(work: () => Promise<T>, mutating = false): Promise<T> {
    const next = this.#queue.then(() => {
      if (this.#closed) throw new TensioError('INVALID_STATE', `npk: ${this.path} is closed`, { format: 'npk', path: this.path });
      if (mutating && this.readOnly) throw new TensioError('INVALID_STATE', `npk: ${this.path} was opened read-only`, { format: 'npk', path: this.path });
      return work().catch((error: unknown) => {
        throw npkWrapFileError(error, this.path);
      });
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  protected state(name: string): NpkArrayState {
    const state = this.arrays.get(name);
    if (!state) throw new TensioError('NOT_FOUND', `npk: no array named ${JSON.stringify(name)} in ${this.path}; it holds ${JSON.stringify([...this.arrays.keys()])}`, { format: 'npk', path: this.path });
    return state;
  }

  /**
   * Set when only `last_modified` times changed (an in-place `replace`): the catalogue is
   * then rewritten at the next structural change or at `close()`, not after each call.
   * Rows written in place are durable either way; a crash can only leave a stale time.
   */
  protected catalogueTimesStale = false;

  protected async writeCatalogue(): Promise<void> {
    this.catalogueTimesStale = false;
    const bytes = npkEncodeMetadata([...this.arrays.values()].map((state) => state.entry));
    await npkWriteFileAtomic(join(this.path, NPK_METADATA_FILE), bytes, this.options.durable);
  }

  protected async writeBitmap(state: NpkArrayState): Promise<void> {
    const path = join(this.path, npkBitmapFileName(state.entry.name));
    if (state.bitmap) await npkWriteFileAtomic(path, state.bitmap.encode(), this.options.durable);
    else await npkRemove(path);
  }

  protected touch(state: NpkArrayState, shape?: readonly number[]): void {
    const newShape = shape ?? state.entry.shape;
    state.entry = { ...state.entry, shape: [...newShape], sizeBytes: tensorByteLength(state.entry.dtype, newShape, 'npk')!, lastModified: Date.now() * 1000 };
    state.generation++;
  }

  /**
   * Creates or overwrites arrays. All tensors are checked (names, dtypes, sizes) before
   * anything is written.
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
      for (const [name, tensor] of entries) await this.saveOne(name, tensor, tensor.data);
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

  protected async saveOne(name: string, spec: NumPackArraySpec, data: TensorBytes, signal?: AbortSignal): Promise<void> {
    const old = this.arrays.get(name);
    if (!old) {
      const clash = [...this.arrays.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
      if (clash) throw new TensioError('DUPLICATE_NAME', `npk: ${JSON.stringify(name)} differs from the existing ${JSON.stringify(clash)} only in case; their files would collide on case-insensitive disks`, { format: 'npk' });
    }
    const totalBytes = tensorByteLength(spec.dtype, spec.shape, 'npk')!;
    await old?.closeData();
    const dataFile = await npkWriteArrayFiles(this.path, name, chunksOf(data, signal), {
      rowBytes: npkRowBytesOf(spec), totalBytes, segmentTargetBytes: this.options.segmentTargetBytes, durable: this.options.durable, ...(signal ? { signal } : {}),
    });
    if (old && old.entry.dataFile !== dataFile) await npkRemove(join(this.path, old.entry.dataFile));
    if (dataFile === npkDataFileName(name)) {
      await npkRemove(join(this.path, npkManifestFileName(name)));
      await npkRemove(join(this.path, npkSegmentFolderName(name)));
    }
    await npkRemove(join(this.path, npkBitmapFileName(name)));
    const state = old ?? new NpkArrayState({ name, shape: [], dataFile, lastModified: 0, sizeBytes: 0, dtype: spec.dtype });
    state.entry = { name, shape: [...spec.shape], dataFile, lastModified: Date.now() * 1000, sizeBytes: totalBytes, dtype: spec.dtype };
    state.bitmap = undefined;
    state.generation++;
    this.arrays.set(name, state);
    await this.writeCatalogue();
  }

  /**
   * Deletes every array and its files.
   *
   * @example
   * ```ts
   * await npk.reset();
   * ```
   */
  reset(): Promise<void> {
    return this.run(async () => {
      await this.#removeAllFiles();
      await this.writeCatalogue();
    }, true);
  }

  async #removeAllFiles(): Promise<void> {
    for (const state of this.arrays.values()) {
      await state.closeData();
      state.generation++;
    }
    this.arrays.clear();
    for (const entry of await readdir(this.path)) {
      if (entry === NPK_LOCK_FILE) continue;
      await rm(join(this.path, entry), { recursive: true, force: true });
    }
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
      if (this.catalogueTimesStale) await this.writeCatalogue();
    } catch (error) {
      throw npkWrapFileError(error, this.path);
    } finally {
      // Handles and the lock go even when that write fails; otherwise the store stays locked.
      for (const state of this.arrays.values()) await state.closeData();
      await this.#lock?.release();
    }
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
    throw new TensioError('SIZE_MISMATCH', `npk: ${JSON.stringify(name)} of dtype ${tensor.dtype} and shape [${tensor.shape.join(', ')}] needs ${expected} bytes, got ${tensor.data?.byteLength}`, { format: 'npk' });
  }
}

export function needRows(state: NpkArrayState): void {
  if (state.entry.shape.length === 0) {
    throw new TensioError('INVALID_SHAPE', `npk: ${JSON.stringify(state.entry.name)} is 0-d and has no rows`, { format: 'npk' });
  }
}

export function checkCompatible(state: NpkArrayState, name: string, tensor: Tensor, what: string): void {
  needRows(state);
  checkTensorBytes(name, tensor);
  if (tensor.dtype !== state.entry.dtype) {
    throw new TensioError('INVALID_ARGUMENT', `npk: ${what} of ${JSON.stringify(name)}: dtype ${tensor.dtype} differs from the stored ${state.entry.dtype}`, { format: 'npk' });
  }
  const stored = state.entry.shape;
  if (tensor.shape.length !== stored.length || tensor.shape.some((dim, i) => i > 0 && dim !== stored[i])) {
    throw new TensioError('INVALID_SHAPE', `npk: ${what} of ${JSON.stringify(name)}: shape [${tensor.shape.join(', ')}] does not fit rows of [${stored.join(', ')}]`, { format: 'npk' });
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
