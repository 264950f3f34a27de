/**
 * The dtypes a table column holds and the matching `cannotWrite`: what the registry's
 * cheap Arrow and Parquet entries need, apart from the table machinery (`table.ts`).
 */
import { blockDTypeRefusal } from '../core/block-dtypes.js';
import type { DType } from '../core/dtype.js';
import type { TensorSpec } from './types.js';

/** Dtypes a table column can hold as numbers (what Arrow, Parquet and CSV share with NumPy). */
export const TABLE_DTYPES: readonly DType[] = [
  'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64',
];

/**
 * Why a table format cannot hold a tensor of this spec, or undefined when it can.
 *
 * @example
 * ```ts
 * tableCannotWrite({ name: 'z', dtype: 'complex64', shape: [4] }); // 'table columns hold …'
 * ```
 */
export function tableCannotWrite(spec: TensorSpec): string | undefined {
  const blocks = blockDTypeRefusal(spec.dtype, 'a table column');
  if (blocks) return blocks;
  if (!TABLE_DTYPES.includes(spec.dtype)) {
    return `table columns hold ${TABLE_DTYPES.join(', ')}; ${spec.dtype} has no column type (cast it with --dtype)`;
  }
  return undefined;
}
