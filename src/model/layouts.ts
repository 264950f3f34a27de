/**
 * Multi-part tensors: a tensor made of several arrays (its parts), with a typed
 * description of how they make up the tensor. Sparse CSR and COO, group-quantized data
 * with scales and zeros, OCP MX blocks, and layouts tensio does not interpret. The
 * shapes follow zTensor's layouts (`zt.sparse_csr/1`, `zt.sparse_coo/1`,
 * `zt.quant_group/1`, `zt.mx/1`), which PyTorch and SciPy sparse tensors also fit.
 *
 * A multi-part tensor's `TensorInfo` keeps the logical `shape` (the dense shape), the
 * `dtype` of its dense form (the values' dtype for sparse tensors, `float32` for
 * quantized ones, `opaque` for layouts tensio does not interpret), `byteLength` = the sum
 * of its parts, `layout` and `parts`. Each part is read with `reader.readPart` /
 * `reader.streamPart`; `densify()` turns a sparse tensor into a dense one.
 */
import { TensioError } from '../core/errors.js';
import { itemSize, type DType } from '../core/dtype.js';
import { elementCount, tensorByteLength } from '../core/sizes.js';
import type { TensorInfo } from './types.js';
import { quoteInput } from '../core/quote.js';

/** One array of a multi-part tensor. */
export interface TensorPartInfo {
  /** The part's role: `'values'`, `'indices'`, `'indptr'`, `'coords'`, `'data'`, `'scales'`, `'zeros'`, … */
  readonly name: string;
  readonly dtype: DType;
  /** The part's own shape (sparse index arrays are 1-D; COO coordinates are `[ndim, nnz]`). */
  readonly shape: readonly number[];
  /** Bytes of the part in tensio's layout. */
  readonly byteLength: number;
  /** The format's own dtype name for the part, when it has one. */
  readonly formatDtype?: string;
}

/**
 * Compressed sparse rows of a rank-2 tensor `[rows, columns]`. Parts: `values` `[nnz]`,
 * `indices` `[nnz]` (column of each value) and `indptr` `[rows + 1]` (row `r`'s values are
 * `indptr[r] .. indptr[r+1]`), both indices of one integer dtype. Valid data: `indptr[0]
 * = 0`, non-decreasing, `indptr[rows] = nnz`, every column `< columns`, no cell twice.
 */
export interface SparseCsrLayout {
  readonly kind: 'sparse_csr';
}

/**
 * Coordinate list of a tensor of any rank ≥ 1. Parts: `values` `[nnz]` and `coords`
 * `[ndim, nnz]`, structure of arrays: value `i` sits at `(coords[0][i], …,
 * coords[ndim-1][i])`. Valid data: every coordinate inside the shape, no cell twice.
 */
export interface SparseCooLayout {
  readonly kind: 'sparse_coo';
}

/**
 * Group-wise quantized integers (zTensor `zt.quant_group/1`, GPTQ/AWQ-style). Parts:
 * `data` (packed `bits`-bit integers in words of `packing.word`), `scales` (one per group
 * per lane) and `zeros` when `zeroPoint.form` is `'tensor'`. Value = (q − zero) × scale.
 */
