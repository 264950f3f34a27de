/**
 * Types of the NumPy `.npy` format: one array per file, a Python-literal header.
 */
import type { DType } from '../../core/dtype.js';

/** `.npy` format versions: 1.0 (u16 header length), 2.0 (u32), 3.0 (u32, UTF-8 header). */
export type NpyVersion = readonly [1 | 2 | 3, 0];

/** A parsed and checked `.npy` header. */
export interface NpyHeader {
  readonly version: NpyVersion;
  /** The header's `descr` string, e.g. `'<f4'`, `'>i8'`, `'|b1'`. */
  readonly descr: string;
  readonly dtype: DType;
  readonly itemSize: number;
  /** Data is big-endian and is swapped on read. */
  readonly bigEndian: boolean;
  /** Bytes per swapped unit (item size, or half of it for complex); 1 when nothing swaps. */
  readonly swapUnit: number;
  /** Data is column-major and is transposed to C order on read. */
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Bytes of the header text (after the length field). */
  readonly headerLength: number;
  /** Offset of the array data from the start of the `.npy` bytes. */
  readonly dataOffset: number;
  /** Bytes of the array data. */
  readonly byteLength: number;
}

/** Limits and names for reading `.npy`. */
export interface NpyReadOptions {
  /** Largest header accepted (default NPY_MAX_HEADER_BYTES). */
  maxHeaderBytes?: number;
  /** Highest rank accepted (default MAX_RANK). */
  maxRank?: number;
  /** Format name for errors (`'npz'` when reading a member). */
  format?: string;
  /**
   * Read a plain void array (`|Vn`/`<Vn`) as this dtype instead of `opaque`: numpy
   * saves ml_dtypes' bfloat16 as `<V2` and its float8 types as `<V1`. The dtype's item
   * size must be n (`INVALID_ARGUMENT` otherwise).
   */
  voidDtype?: DType;
}

/** Options for opening a `.npy` file as a TensorReader. */
export interface NpyOpenOptions extends NpyReadOptions {
  /** Name of the one tensor a `.npy` holds. Default `'data'` (as NumPack names it). */
  arrayName?: string;
  signal?: AbortSignal;
}

/** Options for writing `.npy`. */
export interface NpyWriteOptions {
  /** Force a format version; default: 1.0, or 2.0 when the header does not fit 1.0. */
  version?: NpyVersion;
}

/** The npy reader's `formatOptions` (`openTensorFile`, convert's `readOptions`). */
export type NpyOpenFormatOptions = Omit<NpyOpenOptions, 'signal'>;

/** The npy writer's `formatOptions` (convert's `writeOptions`). */
export type NpyWriteFormatOptions = Omit<NpyWriteOptions, never>;
