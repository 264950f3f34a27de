/**
 * `NumPackBase`: the public face of a store's whole-array writes and read-only
 * accessors; {@link NumPack} adds the row operations. The work is done by one file per
 * operation (`store-open.ts`, `store-save.ts`, `store-append.ts`, `store-replace.ts`,
 * `store-drop.ts`, `store-compact.ts`, `store-read.ts`) on the shared state and
 * lifecycle of `store-core.ts` (catalogue, lock, serialised operations with rollback,
 * staging and publishing, close).
 */
import type { Tensor } from '../core/tensor.js';
import type { TensorBytes } from '../storage/tensor-bytes.js';
import { npkDtypeName } from './dtype-codes.js';
import { NpkStoreCore } from './store-core.js';
import { npkOpenStore } from './store-open.js';
import { npkReset, npkSave, npkSaveStream } from './store-save.js';
import type { NumPackArrayMetadata, NumPackArraySpec, NumPackMetadata, NumPackOpenOptions } from './store-types.js';

export type { NumPackOpenOptions, NumPackIterateOptions, NumPackArrayMetadata, NumPackMetadata, NumPackArraySpec } from './store-types.js';

/** Shared machinery of {@link NumPack}; not used directly. */
export abstract class NumPackBase {
  readonly path: string;
  readonly readOnly: boolean;
  /** The open store every operation works on. */
  protected readonly core: NpkStoreCore;

  protected constructor(path: string, readOnly: boolean, options: NumPackOpenOptions) {
    this.path = path;
    this.readOnly = readOnly;
    this.core = new NpkStoreCore(path, readOnly, options);
  }

  /**
   * Takes the lock (writers), finishes or cleans up an interrupted publish, applies
   * dropIfExists and reads the catalogue.
   */
  protected static async initialize(store: NumPackBase, options: NumPackOpenOptions): Promise<void> {
    await npkOpenStore(store.core, options);
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
    return npkSave(this.core, arrays);
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
    return npkSaveStream(this.core, name, spec, data, options.signal);
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
    return npkReset(this.core);
  }

  /** Logical shape; throws `NOT_FOUND`. */
  getShape(name: string): number[] {
    this.core.checkOpen();
    return this.core.state(name).logicalShape;
  }

  /** Array names, in catalogue order. */
  getMemberList(): string[] {
    this.core.checkOpen();
    return [...this.core.arrays.keys()];
  }

  /** True when the store holds an array of that name. */
  hasArray(name: string): boolean {
    this.core.checkOpen();
    return this.core.arrays.has(name);
  }

  /** Last change of an array, in microseconds since the epoch; undefined if missing. */
  getModifyTime(name: string): number | undefined {
    this.core.checkOpen();
    return this.core.arrays.get(name)?.entry.lastModified;
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
    this.core.checkOpen();
    const arrays: Record<string, NumPackArrayMetadata> = {};
    for (const [name, state] of this.core.arrays) {
      const { entry } = state;
      arrays[name] = {
        shape: [...entry.shape], logicalShape: state.logicalShape, deletedRows: state.bitmap?.deletedCount ?? 0, dataFile: entry.dataFile,
        lastModified: entry.lastModified, sizeBytes: entry.sizeBytes, dtype: entry.dtype, npkDtype: npkDtypeName(entry.dtype),
      };
    }
    return { arrays, baseDir: this.path, totalArrays: this.core.arrays.size };
  }

  /** True until `close()`. */
  get isOpen(): boolean { return this.core.isOpen; }

  /**
   * Closes files and releases the writer lock. Safe to call twice.
   *
   * @example
   * ```ts
   * await npk.close();
   * ```
   */
  async close(): Promise<void> {
    await this.core.close();
  }

  /**
   * Closes without publishing: staged changes are thrown away and the store stays as
   * last published. The converter's writer uses it on abort.
   *
   * @internal
   */
  async abandon(): Promise<void> {
    await this.core.abandon();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
