/**
 * DLPack-shaped exchange: a tensor as a plain descriptor of its memory in DLPack's terms
 * (device, dtype code/bits/lanes, shape, strides in elements, byte offset), and back.
 * JavaScript has no `DLManagedTensor` pointer to hand over, so the descriptor carries the
 * `ArrayBuffer` itself; a consumer (a WebGPU upload, a WASM kernel, a native addon) reads
 * the bytes where the descriptor says they are. The constants are DLPack's (`dlpack.h`),
 * as NumPack's `zero_copy.py` lists them.
 *
 * Zero-copy rules (NumPack's `DLPackBuffer`): `toDlpack` never copies (tensio tensors are
 * C-contiguous); `fromDlpack` views the memory when it is C-contiguous and copies it
 * into C order otherwise, saying so through `onCopy` (NumPack warns "not C-contiguous").
 */
import { DTYPE_INFO, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { elementCount } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import type { ZeroCopyOptions, ZeroCopyResult } from './zero-copy.js';

/** DLPack device types (`DLDeviceType`). Only CPU memory exists here. */
export const kDLCPU = 1;
export const kDLCUDA = 2;
/** DLPack dtype codes (`DLDataTypeCode`). */
export const kDLInt = 0;
export const kDLUInt = 1;
export const kDLFloat = 2;
export const kDLBfloat = 4;
export const kDLComplex = 5;
export const kDLBool = 6;

/** A DLPack `DLDataType`: type code, bits per lane, lanes (1: not a vector type). */
export interface DLPackDType {
  readonly code: number;
  readonly bits: number;
  readonly lanes: number;
}

/** A DLPack tensor described in plain JavaScript (`DLTensor` with the buffer in place of the pointer). */
export interface DLPackTensor {
  /** The memory the tensor lives in. */
  readonly data: ArrayBufferLike;
  /** `DLDevice`: `{ deviceType: kDLCPU, deviceId: 0 }` here. */
  readonly device: { readonly deviceType: number; readonly deviceId: number };
  readonly ndim: number;
  readonly dtype: DLPackDType;
  readonly shape: readonly number[];
  /** Strides in elements (not bytes), as DLPack; `null` means compact C order (DLPack ≥ 0.8 allows it). */
  readonly strides: readonly number[] | null;
  /** Byte offset of element 0 in `data`. */
  readonly byteOffset: number;
}

const DLPACK_DTYPES: Readonly<Partial<Record<DType, DLPackDType>>> = {
  bool: { code: kDLBool, bits: 8, lanes: 1 },
  int8: { code: kDLInt, bits: 8, lanes: 1 },
  int16: { code: kDLInt, bits: 16, lanes: 1 },
  int32: { code: kDLInt, bits: 32, lanes: 1 },
  int64: { code: kDLInt, bits: 64, lanes: 1 },
  uint8: { code: kDLUInt, bits: 8, lanes: 1 },
  uint16: { code: kDLUInt, bits: 16, lanes: 1 },
  uint32: { code: kDLUInt, bits: 32, lanes: 1 },
  uint64: { code: kDLUInt, bits: 64, lanes: 1 },
  float16: { code: kDLFloat, bits: 16, lanes: 1 },
  float32: { code: kDLFloat, bits: 32, lanes: 1 },
  float64: { code: kDLFloat, bits: 64, lanes: 1 },
  bfloat16: { code: kDLBfloat, bits: 16, lanes: 1 },
  complex64: { code: kDLComplex, bits: 64, lanes: 1 },
  complex128: { code: kDLComplex, bits: 128, lanes: 1 },
};

/** C-order strides (in elements) of a shape. */
function compactStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis]!;
  }
  return strides;
}

/**
 * The DLPack descriptor of a tensor's memory (no copy: it describes `tensor.data` in place).
 * `UNSUPPORTED_DTYPE` for dtypes DLPack has no code for here (float8, block-quantized, opaque).
 *
 * @example
 * ```ts
 * const dl = toDlpack(createTensor('float32', [2, 3], new Float32Array(6)));
 * dl.dtype; // { code: 2, bits: 32, lanes: 1 }
 * dl.strides; // [3, 1]
 * ```
 */
export function toDlpack(tensor: Tensor): DLPackTensor {
  const dtype = DLPACK_DTYPES[tensor.dtype];
  if (!dtype) throw new TensioError('UNSUPPORTED_DTYPE', `DLPack has no dtype code for ${tensor.dtype} (DLPack holds bool, ints, uints, float16/32/64, bfloat16 and complex)`);
  return {
    data: tensor.data.buffer,
    device: { deviceType: kDLCPU, deviceId: 0 },
    ndim: tensor.shape.length,
    dtype,
    shape: [...tensor.shape],
    strides: compactStrides(tensor.shape),
    byteOffset: tensor.data.byteOffset,
  };
}

