/**
 * Checked size arithmetic. Every size derived from a file goes through here, so a
 * hostile shape or offset becomes a {@link TensioError}, never a wrong allocation.
 */
import { TensioError } from './errors.js';
import { DTYPE_INFO, type DType } from './dtype.js';

/**
 * Throws `SIZE_OVERFLOW` unless `value` is a non-negative safe integer.
 *
 * @example
 * ```ts
 * checkedSize(2 ** 53, 'safetensors', 'offset'); // throws SIZE_OVERFLOW
 * ```
 */
export function checkedSize(value: number | bigint, format: string, what: string): number {
  const asNumber = typeof value === 'bigint' ? Number(value) : value;
  if (typeof value === 'bigint' ? value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER) : !Number.isSafeInteger(value) || value < 0) {
    throw new TensioError('SIZE_OVERFLOW', `${format}: ${what} ${String(value)} is not a safe non-negative integer`, { format });
  }
  return asNumber;
}

/**
 * Product of a shape's dimensions as a checked safe integer. `[]` (a scalar) has one element.
 *
 * @example
 * ```ts
 * elementCount([2, 3]); // 6
 * ```
 */
export function elementCount(shape: readonly number[], format = 'tensio'): number {
  let count = 1n;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new TensioError('INVALID_SHAPE', `${format}: dimension ${String(dim)} is not a non-negative integer`, { format });
    }
    count *= BigInt(dim);
  }
  return checkedSize(count, format, 'element count');
}

/**
 * Bytes a dense tensor of this dtype and shape occupies, checked. Sub-byte types must
 * fill whole bytes (as safetensors requires). Block-quantized types need a last
 * dimension that is a whole number of blocks (`INVALID_SHAPE` otherwise; a scalar has
 * none). Returns `undefined` for `opaque`.
 *
 * @example
 * ```ts
 * tensorByteLength('bfloat16', [4, 4]); // 32
 * tensorByteLength('q4_0', [2, 64]); // 2 rows × 2 blocks × 18 bytes = 72
 * ```
 */
export function tensorByteLength(dtype: DType, shape: readonly number[], format = 'tensio'): number | undefined {
  const info = DTYPE_INFO[dtype];
  if (info.block) {
    const count = elementCount(shape, format);
    const last = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    if (last % info.block.elements !== 0) {
      throw new TensioError('INVALID_SHAPE', `${format}: ${dtype} packs ${info.block.elements} elements per block along the last axis, but shape [${shape.join(', ')}] has ${shape.length === 0 ? 'no last axis' : `a last dimension of ${last}`}`, { format });
    }
    return checkedSize((BigInt(count) / BigInt(info.block.elements)) * BigInt(info.block.bytes), format, 'tensor byte length');
  }
  const bits = info.bits;
  if (bits === 0) return undefined;
  const totalBits = BigInt(elementCount(shape, format)) * BigInt(bits);
  if (totalBits % 8n !== 0n) {
    throw new TensioError('SIZE_MISMATCH', `${format}: ${dtype} tensor of shape [${shape.join(', ')}] does not fill whole bytes (${totalBits} bits)`, { format });
  }
  return checkedSize(totalBits / 8n, format, 'tensor byte length');
}
