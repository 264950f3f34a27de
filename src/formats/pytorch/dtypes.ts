/**
 * torch's element types as files name them: legacy storage classes (`torch.FloatStorage`)
 * and dtype globals (`torch.float8_e4m3fn`), mapped to tensio dtypes.
 */
import type { DType } from '../../core/dtype.js';
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import type { TensorSpec } from '../../model/types.js';

/** How one torch storage class or dtype maps to tensio. `opaque` keeps the bytes only. */
export interface PytorchDTypeEntry {
  readonly dtype: DType;
  readonly itemSize: number;
}

/** Legacy storage classes (`torch.<Name>`), formats.md §2.2. */
export const PYTORCH_STORAGE_CLASSES: Readonly<Record<string, PytorchDTypeEntry>> = {
  DoubleStorage: { dtype: 'float64', itemSize: 8 },
  FloatStorage: { dtype: 'float32', itemSize: 4 },
  HalfStorage: { dtype: 'float16', itemSize: 2 },
  BFloat16Storage: { dtype: 'bfloat16', itemSize: 2 },
  LongStorage: { dtype: 'int64', itemSize: 8 },
  IntStorage: { dtype: 'int32', itemSize: 4 },
  ShortStorage: { dtype: 'int16', itemSize: 2 },
  CharStorage: { dtype: 'int8', itemSize: 1 },
  ByteStorage: { dtype: 'uint8', itemSize: 1 },
  BoolStorage: { dtype: 'bool', itemSize: 1 },
  ComplexFloatStorage: { dtype: 'complex64', itemSize: 8 },
  ComplexDoubleStorage: { dtype: 'complex128', itemSize: 16 },
  QInt8Storage: { dtype: 'opaque', itemSize: 1 },
  QUInt8Storage: { dtype: 'opaque', itemSize: 1 },
  QInt32Storage: { dtype: 'opaque', itemSize: 4 },
  QUInt4x2Storage: { dtype: 'opaque', itemSize: 1 },
  QUInt2x4Storage: { dtype: 'opaque', itemSize: 1 },
};

/** torch dtype globals (`torch.<name>`, aliases included) that carry data tensio can read. */
export const PYTORCH_DTYPES: Readonly<Record<string, PytorchDTypeEntry>> = {
  float64: { dtype: 'float64', itemSize: 8 },
  double: { dtype: 'float64', itemSize: 8 },
  float32: { dtype: 'float32', itemSize: 4 },
  float: { dtype: 'float32', itemSize: 4 },
  float16: { dtype: 'float16', itemSize: 2 },
  half: { dtype: 'float16', itemSize: 2 },
  bfloat16: { dtype: 'bfloat16', itemSize: 2 },
  int64: { dtype: 'int64', itemSize: 8 },
  long: { dtype: 'int64', itemSize: 8 },
  int32: { dtype: 'int32', itemSize: 4 },
  int: { dtype: 'int32', itemSize: 4 },
  int16: { dtype: 'int16', itemSize: 2 },
  short: { dtype: 'int16', itemSize: 2 },
  int8: { dtype: 'int8', itemSize: 1 },
  uint8: { dtype: 'uint8', itemSize: 1 },
  uint16: { dtype: 'uint16', itemSize: 2 },
  uint32: { dtype: 'uint32', itemSize: 4 },
  uint64: { dtype: 'uint64', itemSize: 8 },
  bool: { dtype: 'bool', itemSize: 1 },
  complex64: { dtype: 'complex64', itemSize: 8 },
  cfloat: { dtype: 'complex64', itemSize: 8 },
  complex128: { dtype: 'complex128', itemSize: 16 },
  cdouble: { dtype: 'complex128', itemSize: 16 },
  float8_e4m3fn: { dtype: 'float8_e4m3fn', itemSize: 1 },
  float8_e5m2: { dtype: 'float8_e5m2', itemSize: 1 },
  float8_e4m3fnuz: { dtype: 'float8_e4m3fnuz', itemSize: 1 },
  float8_e5m2fnuz: { dtype: 'float8_e5m2fnuz', itemSize: 1 },
  float8_e8m0fnu: { dtype: 'float8_e8m0', itemSize: 1 },
  complex32: { dtype: 'opaque', itemSize: 4 },
  chalf: { dtype: 'opaque', itemSize: 4 },
  bits8: { dtype: 'opaque', itemSize: 1 },
  bits16: { dtype: 'opaque', itemSize: 2 },
  bits1x8: { dtype: 'opaque', itemSize: 1 },
  bits2x4: { dtype: 'opaque', itemSize: 1 },
  bits4x2: { dtype: 'opaque', itemSize: 1 },
  qint8: { dtype: 'opaque', itemSize: 1 },
  quint8: { dtype: 'opaque', itemSize: 1 },
  qint32: { dtype: 'opaque', itemSize: 4 },
  quint4x2: { dtype: 'opaque', itemSize: 1 },
  quint2x4: { dtype: 'opaque', itemSize: 1 },
  float4_e2m1fn_x2: { dtype: 'opaque', itemSize: 1 },
};

