/**
 * In-memory tensors ↔ NumPack store: tensio tensors, and by duck typing (no dependency)
 * onnxruntime tensors `{ type, dims, data }` and TensorFlow.js tensors
 * `{ dtype, shape, dataSync() }`.
 */
import { isDType, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { createTensor, type Tensor } from '../core/tensor.js';
import { NumPack } from '../npk/numpack.js';
import { singleArrayName } from './store-transfer.js';
import { quoteInput } from '../core/quote.js';

/** An onnxruntime(-node/-web) tensor, as far as tensio needs it. */
export interface OnnxTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBufferView;
}

/** A TensorFlow.js tensor, as far as tensio needs it. */
export interface TfjsTensorLike {
  readonly dtype: string;
  readonly shape: readonly number[];
  dataSync(): ArrayBufferView;
}

/** Anything {@link fromTensor} takes. */
export type TensorLike = Tensor | OnnxTensorLike | TfjsTensorLike;

const FOREIGN_DTYPES: Readonly<Record<string, DType>> = { float: 'float32', double: 'float64' };

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function foreignDtype(name: string, from: string): DType {
  const dtype = FOREIGN_DTYPES[name] ?? name;
  if (!isDType(dtype) || dtype === 'opaque') throw new TensioError('UNSUPPORTED_DTYPE', `${from} tensor of type ${quoteInput(name)} cannot be stored`);
  return dtype;
}

/**
 * Normalises a tensio, onnxruntime or TensorFlow.js tensor to a tensio {@link Tensor}
 * (viewing the same memory where it can). Anything else → `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * toTensioTensor(new ort.Tensor('float32', data, [2, 3]));
 * ```
 */
export function toTensioTensor(value: unknown): Tensor {
  const candidate = value as Partial<Tensor & OnnxTensorLike & TfjsTensorLike> | null;
  if (candidate && typeof candidate === 'object') {
    if (candidate.data instanceof Uint8Array && typeof candidate.dtype === 'string' && Array.isArray(candidate.shape)) {
      return createTensor(foreignDtype(candidate.dtype, 'tensio'), candidate.shape, candidate.data);
    }
    if (typeof candidate.type === 'string' && Array.isArray(candidate.dims) && ArrayBuffer.isView(candidate.data)) {
      return createTensor(foreignDtype(candidate.type, 'onnxruntime'), candidate.dims, bytesOf(candidate.data));
    }
    if (typeof candidate.dataSync === 'function' && typeof candidate.dtype === 'string' && Array.isArray(candidate.shape)) {
      const data = candidate.dataSync();
      if (!ArrayBuffer.isView(data)) throw new TensioError('UNSUPPORTED_DTYPE', `TensorFlow.js tensor of dtype ${candidate.dtype} has no numeric data`);
      // tf.js keeps bool as Uint8Array and complex64 as interleaved float32: both map byte for byte.
      return createTensor(foreignDtype(candidate.dtype, 'TensorFlow.js'), candidate.shape, bytesOf(data));
    }
  }
  throw new TensioError('INVALID_ARGUMENT', `expected a tensor ({ dtype, shape, data }, onnxruntime { type, dims, data } or TensorFlow.js { dtype, shape, dataSync }), got ${Object.prototype.toString.call(value)}`);
}

/** Options of {@link fromTensor}. */
export interface FromTensorOptions {
  /** Array name (default `'data'`). */
  arrayName?: string;
  /** Replace the whole store first (default false: merge). */
  dropIfExists?: boolean;
}

/**
 * Saves one tensor into a store.
 *
 * @example
 * ```ts
 * await fromTensor(createTensor('float32', [2, 2], new Float32Array(4)), 'out.npk', { arrayName: 'w' });
 * ```
 */
export async function fromTensor(tensor: TensorLike, npkPath: string, options: FromTensorOptions = {}): Promise<void> {
  const normalised = toTensioTensor(tensor);
  await using npk = await NumPack.open(npkPath, { dropIfExists: options.dropIfExists ?? false });
  await npk.save({ [options.arrayName ?? 'data']: normalised });
}

/** Options of {@link toTensor}. */
export interface ToTensorOptions {
  /** Array to load; default the store's only array (else `INVALID_ARGUMENT` listing them). */
  arrayName?: string;
}

/**
 * Loads one array of a store as a tensio tensor.
 *
 * @example
 * ```ts
 * const w = await toTensor('out.npk', { arrayName: 'w' });
 * ```
 */
export async function toTensor(npkPath: string, options: ToTensorOptions = {}): Promise<Tensor> {
  await using npk = await NumPack.open(npkPath, { readOnly: true });
  return npk.load(singleArrayName(npk.getMemberList(), options.arrayName, npkPath));
}
