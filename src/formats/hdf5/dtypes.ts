/**
 * HDF5 datatypes ⇄ tensio dtypes. Pure: works on the type description libhdf5 gives.
 */
import type { DType } from '../../core/dtype.js';
import type { Hdf5TypeMetadata } from './types.js';

/** H5T class numbers (H5Tpublic.h). */
export const H5T_CLASS = {
  integer: 0, float: 1, time: 2, string: 3, bitfield: 4, opaque: 5, compound: 6, reference: 7, enum: 8, vlen: 9, array: 10,
} as const;

const CLASS_NAMES = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];

/** What a dataset's elements become in tensio, or why they cannot. */
export type Hdf5DtypeMapping =
  | { readonly dtype: DType; /** Extra trailing dimensions (an array-class element). */ readonly elementShape: readonly number[]; readonly formatDtype: string }
  | { readonly refusal: string; readonly formatDtype: string };

const INT_DTYPES: Record<number, [DType, DType]> = { 1: ['uint8', 'int8'], 2: ['uint16', 'int16'], 4: ['uint32', 'int32'], 8: ['uint64', 'int64'] };
const FLOAT_DTYPES: Record<number, DType> = { 2: 'float16', 4: 'float32', 8: 'float64' };

/**
 * A readable name for an HDF5 type, as in messages and `inspect`: `'<f4'`, `'>i8'`,
 * `'enum(int8)'`, `'compound'`, `'vlen string'`, `'array(<f8, [2,2])'`.
 *
 * @example
 * ```ts
 * hdf5TypeName({ type: 1, size: 4, littleEndian: false }); // '>f4'
 * ```
 */
export function hdf5TypeName(type: Hdf5TypeMetadata): string {
  const order = type.littleEndian === false ? '>' : '<';
  switch (type.type) {
    case H5T_CLASS.integer: return `${order}${type.signed ? 'i' : 'u'}${type.size}`;
    case H5T_CLASS.float: return `${order}f${type.size}`;
    case H5T_CLASS.string: return type.vlen ? 'vlen string' : `string(${type.size})`;
    case H5T_CLASS.enum: return type.enum_type ? `enum(${hdf5TypeName({ ...type, type: type.enum_type.type })})` : 'enum';
    case H5T_CLASS.array: return type.array_type ? `array(${hdf5TypeName(type.array_type)}, [${(type.array_type.shape ?? []).join(',')}])` : 'array';
    case H5T_CLASS.vlen: return type.vlen_type ? `vlen(${hdf5TypeName(type.vlen_type)})` : 'vlen';
    default: return `${CLASS_NAMES[type.type] ?? `class ${type.type}`}(${type.size} bytes)`;
  }
}

/** True for h5py's boolean: a 1-byte enum with exactly FALSE = 0 and TRUE = 1. */
function isH5pyBool(type: Hdf5TypeMetadata): boolean {
  const members = type.enum_type?.members;
  if (!members || type.size !== 1) return false;
  const names = Object.keys(members);
  return names.length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

/**
 * The tensio dtype of an HDF5 type. Integers, IEEE floats (float16 included: h5py
 * writes it as a custom 2-byte float), h5py's boolean enum, other enums as their base
 * integer and bitfields as unsigned integers (as h5py reads them; enum names stay in
 * `extras`), and arrays of those (their
 * dimensions become trailing axes). Big-endian types map too: libhdf5 converts them to
 * little-endian on read. Everything else (strings, compound, vlen, opaque, references,
 * time) is refused with its HDF5 type name.
 *
 * @example
 * ```ts
 * hdf5Dtype({ type: 1, size: 2 }); // { dtype: 'float16', elementShape: [], formatDtype: '<f2' }
 * ```
 */
export function hdf5Dtype(type: Hdf5TypeMetadata): Hdf5DtypeMapping {
  const formatDtype = hdf5TypeName(type);
  switch (type.type) {
    case H5T_CLASS.integer: {
      const pair = INT_DTYPES[type.size];
      return pair ? { dtype: pair[type.signed ? 1 : 0], elementShape: [], formatDtype } : { refusal: `${type.size}-byte integers have no tensio dtype`, formatDtype };
    }
    case H5T_CLASS.bitfield: {
      // h5py reads a bitfield as the unsigned integer of its size.
      const pair = INT_DTYPES[type.size];
      return pair ? { dtype: pair[0], elementShape: [], formatDtype } : { refusal: `${type.size}-byte bitfields have no tensio dtype`, formatDtype };
    }
    case H5T_CLASS.float: {
      const dtype = FLOAT_DTYPES[type.size];
      return dtype ? { dtype, elementShape: [], formatDtype } : { refusal: `${type.size}-byte floats have no tensio dtype`, formatDtype };
    }
    case H5T_CLASS.enum: {
      if (isH5pyBool(type)) return { dtype: 'bool', elementShape: [], formatDtype };
      const base = type.enum_type ? hdf5Dtype({ ...type, type: type.enum_type.type, signed: type.signed ?? false }) : undefined;
      return base && 'dtype' in base ? { ...base, formatDtype } : { refusal: `enum ${formatDtype} has no integer base tensio reads`, formatDtype };
    }
    case H5T_CLASS.array: {
      const element = type.array_type;
      if (!element) return { refusal: 'array type without an element type', formatDtype };
      const inner = hdf5Dtype(element);
      if (!('dtype' in inner)) return { refusal: `array of ${inner.formatDtype}: ${inner.refusal}`, formatDtype };
      return { dtype: inner.dtype, elementShape: [...(element.shape ?? []).map(Number), ...inner.elementShape], formatDtype };
    }
    default:
      return { refusal: `HDF5 ${formatDtype} elements have no tensio dtype (tensio reads numeric datasets only)`, formatDtype };
  }
}
