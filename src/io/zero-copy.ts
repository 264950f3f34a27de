/**
 * Zero-copy views: typed arrays and Apache Arrow vectors over a tensor's own bytes.
 * Where sharing is impossible (misaligned bytes, Arrow's bit-packed booleans, several
 * Arrow chunks, nulls) a copy is made and said so: every function returns `copied`
 * and calls `onCopy(reason)` when given (NumPack warns in the same places).
 * apache-arrow is imported on first use only, so `import 'tensio'` stays fast.
 */
import type { Vector } from 'apache-arrow';
import { DTYPE_INFO, type DType, type TypedArray } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { elementCount } from '../core/sizes.js';

/** Options of the zero-copy functions. */
export interface ZeroCopyOptions {
  /** Called with the reason whenever a copy could not be avoided. */
  onCopy?: (reason: string) => void;
}

/** A result and whether it had to be copied. */
export interface ZeroCopyResult<T> {
  readonly value: T;
  readonly copied: boolean;
}

function copiedBecause<T>(value: T, reason: string, options: ZeroCopyOptions): ZeroCopyResult<T> {
  options.onCopy?.(reason);
  return { value, copied: true };
}

/**
 * A typed array over the tensor's bytes: shared when `data.byteOffset` is aligned for
 * the element type, else a copy (`copied: true`). float16 views as `Uint16Array` bits,
 * complex as interleaved floats.
 *
 * @example
 * ```ts
 * const { value: floats, copied } = tensorToTypedArray(tensor);
 * floats[0] = 1; // also changes tensor.data when !copied
 * ```
 */
export function tensorToTypedArray(tensor: Tensor, options: ZeroCopyOptions = {}): ZeroCopyResult<TypedArray> {
  const Ctor = DTYPE_INFO[tensor.dtype].typedArray;
  if (!Ctor) throw new TensioError('UNSUPPORTED_DTYPE', `no typed array holds ${tensor.dtype} elements`);
  const { data } = tensor;
  const width = Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % width === 0) {
    return { value: new Ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / width) as TypedArray, copied: false };
  }
  const copy = data.slice();
  return copiedBecause(new Ctor(copy.buffer, 0, copy.byteLength / width) as TypedArray, `byte offset ${data.byteOffset} is not a multiple of ${width}`, options);
}

