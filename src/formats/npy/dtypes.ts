/**
 * NumPy `descr` strings and tensio dtypes: the one table both directions use.
 */
import { isDType, itemSize as dtypeItemSize, type DType } from '../../core/dtype.js';
import { TensioError, errorFactory } from '../../core/errors.js';
import { npyIsLiteralTuple, type NpyLiteral } from './literal.js';
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import { quoteInput } from '../../core/quote.js';

/** The descr numpy writes for each dtype it has (little-endian where byte order matters). */
export const NPY_DESCR_BY_DTYPE: Readonly<Partial<Record<DType, string>>> = {
  bool: '|b1',
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  uint32: '<u4',
  int32: '<i4',
  uint64: '<u8',
  int64: '<i8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  complex64: '<c8',
  complex128: '<c16',
};

const DTYPE_BY_CODE: Readonly<Record<string, DType>> = {
  b1: 'bool', u1: 'uint8', i1: 'int8', u2: 'uint16', i2: 'int16', u4: 'uint32', i4: 'int32',
  u8: 'uint64', i8: 'int64', f2: 'float16', f4: 'float32', f8: 'float64', c8: 'complex64', c16: 'complex128',
};

/** A descr understood: tensio's dtype, item size, and whether bytes must be swapped. */
export interface NpyDtype {
  dtype: DType;
  itemSize: number;
  /** Big-endian data (`>`), swapped to little-endian on read. */
  bigEndian: boolean;
  /** Bytes per swapped unit: the item size, or half of it for complex. 1 when nothing swaps. */
  swapUnit: number;
}

/**
 * The descr numpy would write for a dtype, or undefined when numpy has none
 * (bfloat16, the float8s and sub-byte floats have no standard numpy descr).
 *
 * @example
 * ```ts
 * npyDescrFor('float32'); // '<f4'
 * ```
 */
export function npyDescrFor(dtype: DType): string | undefined {
  return NPY_DESCR_BY_DTYPE[dtype];
}

/** Why numpy cannot hold this dtype, or undefined when it can. */
export function npyCannotWrite(dtype: DType): string | undefined {
  if (npyDescrFor(dtype) !== undefined) return undefined;
  const block = blockDTypeRefusal(dtype, 'NumPy');
  if (block) return block;
  if (dtype === 'opaque') return 'opaque bytes (a dtype tensio does not know) cannot be written to .npy/.npz by tensio';
  return `NumPy has no standard dtype for ${dtype}; write safetensors (or another format that knows ${dtype}) instead`;
}

/**
 * What to do with a void array tensio reads as opaque: the item sizes ml_dtypes uses
 * for bfloat16 and the float8 types say which `voidDtype` is likely meant.
 *
 * @example
 * ```ts
 * npyVoidAdvice(2); // "… read it as bfloat16 (voidDtype: 'bfloat16', CLI --void-dtype bfloat16)"
 * ```
 */
export function npyVoidAdvice(itemSize: number): string {
  const guess = itemSize === 2 ? 'bfloat16' : itemSize === 1 ? 'float8_e4m3fn' : undefined;
  const saved = itemSize === 2 ? "ml_dtypes' bfloat16" : itemSize === 1 ? "ml_dtypes' float8 types" : undefined;
  if (!guess) return `a ${itemSize}-byte void array; if you know its dtype, read it with voidDtype (CLI --void-dtype DTYPE)`;
  return `numpy saves ${saved} as ${itemSize}-byte void; if that is what it holds, read it as ${guess} (voidDtype: '${guess}', CLI --void-dtype ${guess})`;
}

function hasObject(descr: NpyLiteral): boolean {
  if (typeof descr === 'string') return /^[<>|=]?O\d*$/.test(descr);
  if (Array.isArray(descr)) {
    return descr.some((field) => npyIsLiteralTuple(field) && field.items.length >= 2 && hasObject(field.items[1]!));
  }
  return false;
}