function dtypeOf(dl: DLPackDType): DType {
  if (dl.lanes !== 1) throw new TensioError('UNSUPPORTED_DTYPE', `DLPack vector dtypes (lanes ${dl.lanes}) have no tensio dtype`);
  for (const [name, known] of Object.entries(DLPACK_DTYPES) as [DType, DLPackDType][]) {
    if (known.code === dl.code && known.bits === dl.bits) return name;
  }
  throw new TensioError('UNSUPPORTED_DTYPE', `DLPack dtype code ${dl.code} with ${dl.bits} bits has no tensio dtype`);
}

/**
 * A tensor over the memory a DLPack descriptor points at: a view when the memory is
 * C-contiguous, else a C-order copy (`copied: true`, `onCopy` told why). Every element
 * the strides reach must lie inside the buffer (`INVALID_LAYOUT` otherwise); only CPU
 * memory is accepted (`UNSUPPORTED_FEATURE` for another device).
 *
 * @example
 * ```ts
 * const { value: tensor, copied } = fromDlpack(toDlpack(original)); // copied === false
 * const transposed = { ...toDlpack(m), shape: [3, 2], strides: [1, 3] };
 * fromDlpack(transposed, { onCopy: (why) => console.warn(why) }); // copied into C order
 * ```
 */
export function fromDlpack(dl: DLPackTensor, options: ZeroCopyOptions = {}): ZeroCopyResult<Tensor> {
  if (dl.device.deviceType !== kDLCPU) throw new TensioError('UNSUPPORTED_FEATURE', `DLPack device type ${dl.device.deviceType} is not CPU memory (kDLCPU = 1); copy it to the host first`);
  const dtype = dtypeOf(dl.dtype);
  const shape = [...dl.shape];
  if (dl.ndim !== shape.length) throw new TensioError('INVALID_SHAPE', `DLPack ndim ${dl.ndim} but the shape has ${shape.length} dimensions`);
  const count = elementCount(shape, 'dlpack');
  const width = DTYPE_INFO[dtype].bits / 8;
  const compact = compactStrides(shape);
  const strides = dl.strides ? [...dl.strides] : compact;
  if (strides.length !== shape.length || !strides.every(Number.isSafeInteger)) throw new TensioError('INVALID_LAYOUT', `DLPack strides ${JSON.stringify(dl.strides)} do not fit shape [${shape.join(', ')}]`);
  if (!Number.isSafeInteger(dl.byteOffset) || dl.byteOffset < 0) throw new TensioError('INVALID_LAYOUT', `DLPack byte offset ${dl.byteOffset} is not a whole number ≥ 0`);
  // The lowest and highest element the strides reach must lie inside the buffer.
  let low = 0;
  let high = 0;
  if (count > 0) {
    for (let axis = 0; axis < shape.length; axis++) {
      const span = (shape[axis]! - 1) * strides[axis]!;
      if (span < 0) low += span;
      else high += span;
    }
    const first = dl.byteOffset + low * width;
    const last = dl.byteOffset + (high + 1) * width;
    if (first < 0 || last > dl.data.byteLength) throw new TensioError('INVALID_LAYOUT', `DLPack tensor reaches bytes ${first}..${last} of a ${dl.data.byteLength}-byte buffer`);
  }
  const contiguous = count <= 1 || shape.every((size, axis) => size === 1 || strides[axis] === compact[axis]);
  if (contiguous) {
    return { value: { dtype, shape, data: new Uint8Array(dl.data as ArrayBuffer, dl.byteOffset, count * width) }, copied: false };
  }
  // Gather element by element in C order (one copy, as NumPack's DLPackBuffer makes).
  const source = new Uint8Array(dl.data as ArrayBuffer);
  const out = new Uint8Array(count * width);
  const index = new Array<number>(shape.length).fill(0);
  let offset = dl.byteOffset;
  for (let element = 0; element < count; element++) {
    out.set(source.subarray(offset, offset + width), element * width);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      offset += strides[axis]! * width;
      if (index[axis]! < shape[axis]!) break;
      offset -= shape[axis]! * strides[axis]! * width;
      index[axis] = 0;
    }
  }
  options.onCopy?.(`the DLPack tensor is not C-contiguous (shape [${shape.join(', ')}], strides [${strides.join(', ')}]): copied into C order`);
  return { value: { dtype, shape, data: out }, copied: true };
}
