/**
 * Types of the NumPy `.npz` format: a zip of `<key>.npy` members.
 */
import type { NpyReadOptions } from '../npy/types.js';

/** Options for opening a `.npz`. */
export interface NpzOpenOptions extends Omit<NpyReadOptions, 'format'> {
  /** Most zip members accepted (default ZIP_MAX_ENTRIES). */
  maxEntries?: number;
  /** Largest expanded member (default ZIP_MAX_ENTRY_BYTES). */
  maxEntryBytes?: number;
  /** Check CRC-32 of members that are decoded (deflated or converted). Default true. */
  checkCrc?: boolean;
  /**
   * Read a `scipy.sparse.save_npz` file as its one sparse tensor (`sparse`: CSR, or COO
   * for COO and CSC). Default true; false lists its members as they are.
   */
  scipySparse?: boolean;
  signal?: AbortSignal;
}

/** Options for writing a `.npz`. */
export interface NpzWriteOptions {
  /** Deflate each member, like `np.savez_compressed`. Default false (stored, like `np.savez`). */
  compress?: boolean;
  /** Replace an existing file. Default true. */
  overwrite?: boolean;
  signal?: AbortSignal;
}

/** The npz reader's `formatOptions` (`openTensorFile`, `verifyTensorFile`, convert's `readOptions`). */
export type NpzOpenFormatOptions = Omit<NpzOpenOptions, 'signal'>;

/** The npz writer's `formatOptions` (convert's `writeOptions`). */
export type NpzWriteFormatOptions = Pick<NpzWriteOptions, 'compress'>;