export interface QuantGroupLayout {
  readonly kind: 'quant_group';
  /** Bits per quantized value: 2, 3, 4, 5, 6 or 8. */
  readonly bits: number;
  /** Values per group along `axis`; 0 means one group per channel. */
  readonly groupSize: number;
  readonly axis: number;
  readonly packing: { readonly word: DType; readonly order: 'lsb_first' | 'msb_first' };
  readonly scaleForm: 'f32_factors' | 'f16_factors' | 'e8m0_exponent';
  readonly zeroPoint:
    | { readonly form: 'none' }
    | { readonly form: 'implied'; readonly value: number }
    | { readonly form: 'tensor'; readonly packing: 'same_as_data' | 'plain' };
  /** The format's own attribute map as read, so that a writer of the same format restores it exactly. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/**
 * OCP microscaling blocks (zTensor `zt.mx/1`): parts `data` (fp4/fp8 elements or int8)
 * and `scales` (one float8_e8m0 per block of `blockSize` along `axis`). For ggml's MXFP4
 * blocks (scale and data interleaved) see the block dtype `mxfp4` instead.
 */
export interface MxLayout {
  readonly kind: 'mx';
  readonly blockSize: number;
  readonly axis: number;
  /** What the `data` part's elements are: fp4, fp8 or int8 (MXINT8: two's complement with 6 fraction bits, OCP MX §5.3). */
  readonly elements: 'float4_e2m1' | 'float8_e4m3fn' | 'float8_e5m2' | 'int8';
  /** The format's own attribute map as read, so that a writer of the same format restores it exactly. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** A layout tensio does not interpret (a newer zTensor layout, say): parts stay readable. */
export interface OtherLayout {
  readonly kind: 'other';
  /** The format's name for the layout, e.g. `'zt.future/1'`. */
  readonly name: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** How a multi-part tensor's parts make it up. A tensor without `layout` is dense (one part, its bytes). */
export type TensorLayout = SparseCsrLayout | SparseCooLayout | QuantGroupLayout | MxLayout | OtherLayout;

/** Integer dtypes allowed for sparse index parts. */
export const SPARSE_INDEX_DTYPES: readonly DType[] = ['int32', 'int64', 'uint32', 'uint64', 'int16', 'uint16', 'int8', 'uint8'];

/**
 * True when `info` describes a tensor made of several parts.
 *
 * @example
 * ```ts
 * if (isMultiPart(info)) for (const part of info.parts!) console.log(part.name, part.dtype, part.shape);
 * ```
 */
export function isMultiPart(info: TensorInfo): boolean {
  return info.layout !== undefined;
}

/**
 * The part of a multi-part tensor with this role; throws `NOT_FOUND` naming the parts it has.
 *
 * @example
 * ```ts
 * const indptr = tensorPart(info, 'indptr');
 * ```
 */
export function tensorPart(info: TensorInfo, part: string, format = 'tensio'): TensorPartInfo {
  const found = info.parts?.find((candidate) => candidate.name === part);
  if (!found) {
    throw new TensioError('NOT_FOUND', `${format}: tensor ${quoteInput(info.name)} has no part ${quoteInput(part)}${info.parts ? ` (it has ${info.parts.map((p) => p.name).join(', ')})` : ' (it is dense)'}`, { format });
  }
  return found;
}

/**
 * Checks the sizes a sparse layout implies, from the infos alone (no data read):
 * part names, index dtypes, ranks and lengths. Throws `INVALID_LAYOUT` naming the numbers.
 * Data rules (indices in range, monotonic pointers, no duplicates) are checked by
 * {@link densify} as it reads.
 *
 * @example
 * ```ts
 * checkSparseLayout(info); // throws unless values/indices/indptr fit [rows, columns]
 * ```
 */
export function checkSparseLayout(info: TensorInfo, format = 'tensio'): { nnz: number } {
  const fail = (message: string): never => {
    throw new TensioError('INVALID_LAYOUT', `${format}: ${info.layout?.kind ?? 'dense'} tensor ${quoteInput(info.name)}: ${message}`, { format });
  };
  const kind = info.layout?.kind;
  if (kind !== 'sparse_csr' && kind !== 'sparse_coo') return fail('is not a sparse tensor');
  const names = (info.parts ?? []).map((part) => part.name).sort();
  const wanted = kind === 'sparse_csr' ? ['indices', 'indptr', 'values'] : ['coords', 'values'];
  if (names.join() !== wanted.join()) fail(`needs exactly the parts ${wanted.join(', ')}, has ${names.join(', ') || 'none'}`);
  const values = tensorPart(info, 'values', format);
  if (values.dtype !== info.dtype) fail(`values are ${values.dtype}, the tensor says ${info.dtype}`);
  if (itemSize(values.dtype) === undefined) fail(`values of dtype ${values.dtype} have no whole-byte element size`);
  if (values.shape.length !== 1) fail(`values must be 1-D, got shape [${values.shape.join(', ')}]`);
  const nnz = values.shape[0]!;
  elementCount(info.shape, format);
  const checkIndex = (part: TensorPartInfo, shape: readonly number[]): void => {
    if (!SPARSE_INDEX_DTYPES.includes(part.dtype)) fail(`${part.name} must be an integer dtype, got ${part.dtype}`);
    if (part.shape.length !== shape.length || part.shape.some((dim, axis) => dim !== shape[axis])) {
      fail(`${part.name} has shape [${part.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  };
  if (kind === 'sparse_csr') {
    if (info.shape.length !== 2) fail(`CSR needs rank 2, got shape [${info.shape.join(', ')}]`);
    const indices = tensorPart(info, 'indices', format);
    const indptr = tensorPart(info, 'indptr', format);
    checkIndex(indices, [nnz]);
    checkIndex(indptr, [info.shape[0]! + 1]);
    if (indices.dtype !== indptr.dtype) fail(`indices (${indices.dtype}) and indptr (${indptr.dtype}) must share a dtype`);
  } else {
    if (info.shape.length < 1) fail('COO needs rank 1 or more');
    checkIndex(tensorPart(info, 'coords', format), [info.shape.length, nnz]);
  }
  for (const part of info.parts!) {
    const expected = elementCount(part.shape, format) * itemSize(part.dtype)!;
    if (part.byteLength !== expected) fail(`part ${part.name} holds ${part.byteLength} bytes, its shape and dtype need ${expected}`);
  }
  return { nnz };
}

/**
 * Checks what a multi-part tensor's info says about itself, before any data is read:
 * parts present with distinct names, each part's byte length what its dtype and shape
 * need, the tensor's byte length their sum, and for sparse layouts the sizes the layout
 * implies ({@link checkSparseLayout}). Throws `INVALID_LAYOUT`; a dense info passes.
 *
 * @example
 * ```ts
 * for (const info of tensors) checkMultiPartInfo(info, 'zt');
 * ```
 */
export function checkMultiPartInfo(info: TensorInfo, format = 'tensio'): void {
  if (!info.layout) {
    if (info.parts) throw new TensioError('INVALID_LAYOUT', `${format}: tensor ${quoteInput(info.name)} lists parts but no layout`, { format });
    return;
  }
  const fail = (message: string): never => {
    throw new TensioError('INVALID_LAYOUT', `${format}: ${info.layout!.kind === 'other' ? info.layout!.name : info.layout!.kind} tensor ${quoteInput(info.name)}: ${message}`, { format });
  };
  const partList = info.parts ?? [];
  if (partList.length === 0) fail('has no parts');
  const names = new Set(partList.map((part) => part.name));
  if (names.size !== partList.length) fail('names a part twice');
  let total = 0;
  for (const part of partList) {
    const expected = tensorByteLength(part.dtype, part.shape, format);
    if (expected !== undefined && expected !== part.byteLength) fail(`part ${part.name} holds ${part.byteLength} bytes, its dtype ${part.dtype} and shape [${part.shape.join(', ')}] need ${expected}`);
    total += part.byteLength;
  }
  if (total !== info.byteLength) fail(`byte length ${info.byteLength} is not the sum of its parts (${total})`);
  if (info.layout.kind === 'sparse_csr' || info.layout.kind === 'sparse_coo') checkSparseLayout(info, format);
}
