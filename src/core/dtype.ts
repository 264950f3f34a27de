/**
 * tensio's element types. One string union for the whole library; each format keeps
 * its own table mapping these names to its own (safetensors `BF16`, numpy `<f2`, …).
 */
import { BLOCK_DTYPE_INFO, BLOCK_DTYPES, type BlockDType } from './block-dtypes.js';

/**
 * Every element type tensio knows. Types no JavaScript typed array holds (bfloat16,
 * the float8s, the sub-byte floats) travel as raw little-endian bytes; converting them
 * to float32 is an explicit call ({@link toFloat32Array}). Block-quantized types
 * ({@link BlockDType}: ggml's `q4_0`, `q4_k`, `iq2_xxs`, `mxfp4`, …) store elements in
 * fixed-size blocks along the last axis; their blocks travel unchanged. `'opaque'`
 * carries a foreign dtype tensio does not know, byte for byte, with the format's own
 * name (and id, when it has one) kept beside it (`TensorInfo.formatDtype`, `formatDtypeId`).
 */
export type DType =
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'uint64'
  | 'int64'
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128'
  | 'float8_e4m3fn'
  | 'float8_e5m2'
  | 'float8_e4m3fnuz'
  | 'float8_e5m2fnuz'
  | 'float8_e8m0'
  | 'float6_e2m3'
  | 'float6_e3m2'
  | 'float4_e2m1'
  | BlockDType
  | 'opaque';

/** What kind of number a dtype stores. */
export type DTypeKind = 'bool' | 'uint' | 'int' | 'float' | 'complex' | 'block' | 'opaque';

/** Facts about one dtype. */
export interface DTypeInfo {
  /**
   * Bits per element; sub-byte types pack several elements per byte. 0 for `opaque` and
   * for block-quantized types (whose size comes from {@link DTypeInfo.block}).
   */
  readonly bits: number;
  readonly kind: DTypeKind;
  /** Block geometry of a block-quantized type (kind `'block'`). */
  readonly block?: { readonly elements: number; readonly bytes: number };
  /** Typed array that holds one element per slot, when JavaScript has one. */
  readonly typedArray?: TypedArrayConstructor;
}

/** Typed arrays tensio hands out as views. */
export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** Constructor of a {@link TypedArray}. */
export type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** The table behind {@link dtypeInfo}. Complex types view as interleaved (re, im) floats. */
export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  bool: { bits: 8, kind: 'bool', typedArray: Uint8Array },
  uint8: { bits: 8, kind: 'uint', typedArray: Uint8Array },
  int8: { bits: 8, kind: 'int', typedArray: Int8Array },
  uint16: { bits: 16, kind: 'uint', typedArray: Uint16Array },
  int16: { bits: 16, kind: 'int', typedArray: Int16Array },
  uint32: { bits: 32, kind: 'uint', typedArray: Uint32Array },
  int32: { bits: 32, kind: 'int', typedArray: Int32Array },
  uint64: { bits: 64, kind: 'uint', typedArray: BigUint64Array },
  int64: { bits: 64, kind: 'int', typedArray: BigInt64Array },
  float16: { bits: 16, kind: 'float', typedArray: Uint16Array },
  bfloat16: { bits: 16, kind: 'float', typedArray: Uint16Array },
  float32: { bits: 32, kind: 'float', typedArray: Float32Array },
  float64: { bits: 64, kind: 'float', typedArray: Float64Array },
  complex64: { bits: 64, kind: 'complex', typedArray: Float32Array },
  complex128: { bits: 128, kind: 'complex', typedArray: Float64Array },
  float8_e4m3fn: { bits: 8, kind: 'float', typedArray: Uint8Array },
  float8_e5m2: { bits: 8, kind: 'float', typedArray: Uint8Array },
  float8_e4m3fnuz: { bits: 8, kind: 'float', typedArray: Uint8Array },
  float8_e5m2fnuz: { bits: 8, kind: 'float', typedArray: Uint8Array },
  float8_e8m0: { bits: 8, kind: 'float', typedArray: Uint8Array },
  float6_e2m3: { bits: 6, kind: 'float' },
  float6_e3m2: { bits: 6, kind: 'float' },
  float4_e2m1: { bits: 4, kind: 'float' },
  ...(Object.fromEntries(BLOCK_DTYPES.map((name) => [name, {
    bits: 0,
    kind: 'block',
    block: { elements: BLOCK_DTYPE_INFO[name].elementsPerBlock, bytes: BLOCK_DTYPE_INFO[name].bytesPerBlock },
  }])) as Record<BlockDType, DTypeInfo>),
  opaque: { bits: 0, kind: 'opaque' },
};

/** All dtype names, in the order of {@link DTYPE_INFO}. */
export const DTYPES: readonly DType[] = Object.keys(DTYPE_INFO) as DType[];

/** True if `name` is one of tensio's dtype names. */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_INFO, name);
}

/**
 * Facts about a dtype: bits per element, kind, typed array.
 *
 * @example
 * ```ts
 * dtypeInfo('bfloat16').bits; // 16
 * ```
 */
export function dtypeInfo(dtype: DType): DTypeInfo {
  return DTYPE_INFO[dtype];
}

/**
 * Bytes per element, or `undefined` for sub-byte, block-quantized and opaque types
 * (whose byte length comes from the bit count of the whole tensor, from the block
 * geometry, or from the file).
 *
 * @example
 * ```ts
 * itemSize('float32'); // 4
 * itemSize('float4_e2m1'); // undefined
 * ```
 */
export function itemSize(dtype: DType): number | undefined {
  const bits = DTYPE_INFO[dtype].bits;
  return bits > 0 && bits % 8 === 0 ? bits / 8 : undefined;
}
