/**
 * The option and result types of a NumPack store's public API (`NumPack.open`,
 * `iterate`, `getMetadata`, `saveStream`).
 */
import type { DType } from '../core/dtype.js';
import type { MAX_TENSOR_BYTES, NPK_MAX_JOURNAL_BYTES, NPK_MAX_ROW_BYTES } from '../core/limits.js';

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
  /** Largest journal (`.tensio-journal`) an opener reads; a bigger one is refused (default {@link NPK_MAX_JOURNAL_BYTES}). */
  maxJournalBytes?: number;
  /**
   * Publish every change at `close()` only, as one atomic step (the converter's writer
   * uses this to replace a store as a whole). Arrays saved in the session cannot be read
   * before then.
   *
   * @internal
   */
  commitOnClose?: boolean;
}

/** The open options a store keeps, defaults filled in. */
export type NpkStoreSettings = Required<Omit<NumPackOpenOptions, 'dropIfExists' | 'readOnly'>>;

/** Options of `NumPack.load`. */
export interface NumPackLoadOptions {
  /** Read into fresh memory even where the array could be a view of a mapping of its file. */
  copy?: boolean;
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