/**
 * Interprets a header's `descr`. Object dtypes (whose data is a pickle) throw
 * `UNSAFE_PICKLE`; structured, string, datetime and other dtypes throw
 * `UNSUPPORTED_DTYPE`. A plain void `|Vn` (what numpy writes for ml_dtypes' bfloat16,
 * for instance) is carried as `opaque` bytes with its descr kept.
 *
 * @example
 * ```ts
 * npyDtypeFromDescr('>i4'); // { dtype: 'int32', itemSize: 4, bigEndian: true, swapUnit: 4 }
 * ```
 */
export function npyDtypeFromDescr(descr: NpyLiteral, format = 'npy', voidDtype?: DType): NpyDtype {
  const fail = errorFactory(format);
  if (hasObject(descr)) {
    fail('UNSAFE_PICKLE', `${format}: the array has an object dtype (${describe(descr)}); its data is a pickle, which tensio never loads (numpy too refuses it unless allow_pickle=True)`);
  }
  if (Array.isArray(descr)) fail('UNSUPPORTED_DTYPE', `${format}: structured dtypes (${describe(descr)}) are not supported; save each field as its own array`);
  if (typeof descr !== 'string') return fail('INVALID_HEADER', `${format}: descr must be a string, got ${describe(descr)}`);
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!match) return fail('UNSUPPORTED_DTYPE', `${format}: dtype ${quoteInput(descr)} is not supported (only bool, integer, float and complex numbers)`);
  const [, order, kind, size] = match as unknown as [string, string, string, string];
  const itemSize = Number(size);
  if (kind === 'V' && itemSize > 0 && itemSize <= 2 ** 16) {
    if (voidDtype === undefined) return { dtype: 'opaque', itemSize, bigEndian: false, swapUnit: 1 };
    const wanted = isDType(voidDtype) ? dtypeItemSize(voidDtype) : undefined;
    if (wanted !== itemSize) {
      fail('INVALID_ARGUMENT', `${format}: cannot read ${quoteInput(descr)} (${itemSize}-byte void) as ${String(voidDtype)}${wanted === undefined ? ', which is not a whole-byte tensio dtype' : `, whose items are ${wanted} bytes`}`);
    }
    // ml_dtypes writes native (little-endian) bytes and numpy marks voids '|' or '<'.
    return { dtype: voidDtype, itemSize, bigEndian: false, swapUnit: 1 };
  }
  const dtype = DTYPE_BY_CODE[`${kind}${size}`];
  if (!dtype) {
    const what = kind === 'S' || kind === 'a' ? 'byte strings' : kind === 'U' ? 'unicode strings' : kind === 'M' || kind === 'm' ? 'datetimes' : kind === 'f' || kind === 'c' ? 'this float width' : 'this kind';
    return fail('UNSUPPORTED_DTYPE', `${format}: dtype ${quoteInput(descr)} is not supported (${what}); tensio reads bool, integer, float16/32/64 and complex64/128 arrays`);
  }
  const bigEndian = order === '>' && itemSize > 1;
  const swapUnit = bigEndian ? (kind === 'c' ? itemSize / 2 : itemSize) : 1;
  return { dtype, itemSize, bigEndian, swapUnit };
}

function describe(value: NpyLiteral): string {
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * An array whose dtype tensio cannot hold (`UNSUPPORTED_DTYPE`, or `UNSAFE_PICKLE` for
 * object arrays), carrying the header's `descr` so a container (`.npz`) can list the
 * member instead of failing whole.
 */
export class NpyDtypeError extends TensioError {
  /** The `descr` as numpy writes it: `'<U5'`, `'|O'`, or a structured list as JSON. */
  readonly descr: string;

  constructor(error: TensioError, descr: NpyLiteral) {
    super(error.code, error.message, { format: error.format, cause: error.cause });
    this.descr = typeof descr === 'string' ? descr : describe(descr);
  }
}