/** torch dtypes with no data layout tensio can size (sub-byte `uint1..7`/`int1..7`): allowed as globals only. */
export const PYTORCH_SIZELESS_DTYPES: readonly string[] = [
  'uint1', 'uint2', 'uint3', 'uint4', 'uint5', 'uint6', 'uint7',
  'int1', 'int2', 'int3', 'int4', 'int5', 'int6', 'int7',
];

/** How tensio writes each dtype: a legacy storage class (`_rebuild_tensor_v2`) or a dtype name (`_rebuild_tensor_v3`). */
export const PYTORCH_WRITE_DTYPES: Readonly<Partial<Record<DType, { storageClass?: string; dtypeName?: string; itemSize: number }>>> = {
  float64: { storageClass: 'DoubleStorage', itemSize: 8 },
  float32: { storageClass: 'FloatStorage', itemSize: 4 },
  float16: { storageClass: 'HalfStorage', itemSize: 2 },
  bfloat16: { storageClass: 'BFloat16Storage', itemSize: 2 },
  int64: { storageClass: 'LongStorage', itemSize: 8 },
  int32: { storageClass: 'IntStorage', itemSize: 4 },
  int16: { storageClass: 'ShortStorage', itemSize: 2 },
  int8: { storageClass: 'CharStorage', itemSize: 1 },
  uint8: { storageClass: 'ByteStorage', itemSize: 1 },
  bool: { storageClass: 'BoolStorage', itemSize: 1 },
  complex64: { storageClass: 'ComplexFloatStorage', itemSize: 8 },
  complex128: { storageClass: 'ComplexDoubleStorage', itemSize: 16 },
  float8_e4m3fn: { dtypeName: 'float8_e4m3fn', itemSize: 1 },
  float8_e5m2: { dtypeName: 'float8_e5m2', itemSize: 1 },
  float8_e4m3fnuz: { dtypeName: 'float8_e4m3fnuz', itemSize: 1 },
  float8_e5m2fnuz: { dtypeName: 'float8_e5m2fnuz', itemSize: 1 },
  float8_e8m0: { dtypeName: 'float8_e8m0fnu', itemSize: 1 },
  uint16: { dtypeName: 'uint16', itemSize: 2 },
  uint32: { dtypeName: 'uint32', itemSize: 4 },
  uint64: { dtypeName: 'uint64', itemSize: 8 },
};

/**
 * Why torch cannot hold a tensor of this spec, or undefined when it can.
 *
 * @example
 * ```ts
 * pytorchCannotWrite({ name: 'x', dtype: 'float4_e2m1', shape: [4] }); // 'torch has no …'
 * ```
 */
export function pytorchCannotWrite(spec: TensorSpec): string | undefined {
  if (!PYTORCH_WRITE_DTYPES[spec.dtype]) return blockDTypeRefusal(spec.dtype, 'torch') ?? `torch has no dtype tensio can write for ${spec.dtype}`;
  return undefined;
}
