/**
 * Per-column statistics of a table computed by reading it: the tensors a table reader
 * plans are streamed (one batch in memory at a time) and each value is counted to the
 * column it came from. `inspect --stats` uses it when the file records no statistics
 * (Arrow, CSV) or to check those it records. Values are the tensors' (after NumPack's
 * promotion: nulls of a float column are NaN and counted as such).
 */
import { DTYPE_INFO, type DType } from '../core/dtype.js';
import { toFloat32Array } from '../core/float-convert.js';
import { createTensor } from '../core/tensor.js';
import { throwIfAborted } from '../core/errors.js';
import type { TableReadPlan, TableSchema } from './table.js';
import type { TensorReader } from './types.js';

/** Statistics of one column as read. */
export interface TableColumnStatistics {
  readonly name: string;
  /** Values counted (cells × values per cell). */
  count: number;
  /** NaN values (nulls of float columns read as NaN). */
  nanCount: number;
  min?: number | bigint;
  max?: number | bigint;
}

/** A table reader: `createTableReader`'s result (its plan and schema). */
export type TableReaderLike = TensorReader & { readonly plan: TableReadPlan; readonly schema: TableSchema };

/** True when `reader` came from `createTableReader`. */
export function isTableReader(reader: TensorReader): reader is TableReaderLike {
  const candidate = reader as Partial<TableReaderLike>;
  return Array.isArray(candidate.schema?.columns) && Array.isArray(candidate.plan?.tensors);
}

type Values = ArrayLike<number> | ArrayLike<bigint>;

function valuesOf(dtype: DType, bytes: Uint8Array): Values {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'bool': case 'uint8': return bytes;
    case 'int8': return new Int8Array(buffer, byteOffset, byteLength);
    case 'int16': return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'uint16': return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'float16': return toFloat32Array(createTensor('float16', [byteLength / 2], bytes));
    case 'int32': return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'uint32': return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'float32': return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'int64': return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case 'float64': return new Float64Array(buffer, byteOffset, byteLength / 8);
    default: return new Uint8Array(0);
  }
}

/**
 * Streams every tensor of a table reader and returns, for each table column it holds,
 * the values counted, NaNs, min and max (NaN left out).
 *
 * @example
 * ```ts
 * const stats = await tableStreamStatistics(reader); // [{ name: 'col0', count: 1000, nanCount: 0, min: -3, max: 7 }, …]
 * ```
 */
export async function tableStreamStatistics(reader: TableReaderLike, signal?: AbortSignal): Promise<TableColumnStatistics[]> {
  const out: TableColumnStatistics[] = [];
  for (const tensor of reader.plan.tensors) {
    const stats = tensor.columns.map((column) => ({ name: reader.schema.columns[column]!.name, count: 0, nanCount: 0 } as TableColumnStatistics));
    out.push(...stats);
    const { dtype } = tensor.spec;
    const item = DTYPE_INFO[dtype].bits / 8;
    const width = tensor.kind === 'stack' ? tensor.columns.length : 1;
    let element = 0;
    let carry = new Uint8Array(0);
    for await (const chunk of reader.stream(tensor.spec.name, signal ? { signal } : undefined)) {
      throwIfAborted(signal);
      // Whole elements only, aligned for the typed view; a split element waits for the next chunk.
      const joined = carry.byteLength > 0 ? joinBytes(carry, chunk) : chunk;
      const whole = joined.byteLength - (joined.byteLength % item);
      const bytes = joined.byteOffset % 8 === 0 ? joined.subarray(0, whole) : joined.slice(0, whole);
      carry = joined.slice(whole);
      const values = valuesOf(dtype, bytes);
      for (let i = 0; i < values.length; i++, element++) {
        const value = values[i]!;
        const target = stats[width === 1 ? 0 : element % width]!;
        target.count++;
        if (value !== value) { target.nanCount++; continue; }
        if (target.min === undefined || value < target.min) target.min = value;
        if (target.max === undefined || value > target.max) target.max = value;
      }
    }
  }
  return out;
}

/** `carry` then `chunk` in one new array (Uint8Array, not Node's Buffer: the model stays browser-safe). */
function joinBytes(carry: Uint8Array, chunk: Uint8Array): Uint8Array {
  const joined = new Uint8Array(carry.byteLength + chunk.byteLength);
  joined.set(carry, 0);
  joined.set(chunk, carry.byteLength);
  return joined;
}