const TYPED_DTYPES: ReadonlyArray<[new (...args: never[]) => TypedArray, DType]> = [
  [Float32Array, 'float32'], [Float64Array, 'float64'], [Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int16Array, 'int16'],
  [Uint16Array, 'uint16'], [Int32Array, 'int32'], [Uint32Array, 'uint32'], [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
];

/**
 * A tensor over a typed array's memory (no copy). `dtype` overrides the inferred one
 * when the bytes mean something else (`'float16'` over a `Uint16Array`, `'bool'` over
 * a `Uint8Array`); `shape` defaults to 1-D.
 *
 * @example
 * ```ts
 * const t = typedArrayToTensor(new Float32Array(6), [2, 3]);
 * ```
 */
export function typedArrayToTensor(array: TypedArray, shape?: readonly number[], dtype?: DType): Tensor {
  const inferred = dtype ?? TYPED_DTYPES.find(([Ctor]) => array instanceof Ctor)?.[1];
  if (!inferred) throw new TensioError('INVALID_ARGUMENT', `cannot infer a dtype for ${Object.prototype.toString.call(array)}`);
  const data = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const finalShape = shape ? [...shape] : [array.length];
  const bytes = elementCount(finalShape) * (DTYPE_INFO[inferred].bits / 8);
  if (bytes !== data.byteLength) throw new TensioError('SIZE_MISMATCH', `shape [${finalShape.join(', ')}] of ${inferred} needs ${bytes} bytes, the array has ${data.byteLength}`);
  return { dtype: inferred, shape: finalShape, data };
}

const ARROW_TYPES: Partial<Record<DType, string>> = {
  int8: 'Int8', uint8: 'Uint8', int16: 'Int16', uint16: 'Uint16', int32: 'Int32', uint32: 'Uint32', int64: 'Int64', uint64: 'Uint64',
  float16: 'Float16', float32: 'Float32', float64: 'Float64', bool: 'Bool',
};

/**
 * An Arrow vector of the tensor's elements, flattened (as NumPack's `to_arrow`), over
 * the same memory for numeric dtypes. Booleans are bit-packed in Arrow, so they are
 * copied. Complex dtypes → `UNSUPPORTED_DTYPE`.
 *
 * @example
 * ```ts
 * const { value: vector } = await tensorToArrow(tensor);
 * vector.get(0);
 * ```
 */
export async function tensorToArrow(tensor: Tensor, options: ZeroCopyOptions = {}): Promise<ZeroCopyResult<Vector>> {
  const typeName = ARROW_TYPES[tensor.dtype];
  if (!typeName) throw new TensioError('UNSUPPORTED_DTYPE', `Arrow has no ${tensor.dtype} type`);
  const arrow = await import('apache-arrow');
  const length = elementCount(tensor.shape);
  if (tensor.dtype === 'bool') {
    const packed = new Uint8Array(Math.ceil(length / 8));
    for (let i = 0; i < length; i++) if (tensor.data[i]) packed[i >> 3]! |= 1 << (i & 7);
    const vector = arrow.makeVector(arrow.makeData({ type: new arrow.Bool(), length, data: packed, nullCount: 0 }));
    return copiedBecause(vector, 'Arrow stores booleans as bits', options);
  }
  const view = tensorToTypedArray(tensor, options);
  const type = new (arrow as unknown as Record<string, new () => InstanceType<typeof arrow.Float32>>)[typeName]!();
  const vector = arrow.makeVector(arrow.makeData({ type, length, data: view.value as Float32Array, nullCount: 0 }));
  return { value: vector as Vector, copied: view.copied };
}

const FROM_ARROW: Readonly<Record<string, DType>> = Object.fromEntries(Object.entries(ARROW_TYPES).map(([dtype, name]) => [name, dtype as DType]));

/**
 * A tensor over an Arrow vector's values: shared for a single null-free numeric chunk;
 * copied otherwise (several chunks, booleans; nulls become NaN in a float64 copy, as
 * NumPack's table conversion does). `shape` defaults to 1-D.
 *
 * @example
 * ```ts
 * const { value: tensor, copied } = arrowToTensor(table.getChild('x')!);
 * ```
 */
export function arrowToTensor(vector: Vector, options: ZeroCopyOptions & { shape?: readonly number[] } = {}): ZeroCopyResult<Tensor> {
  const dtype = FROM_ARROW[String(vector.type)];
  if (!dtype) throw new TensioError('UNSUPPORTED_DTYPE', `Arrow type ${String(vector.type)} has no tensio dtype`);
  const shape = options.shape ?? [vector.length];
  if (vector.nullCount > 0) {
    const values = new Float64Array(vector.length);
    for (let i = 0; i < vector.length; i++) {
      const item = vector.get(i) as number | bigint | boolean | null;
      values[i] = item === null ? Number.NaN : Number(item);
    }
    return copiedBecause(typedArrayToTensor(values, shape), `${vector.nullCount} nulls: copied to float64 with NaN`, options);
  }
  if (dtype === 'bool') {
    const bytes = new Uint8Array(vector.length);
    for (let i = 0; i < vector.length; i++) bytes[i] = vector.get(i) ? 1 : 0;
    return copiedBecause(typedArrayToTensor(bytes, shape, 'bool'), 'Arrow stores booleans as bits', options);
  }
  const values = vector.toArray() as TypedArray;
  const shared = vector.data.length === 1 && values.buffer === (vector.data[0]!.values as TypedArray).buffer;
  const tensor = typedArrayToTensor(values, shape, dtype);
  return shared ? { value: tensor, copied: false } : copiedBecause(tensor, `${vector.data.length} Arrow chunks were joined`, options);
}

/**
 * A tensor wrapped for zero-copy hand-offs (NumPack's `ZeroCopyArray`).
 *
 * @example
 * ```ts
 * const zc = wrapForZeroCopy(await npk.load('x'));
 * const floats = zc.toTypedArray() as Float32Array;
 * const vector = await zc.toArrow();
 * ```
 */
export class ZeroCopyArray {
  readonly tensor: Tensor;
  readonly #options: ZeroCopyOptions;

  constructor(tensor: Tensor, options: ZeroCopyOptions = {}) {
    this.tensor = tensor;
    this.#options = options;
  }

  get shape(): readonly number[] { return this.tensor.shape; }
  get dtype(): DType { return this.tensor.dtype; }
  get nbytes(): number { return this.tensor.data.byteLength; }
  /** Elements in all. */
  get size(): number { return elementCount(this.tensor.shape); }

  /** A typed array over the same memory (a copy only when misaligned; see `onCopy`). */
  toTypedArray(): TypedArray {
    return tensorToTypedArray(this.tensor, this.#options).value;
  }

  /** A flattened Arrow vector over the same memory (booleans copied). */
  async toArrow(): Promise<Vector> {
    return (await tensorToArrow(this.tensor, this.#options)).value;
  }

  /** Wraps an Arrow vector (shared when possible). */
  static fromArrow(vector: Vector, options: ZeroCopyOptions & { shape?: readonly number[] } = {}): ZeroCopyArray {
    return new ZeroCopyArray(arrowToTensor(vector, options).value, options);
  }

  /** Wraps a typed array without copying. */
  static fromTypedArray(array: TypedArray, shape?: readonly number[], dtype?: DType): ZeroCopyArray {
    return new ZeroCopyArray(typedArrayToTensor(array, shape, dtype));
  }
}

/**
 * Wraps a tensor (or a typed array) as a {@link ZeroCopyArray}.
 *
 * @example
 * ```ts
 * wrapForZeroCopy(new Float32Array([1, 2, 3])).nbytes; // 12
 * ```
 */
export function wrapForZeroCopy(value: Tensor | TypedArray, options: ZeroCopyOptions = {}): ZeroCopyArray {
  return ArrayBuffer.isView(value) ? new ZeroCopyArray(typedArrayToTensor(value as TypedArray), options) : new ZeroCopyArray(value, options);
}
