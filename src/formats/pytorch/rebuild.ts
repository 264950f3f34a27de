/**
 * torch's tensor rebuild functions, interpreted symbolically: the arguments of
 * `_rebuild_tensor_v2(storage, offset, size, stride, …)` are checked and turned into a
 * {@link PickleTensor} (no bytes read yet) whose view provably stays inside its storage.
 */
import { TensioError } from '../../core/errors.js';
import { MAX_DIMENSION, MAX_RANK } from '../../core/limits.js';
import { PYTORCH_DTYPES } from './dtypes.js';
import { PickleGlobal, PickleStorage, PickleTensor, PickleTuple, pickleTypeName, type PickleValue } from './pickle/values.js';

const FORMAT = 'pytorch';

function invalid(message: string, offset: number): never {
  throw new TensioError('INVALID_PICKLE', `${FORMAT}: ${message}`, { format: FORMAT, offset });
}

/** An integer argument (Python int, not bool), as a safe non-negative number. */
function nonNegativeInteger(value: PickleValue | undefined, what: string, offset: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max) return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    throw new TensioError(typeof value === 'bigint' || value > max ? 'SIZE_OVERFLOW' : 'INVALID_SHAPE', `${FORMAT}: ${what} ${String(value)} must be an integer in [0, ${max}]`, { format: FORMAT, offset });
  }
  return invalid(`${what} must be an integer, got ${pickleTypeName(value)}`, offset);
}

function integerTuple(value: PickleValue | undefined, what: string, offset: number, max: number): number[] {
  if (!(value instanceof PickleTuple)) return invalid(`${what} must be a tuple, got ${pickleTypeName(value)}`, offset);
  if (value.items.length > MAX_RANK) {
    throw new TensioError('INVALID_SHAPE', `${FORMAT}: ${what} has ${value.items.length} dimensions, more than ${MAX_RANK}`, { format: FORMAT, offset });
  }
  return value.items.map((item, i) => nonNegativeInteger(item, `${what}[${i}]`, offset, max));
}

/**
 * Checks a strided view against its storage: `offset + Σ(size_i − 1)·stride_i` must
 * address an element inside the storage (for non-empty views). Throws `INVALID_OFFSET`.
 *
 * @example
 * ```ts
 * pytorchCheckView([2, 3], [3, 1], 0, 6, 'w'); // fine
 * pytorchCheckView([2, 3], [3, 1], 1, 6, 'w'); // throws INVALID_OFFSET
 * ```
 */
export function pytorchCheckView(shape: readonly number[], stride: readonly number[], offset: number, capacity: number, what: string, fileOffset?: number): void {
  if (shape.some((dim) => dim === 0)) return;
  let last = BigInt(offset);
  for (let i = 0; i < shape.length; i++) last += BigInt(shape[i]! - 1) * BigInt(stride[i]!);
  if (last >= BigInt(capacity)) {
    throw new TensioError('INVALID_OFFSET', `${FORMAT}: ${what} (offset ${offset}, shape [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches element ${last} of a storage holding ${capacity}`, { format: FORMAT, ...(fileOffset !== undefined ? { offset: fileOffset } : {}) });
  }
}

/**
 * `_rebuild_tensor(storage, offset, size, stride)` and its v2/v3 forms: `dtypeGlobal` is
 * v3's explicit dtype (the storage is then untyped bytes).
 */
export function pytorchRebuildTensor(args: readonly PickleValue[], dtypeGlobal: PickleValue | undefined, offset: number): PickleTensor {
  const [storage, storageOffsetValue, sizeValue, strideValue] = args;
  if (!(storage instanceof PickleStorage)) return invalid(`tensor rebuild expects a storage, got ${pickleTypeName(storage)}`, offset);
  const storageOffset = nonNegativeInteger(storageOffsetValue, 'storage offset', offset);
  const shape = integerTuple(sizeValue, 'size', offset, MAX_DIMENSION);
  const stride = integerTuple(strideValue, 'stride', offset, Number.MAX_SAFE_INTEGER);
  if (stride.length !== shape.length) invalid(`size has ${shape.length} dimensions but stride has ${stride.length}`, offset);
  let dtype = storage.dtype;
  let formatDtype = storage.formatDtype;
  let itemSize = storage.itemSize;
  if (dtypeGlobal !== undefined) {
    if (!(dtypeGlobal instanceof PickleGlobal) || dtypeGlobal.module !== 'torch') return invalid(`tensor dtype must be a torch dtype, got ${pickleTypeName(dtypeGlobal)}`, offset);
    const entry = PYTORCH_DTYPES[dtypeGlobal.name];
    if (!entry) {
      throw new TensioError('UNSUPPORTED_DTYPE', `${FORMAT}: tensors of dtype torch.${dtypeGlobal.name} are not supported`, { format: FORMAT, offset });
    }
    dtype = entry.dtype;
    formatDtype = dtypeGlobal.qualifiedName;
    itemSize = entry.itemSize;
  }
  const storageBytes = BigInt(storage.numel) * BigInt(storage.itemSize);
  const capacity = Number(storageBytes / BigInt(itemSize));
  pytorchCheckView(shape, stride, storageOffset, capacity, `tensor view of storage ${storage.key}`, offset);
  const requiresGrad = args[4] === true;
  return new PickleTensor(storage, storageOffset, shape, stride, dtype, formatDtype, itemSize, requiresGrad, false);
}

/** True when `stride` is C-contiguous for `shape` (size-1 dimensions may have any stride). */
export function pytorchIsContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 0) return true;
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** torch's contiguous strides for a shape (size-0 dimensions count as 1, as torch does). */
export function pytorchContiguousStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = step;
    step *= Math.max(shape[i]!, 1);
  }
  return stride;
}
