/**
 * tensio dtypes as zTensor stores them: a storage dtype, a registered logical type over
 * one, or a `gguf.<type>/1` layout for ggml's block-quantized types. The registry entry
 * imports this (cheap) file for `cannotWrite`.
 */
import { BLOCK_DTYPE_INFO, type BlockDType } from '../../core/block-dtypes.js';
import { DTYPE_INFO, type DType } from '../../core/dtype.js';
import type { TensorSpec } from '../../model/types.js';
import type { TensorLayout, TensorPartInfo } from '../../model/layouts.js';
import { ztCheckName } from './names.js';

/** How tensio's dtypes are stored: storage dtype, logical type, or a gguf block layout. */
export function ztStorageOf(dtype: DType): { dtype: string; type?: string; layout?: string; attributes?: Record<string, number> } | undefined {
  switch (dtype) {
    case 'float64': return { dtype: 'f64' };
    case 'float32': return { dtype: 'f32' };
    case 'float16': return { dtype: 'f16' };
    case 'bfloat16': return { dtype: 'bf16' };
    case 'int64': return { dtype: 'i64' };
    case 'int32': return { dtype: 'i32' };
    case 'int16': return { dtype: 'i16' };
    case 'int8': return { dtype: 'i8' };
    case 'uint64': return { dtype: 'u64' };
    case 'uint32': return { dtype: 'u32' };
    case 'uint16': return { dtype: 'u16' };
    case 'uint8': return { dtype: 'u8' };
    case 'bool': return { dtype: 'u8', type: 'bool' };
    case 'float8_e4m3fn': return { dtype: 'u8', type: 'f8_e4m3fn' };
    case 'float8_e5m2': return { dtype: 'u8', type: 'f8_e5m2' };
    case 'float8_e4m3fnuz': return { dtype: 'u8', type: 'f8_e4m3fnuz' };
    case 'float8_e5m2fnuz': return { dtype: 'u8', type: 'f8_e5m2fnuz' };
    case 'float8_e8m0': return { dtype: 'u8', type: 'f8_e8m0' };
    case 'float4_e2m1': return { dtype: 'u8', type: 'f4_e2m1' };
    case 'complex64': return { dtype: 'f32', type: 'complex64' };
    case 'complex128': return { dtype: 'f64', type: 'complex128' };
    default: {
      const block = DTYPE_INFO[dtype]?.kind === 'block' ? BLOCK_DTYPE_INFO[dtype as BlockDType] : undefined;
      if (block) return { dtype: 'u8', layout: `gguf.${dtype}/1`, attributes: { elems_per_block: block.elementsPerBlock, block_bytes: block.bytesPerBlock } };
      return undefined;
    }
  }
}

/**
 * Why `.zt` cannot hold a tensor of this spec, or undefined when it can.
 *
 * @example
 * ```ts
 * ztCannotWrite({ name: 'x', dtype: 'float6_e2m3', shape: [4] }); // 'zTensor has no float6_e2m3 type'
 * ```
 */
export function ztCannotWrite(spec: TensorSpec): string | undefined {
  if (spec.parts) {
    const layout = spec.layout ? ztLayoutName(spec.layout) : undefined;
    if (!layout) return `zTensor writes sparse CSR/COO and its own layouts as parts, not ${spec.layout?.kind ?? 'a tensor without a layout'}`;
    const part = spec.parts.find((candidate) => !ztPartStorage(candidate));
    if (part) return `part ${part.name} is ${part.dtype}, which zTensor has no storage type for`;
  } else if (!ztStorageOf(spec.dtype)) return `zTensor has no ${spec.dtype} type`;
  try {
    ztCheckName(spec.name.normalize('NFC'), 'tensor name');
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}


/** The zTensor layout id of a multi-part layout, or undefined when zTensor cannot write it. */
export function ztLayoutName(layout: TensorLayout): string | undefined {
  if (layout.kind === 'sparse_csr') return 'zt.sparse_csr/1';
  if (layout.kind === 'sparse_coo') return 'zt.sparse_coo/1';
  if (layout.kind === 'quant_group') return 'zt.quant_group/1';
  if (layout.kind === 'mx') return 'zt.mx/1';
  if (layout.kind === 'other') return layout.name;
  return undefined;
}

const ZT_WORD_NAMES: Partial<Record<DType, string>> = { uint8: 'u8', uint16: 'u16', uint32: 'u32', uint64: 'u64' };

/**
 * The object attributes a layout is written with: the map read from a `.zt` file
 * when the layout kept it (so a zt → zt copy keeps it byte for byte), else built from
 * the typed quant_group/mx fields; undefined for sparse layouts.
 */
export function ztLayoutAttributes(layout: TensorLayout): Readonly<Record<string, unknown>> | undefined {
  if (layout.kind === 'sparse_csr' || layout.kind === 'sparse_coo') return undefined;
  if (layout.attributes) return layout.attributes;
  if (layout.kind === 'mx') return { block_size: layout.blockSize, axis: layout.axis, scale_form: 'e8m0_exponent' };
  if (layout.kind !== 'quant_group') return undefined;
  const word = ZT_WORD_NAMES[layout.packing.word] ?? layout.packing.word;
  const zero = layout.zeroPoint;
  return {
    bits: layout.bits,
    group_size: layout.groupSize,
    axis: layout.axis,
    packing: { word, order: layout.packing.order, per_word: Math.floor((8 * (ZT_STORAGE_DTYPE_WIDTHS[word] ?? 0)) / layout.bits) },
    scale_form: layout.scaleForm,
    zero_point: zero.form === 'implied' ? { form: 'implied', value: zero.value } : zero.form === 'tensor' ? { form: 'tensor', packing: zero.packing } : { form: 'none' },
  };
}

/**
 * How one part is stored: its zTensor dtype name when the reader kept it (`formatDtype`),
 * else from its tensio dtype; sparse indices of a signed type are stored unsigned (the
 * same bytes for the non-negative values valid indices hold).
 */
export function ztPartStorage(part: TensorPartInfo): { dtype: string; type?: string } | undefined {
  if (part.formatDtype !== undefined && part.formatDtype in ZT_STORAGE_DTYPE_WIDTHS) return { dtype: part.formatDtype };
  const signedAsUnsigned: Partial<Record<DType, DType>> = { int32: 'uint32', int64: 'uint64' };
  const dtype = (part.name === 'indices' || part.name === 'indptr' || part.name === 'coords') ? signedAsUnsigned[part.dtype] ?? part.dtype : part.dtype;
  const storage = ztStorageOf(dtype);
  if (!storage || storage.layout) return undefined;
  if (part.dtype === 'uint8' && part.formatDtype !== undefined && part.formatDtype !== 'u8' && !(part.formatDtype in ZT_STORAGE_DTYPE_WIDTHS)) return { dtype: 'u8', type: part.formatDtype };
  return storage;
}

const ZT_STORAGE_DTYPE_WIDTHS: Record<string, number> = { f64: 8, f32: 4, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u64: 8, u32: 4, u16: 2, u8: 1 };
