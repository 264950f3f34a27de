/**
 * Pure checks of a parsed `.npy` header dict, mirroring numpy's `_read_array_header`:
 * exactly the keys descr/fortran_order/shape, a tuple of ints, a bool, a known descr.
 */
import type { DType } from '../../core/dtype.js';
import { errorFactory, isTensioError } from '../../core/errors.js';
import { MAX_RANK } from '../../core/limits.js';
import { elementCount } from '../../core/sizes.js';
import { NpyDtypeError, npyDtypeFromDescr } from './dtypes.js';
import { npyIsLiteralDict, npyIsLiteralTuple, type NpyLiteral } from './literal.js';
import type { NpyReadOptions } from './types.js';
import { quoteInput, quoteValue } from '../../core/quote.js';

/** The checked fields of a header dict. */
export interface NpyHeaderFields {
  descr: string;
  dtype: DType;
  itemSize: number;
  bigEndian: boolean;
  swapUnit: number;
  fortranOrder: boolean;
  shape: number[];
  count: number;
}

const EXPECTED_KEYS = ['descr', 'fortran_order', 'shape'];

/**
 * Checks a parsed header literal and extracts its fields.
 *
 * @example
 * ```ts
 * const fields = npyValidateHeaderDict(npyParseLiteral(text));
 * ```
 */
export function npyValidateHeaderDict(value: NpyLiteral, options: NpyReadOptions = {}): NpyHeaderFields {
  const format = options.format ?? 'npy';
  const fail = errorFactory(format);
  if (!npyIsLiteralDict(value)) return fail('INVALID_HEADER', `${format}: header is not a dictionary`);
  const fields = new Map<string, NpyLiteral>();
  for (const [key, item] of value.entries) {
    if (typeof key !== 'string' || !EXPECTED_KEYS.includes(key)) {
      return fail('INVALID_HEADER', `${format}: header has the unexpected key ${quoteValue(typeof key === 'bigint' ? key.toString() : key)} (expected exactly ${EXPECTED_KEYS.join(', ')})`);
    }
    if (fields.has(key)) fail('DUPLICATE_KEY', `${format}: header repeats the key ${quoteInput(key)}`);
    fields.set(key, item);
  }
  for (const key of EXPECTED_KEYS) {
    if (!fields.has(key)) fail('INVALID_HEADER', `${format}: header lacks the key ${quoteInput(key)}`);
  }
  const fortranOrder = fields.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') fail('INVALID_HEADER', `${format}: fortran_order must be True or False`);
  const shapeValue = fields.get('shape')!;
  if (!npyIsLiteralTuple(shapeValue)) return fail('INVALID_SHAPE', `${format}: shape must be a tuple of integers`);
  const maxRank = options.maxRank ?? MAX_RANK;
  if (shapeValue.items.length > maxRank) fail('INVALID_SHAPE', `${format}: rank ${shapeValue.items.length} exceeds the limit ${maxRank}`);
  const shape = shapeValue.items.map((dim, index) => {
    if (typeof dim !== 'bigint') return fail('INVALID_SHAPE', `${format}: shape entry ${index} is not an integer`);
    if (dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) return fail('INVALID_SHAPE', `${format}: shape entry ${index} is ${dim}, not a non-negative safe integer`);
    return Number(dim);
  });
  let dtype: ReturnType<typeof npyDtypeFromDescr>;
  try {
    dtype = npyDtypeFromDescr(fields.get('descr')!, format, options.voidDtype);
  } catch (error) {
    if (isTensioError(error, 'UNSUPPORTED_DTYPE', 'UNSAFE_PICKLE')) throw new NpyDtypeError(error, fields.get('descr')!);
    throw error;
  }
  const descr = fields.get('descr') as string;
  const count = elementCount(shape, format);
  return { descr, ...dtype, fortranOrder: fortranOrder as boolean, shape, count };
}
