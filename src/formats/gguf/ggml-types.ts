/**
 * ggml type ids (`enum ggml_type`) and tensio dtypes: plain element types map to their
 * dtype, block-quantized ones to the block dtypes of `src/core/block-dtypes.ts`; removed
 * and future ids stay `opaque` with their id.
 */
import { BLOCK_DTYPE_INFO, blockDTypeOfGgmlType, isBlockDType } from '../../core/block-dtypes.js';
import type { DType } from '../../core/dtype.js';

/** ggml's plain (one element per slot) types: id → [ggml name, tensio dtype]. */
const PLAIN: ReadonlyMap<number, readonly [string, DType]> = new Map([
  [0, ['F32', 'float32']],
  [1, ['F16', 'float16']],
  [24, ['I8', 'int8']],
  [25, ['I16', 'int16']],
  [26, ['I32', 'int32']],
  [27, ['I64', 'int64']],
  [28, ['F64', 'float64']],
  [30, ['BF16', 'bfloat16']],
]);

/** ggml ids that were removed (kept as names so a file that uses one is reported clearly). */
const REMOVED: ReadonlyMap<number, string> = new Map([
  [4, 'Q4_2'], [5, 'Q4_3'], [31, 'Q4_0_4_4'], [32, 'Q4_0_4_8'], [33, 'Q4_0_8_8'],
  [36, 'IQ4_NL_4_4'], [37, 'IQ4_NL_4_8'], [38, 'IQ4_NL_8_8'],
]);

/**
 * Metadata key prefix under which a tensor's ggml type is recorded when its raw blocks
 * are written as `uint8` to a format without block dtypes (`ggml_type:blk.0.attn_q.weight`
 * → `'Q4_K'`); the GGUF writer reads it back and restores the tensor.
 */
export const GGML_TYPE_METADATA_PREFIX = 'ggml_type:';

/** `GGML_TYPE_COUNT` at the reference snapshot (ids 0 … 42). */
export const GGML_TYPE_COUNT = 43;

/** The ggml type of a tensio dtype that GGUF can hold, as `{ id, name }`, or undefined. */
export function ggmlTypeOfDType(dtype: DType): { id: number; name: string } | undefined {
  if (isBlockDType(dtype)) return { id: BLOCK_DTYPE_INFO[dtype].ggmlTypeId, name: BLOCK_DTYPE_INFO[dtype].ggmlName };
  for (const [id, [name, plain]] of PLAIN) if (plain === dtype) return { id, name };
  return undefined;
}

/**
 * The dtype and ggml name of a ggml type id: a plain dtype, a block dtype, or `opaque`
 * (removed or unknown ids: the name says which, e.g. `'Q4_2 (removed)'`, `'type 77'`).
 *
 * @example
 * ```ts
 * dtypeOfGgmlType(12); // { dtype: 'q4_k', name: 'Q4_K' }
 * ```
 */
export function dtypeOfGgmlType(id: number): { dtype: DType; name: string } {
  const plain = PLAIN.get(id);
  if (plain) return { dtype: plain[1], name: plain[0] };
  const block = blockDTypeOfGgmlType(id);
  if (block) return { dtype: block, name: BLOCK_DTYPE_INFO[block].ggmlName };
  const removed = REMOVED.get(id);
  return { dtype: 'opaque', name: removed ? `${removed} (removed)` : `type ${id}` };
}

/** The ggml type id of a ggml name (`'Q8_0'`, case-insensitive), or undefined. */
export function ggmlTypeIdOfName(name: string): number | undefined {
  const upper = name.toUpperCase();
  for (const [id, [plainName]] of PLAIN) if (plainName === upper) return id;
  for (const info of Object.values(BLOCK_DTYPE_INFO)) if (info.ggmlName === upper) return info.ggmlTypeId;
  return undefined;
}
