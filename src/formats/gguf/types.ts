/**
 * Types of the GGUF format (llama.cpp, ggml): a header of typed key/value metadata and
 * tensor infos, then aligned tensor data. See `../shared/reference/formats.md` §3.
 */

/** GGUF metadata value type names, in the order of their ids (0 … 12). */
export const GGUF_VALUE_TYPES = [
  'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64',
] as const;

/** A GGUF metadata value type: `'uint32'`, `'string'`, `'array'`, … (id = index in {@link GGUF_VALUE_TYPES}). */
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/**
 * The items of a GGUF array, typed as stored: numeric arrays as the matching typed
 * array (a `u32` array is a `Uint32Array`, an `i64` array a `BigInt64Array`), bools as
 * `boolean[]`, strings as `string[]`, arrays of arrays as {@link GgufArray}`[]`.
 */
export type GgufArrayItems =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array
  | BigUint64Array | BigInt64Array | Float64Array
  | boolean[] | string[] | GgufArray[];

/** A GGUF array value: its item type and its items. */
export interface GgufArray {
  readonly itemType: GgufValueType;
  readonly items: GgufArrayItems;
}

/**
 * A typed GGUF value. Integers up to 32 bits and floats are numbers, 64-bit integers
 * bigints, bools booleans, strings strings, arrays {@link GgufArray}s.
 */
export type GgufTypedValue =
  | { readonly type: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64'; readonly value: number }
  | { readonly type: 'uint64' | 'int64'; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly value: GgufArray };

/** One tensor as the GGUF header describes it (ggml order: `ne[0]` first). */
export interface GgufTensorInfo {
  readonly name: string;
  /** ggml's `ne`: `ne[0]` varies fastest. NumPy's shape is this reversed. */
  readonly ne: readonly number[];
  /** ggml type id (`enum ggml_type`). */
  readonly ggmlType: number;
  /** Offset from the start of the data section. */
  readonly offset: number;
  /**
   * Bytes of data. For a type id tensio does not know, the gap to the next tensor (or to
   * the end of the file), with {@link GgufTensorInfo.byteLengthInferred} set.
   */
  readonly byteLength: number;
  /** True when `byteLength` was taken from the offsets because the type id is unknown. */
  readonly byteLengthInferred?: boolean;
}

/** A parsed GGUF header. */
export interface GgufHeader {
  readonly version: number;
  /** True for a big-endian file (every header field and multi-byte tensor element big-endian). */
  readonly bigEndian: boolean;
  /** Metadata in file order, typed. */
  readonly metadata: ReadonlyMap<string, GgufTypedValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** `general.alignment` or the default 32. */
  readonly alignment: number;
  /** Bytes of the header (magic to the end of the last tensor info), before padding. */
  readonly headerBytes: number;
  /** Absolute offset of the data section (header padded to the alignment). */
  readonly dataStart: number;
}

/** Limits of the GGUF reader; each defaults to the named constant in `src/core/limits.ts`. */
export interface GgufReadOptions {
  /** Longest string (key, value or tensor name) in bytes (`GGUF_MAX_STRING_BYTES`). */
  maxStringBytes?: number;
  /** Most items in one array (`GGUF_MAX_ARRAY_LENGTH`). */
  maxArrayLength?: number;
  /** Deepest array nesting (`GGUF_MAX_ARRAY_DEPTH`). */
  maxArrayDepth?: number;
  /** Most metadata keys (`GGUF_MAX_KV_COUNT`). */
  maxKeys?: number;
  /** Most tensors (`GGUF_MAX_TENSORS`). */
  maxTensors?: number;
  /** Largest header, metadata and tensor infos together (`GGUF_MAX_HEADER_BYTES`). */
  maxHeaderBytes?: number;
  /** Most dimensions of one tensor (`GGUF_MAX_DIMS`, ggml's `GGML_MAX_DIMS`). */
  maxDims?: number;
  /** Longest tensor name in bytes (`GGUF_MAX_NAME_BYTES`, ggml's `GGML_MAX_NAME - 1`). */
  maxNameBytes?: number;
  /** Largest `general.alignment` (`GGUF_MAX_ALIGNMENT`). */
  maxAlignment?: number;
}

/** Options of `ggufOpen`. */
export interface GgufOpenOptions extends GgufReadOptions {
  signal?: AbortSignal;
  /** Open the other files of a split model (`-00001-of-00003.gguf`) as one (default true). */
  followSplits?: boolean;
  /** First read of the header in bytes; reads grow (doubling) until the header fits. Default 1 MiB. */
  initialReadBytes?: number;
}
