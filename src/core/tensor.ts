/**
 * The in-memory tensor every format reads into and writes from.
 */
import { bytesEqual } from './bytes.js';
import { DTYPE_INFO, type DType, type TypedArray } from './dtype.js';
import { TensioError } from './errors.js';
import { tensorByteLength } from './sizes.js';

/**
 * A dense tensor: little-endian, C-order bytes plus dtype and shape.
 * `data.byteLength` always equals what dtype and shape imply (except for `opaque`).
 */
export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** NumPack and NumPy users call it an array; it is the same thing. */
export type NDArray = Tensor;

/** What {@link createTensor} accepts as data. */
export type TensorData = Uint8Array | TypedArray | ArrayBuffer | readonly number[] | readonly bigint[] | readonly boolean[];

/**
 * Builds a {@link Tensor}, checking that the bytes match dtype and shape. Typed
 * arrays are viewed, not copied (their `byteOffset` honoured); plain arrays of numbers
 * are encoded with the dtype's typed array (only for dtypes JavaScript can hold).
 *
 * @example
 * ```ts
 * const t = createTensor('float32', [2, 2], new Float32Array([1, 2, 3, 4]));
 * const b = createTensor('bool', [3], [true, false, true]);
 * ```
 */
export function createTensor(dtype: DType, shape: readonly number[], data: TensorData): Tensor {
  const bytes = toBytes(dtype, data);
  const expected = tensorByteLength(dtype, shape);
  if (expected !== undefined && expected !== bytes.byteLength) {
    throw new TensioError('SIZE_MISMATCH', `tensor of dtype ${dtype} and shape [${shape.join(', ')}] needs ${expected} bytes, got ${bytes.byteLength}`);
  }
  return { dtype, shape: [...shape], data: bytes };
}

function toBytes(dtype: DType, data: TensorData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const Ctor = DTYPE_INFO[dtype].typedArray;
  if (!Ctor || dtype === 'float16' || dtype === 'bfloat16' || DTYPE_INFO[dtype].kind === 'float' && DTYPE_INFO[dtype].bits === 8) {
    throw new TensioError('INVALID_ARGUMENT', `cannot encode a plain array as ${dtype}; pass bytes or use fromFloat32Array()`);
  }
  const values = dtype === 'bool' ? (data as readonly unknown[]).map((v) => (v ? 1 : 0)) : data;
  const typed = Ctor === BigInt64Array || Ctor === BigUint64Array
    ? new Ctor((values as readonly (number | bigint)[]).map((v) => BigInt(v)))
    : new (Ctor as Float64ArrayConstructor)(values as readonly number[]);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/**
 * A typed-array view of a tensor's elements: no copy when `data` is aligned for the
 * element type, one copy when it is not (a file can put a tensor at any offset).
 * float16/bfloat16 view as `Uint16Array` bits, float8 as `Uint8Array`, complex as
 * interleaved floats; use {@link toFloat32Array} for numbers.
 *
 * @example
 * ```ts
 * const values = typedView(tensor) as Float32Array;
 * ```
 */
export function typedView(tensor: Tensor): TypedArray {
  const Ctor = DTYPE_INFO[tensor.dtype].typedArray;
  if (!Ctor) {
    throw new TensioError('UNSUPPORTED_DTYPE', `no typed array holds ${tensor.dtype} elements; read the raw bytes instead`);
  }
  const { data } = tensor;
  const width = Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % width === 0) {
    return new Ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / width) as TypedArray;
  }
  const copy = data.slice();
  return new Ctor(copy.buffer, 0, copy.byteLength / width) as TypedArray;
}

/** True when {@link typedView} can view the tensor without copying. */
export function isViewAligned(tensor: Tensor): boolean {
  const Ctor = DTYPE_INFO[tensor.dtype].typedArray;
  return Ctor !== undefined && tensor.data.byteOffset % Ctor.BYTES_PER_ELEMENT === 0;
}

/** Two tensors are equal when dtype, shape and every byte agree. */
export function tensorsEqual(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  if (a.shape.some((dim, i) => dim !== b.shape[i])) return false;
  return bytesEqual(a.data, b.data);
}
