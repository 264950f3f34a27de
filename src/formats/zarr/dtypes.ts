/**
 * Zarr's data type names (v2 `'<f4'`, v3 `float32`) and tensio's dtypes: the tables the
 * metadata parser and the registry's cheap `cannotWrite` share.
 */
import { itemSize, type DType } from '../../core/dtype.js';

/** v2 dtype kinds (the `f4` of `'<f4'`) and the tensio dtype of each. */
export const V2_KINDS: Record<string, DType> = {
  b1: 'bool', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64',
  f2: 'float16', f4: 'float32', f8: 'float64', c8: 'complex64', c16: 'complex128',
};
/** v3 `data_type` names and the tensio dtype of each. */
export const V3_TYPES: Record<string, DType> = {
  bool: 'bool', int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64',
  float16: 'float16', float32: 'float32', float64: 'float64', complex64: 'complex64', complex128: 'complex128', bfloat16: 'bfloat16',
};

/** The v2 dtype string (`'<f4'`) of a tensio dtype, or undefined when v2 has none. */
export function zarrV2Dtype(dtype: DType): string | undefined {
  const entry = Object.entries(V2_KINDS).find(([, value]) => value === dtype);
  if (!entry) return undefined;
  return `${itemSize(dtype)! === 1 ? '|' : '<'}${entry[0]}`;
}

/** The v3 `data_type` of a tensio dtype, or undefined. */
export function zarrV3Dtype(dtype: DType): string | undefined {
  return Object.keys(V3_TYPES).find((name) => V3_TYPES[name] === dtype);
}
