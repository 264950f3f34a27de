/**
 * NumPack's dtype codes (the `u8` after `size_bytes` in every metadata entry) and the
 * enum names `get_metadata()` shows. Fourteen codes, nothing else: an unknown code is an
 * error, never silently int32 as NumPack's reader makes it.
 */
import type { DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { quoteInput } from '../core/quote.js';

/** tensio dtype per NumPack code, index = code. */
const NPK_CODE_DTYPES: readonly DType[] = [
  'bool', 'uint8', 'uint16', 'uint32', 'uint64',
  'int8', 'int16', 'int32', 'int64',
  'float16', 'float32', 'float64', 'complex64', 'complex128',
];

/** NumPack's Rust enum names, index = code (what `get_metadata()` shows). */
const NPK_CODE_NAMES: readonly string[] = [
  'Bool', 'Uint8', 'Uint16', 'Uint32', 'Uint64',
  'Int8', 'Int16', 'Int32', 'Int64',
  'Float16', 'Float32', 'Float64', 'Complex64', 'Complex128',
];

/** The dtypes a NumPack store can hold, in code order. */
export const NPK_DTYPES: readonly DType[] = NPK_CODE_DTYPES;

/**
 * The NumPack code of a tensio dtype; throws `UNSUPPORTED_DTYPE` for the others
 * (bfloat16, float8, opaque…), as NumPack's `save` refuses them.
 *
 * @example
 * ```ts
 * npkDtypeCode('float32'); // 10
 * ```
 */
export function npkDtypeCode(dtype: DType): number {
  const code = NPK_CODE_DTYPES.indexOf(dtype);
  if (code < 0) {
    throw new TensioError('UNSUPPORTED_DTYPE', `npk: dtype ${dtype} cannot be stored; NumPack holds ${NPK_CODE_DTYPES.join(', ')}`, { format: 'npk' });
  }
  return code;
}

/**
 * The tensio dtype of a NumPack code; throws `UNSUPPORTED_DTYPE` for codes above 13.
 *
 * @example
 * ```ts
 * npkDtypeFromCode(13); // 'complex128'
 * ```
 */
export function npkDtypeFromCode(code: number, arrayName = '?'): DType {
  const dtype = NPK_CODE_DTYPES[code];
  if (dtype === undefined) {
    throw new TensioError('UNSUPPORTED_DTYPE', `npk: array ${quoteInput(arrayName)} has dtype code ${code}; known codes are 0..13`, { format: 'npk' });
  }
  return dtype;
}

/**
 * NumPack's enum name of a dtype (`'Float32'`), as `get_metadata()` reports it.
 *
 * @example
 * ```ts
 * npkDtypeName('bool'); // 'Bool'
 * ```
 */
export function npkDtypeName(dtype: DType): string {
  return NPK_CODE_NAMES[npkDtypeCode(dtype)]!;
}

/** True when a NumPack store can hold this dtype. */
export function npkSupportsDtype(dtype: DType): boolean {
  return NPK_CODE_DTYPES.includes(dtype);
}
