/** Tensors and row arithmetic for the NumPack tests (a tiny np.delete / concatenate in bytes). */
import type { DType } from '../../src/core/dtype.js';
import type { Tensor } from '../../src/core/tensor.js';

/** NumPack's test matrix: its 14 dtypes and 5 shapes (conftest.py). */
export const NPK_MATRIX_DTYPES: DType[] = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64', 'complex64', 'complex128'];
export const NPK_MATRIX_SHAPES: number[][] = [[100], [50, 40], [30, 20, 10], [20, 15, 10, 5], [10, 8, 6, 4, 2]];

/** Kept here too for the NumPack tests that import it with the row helpers. */
export { patternTensor } from './patterns.js';

/** Bytes of one row. */
export function rowBytesOf(tensor: Tensor): number {
  return tensor.shape.length === 0 ? tensor.data.byteLength : tensor.data.byteLength / tensor.shape[0]!;
}

/** The rows of a tensor as byte slices. */
export function rowsOf(tensor: Tensor): Uint8Array[] {
  const size = rowBytesOf(tensor);
  return Array.from({ length: tensor.shape[0]! }, (_, i) => tensor.data.subarray(i * size, (i + 1) * size));
}

/** A tensor made of the given rows (same dtype and row shape as `like`). */
export function fromRows(like: Tensor, rows: Uint8Array[]): Tensor {
  const size = rowBytesOf(like);
  const data = new Uint8Array(rows.length * size);
  rows.forEach((row, i) => data.set(row, i * size));
  return { dtype: like.dtype, shape: [rows.length, ...like.shape.slice(1)], data };
}

/** np.delete(tensor, indexes, axis=0) with negatives resolved. */
export function deleteRows(tensor: Tensor, indexes: number[]): Tensor {
  const rows = rowsOf(tensor);
  const gone = new Set(indexes.map((i) => (i < 0 ? rows.length + i : i)));
  return fromRows(tensor, rows.filter((_, i) => !gone.has(i)));
}

/** Rows picked by index (np.take). */
export function takeRows(tensor: Tensor, indexes: number[]): Tensor {
  const rows = rowsOf(tensor);
  return fromRows(tensor, indexes.map((i) => rows[i < 0 ? rows.length + i : i]!));
}

/** np.concatenate([a, b]). */
export function concatRows(a: Tensor, b: Tensor): Tensor {
  return fromRows(a, [...rowsOf(a), ...rowsOf(b)]);
}

/** A float32 tensor from numbers. */
export function f32(shape: number[], values: ArrayLike<number>): Tensor {
  const array = Float32Array.from(values as ArrayLike<number>);
  return { dtype: 'float32', shape, data: new Uint8Array(array.buffer) };
}

/** An int32 tensor from numbers. */
export function i32(shape: number[], values: ArrayLike<number>): Tensor {
  const array = Int32Array.from(values as ArrayLike<number>);
  return { dtype: 'int32', shape, data: new Uint8Array(array.buffer) };
}

/** arange(rows × cols) as float32 (rows, cols). */
export function arange2d(rows: number, cols: number, start = 0): Tensor {
  return f32([rows, cols], Array.from({ length: rows * cols }, (_, i) => start + i));
}

/** Values of a float32 / int32 tensor as a plain array. */
export function values(tensor: Tensor): number[] {
  const copy = tensor.data.slice();
  return Array.from(tensor.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer));
}
