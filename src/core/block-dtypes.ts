/**
 * Block-quantized dtypes: elements stored in fixed-size blocks (a scale or two plus
 * packed quants), so a tensor's byte length is `elements / elementsPerBlock ×
 * bytesPerBlock` and blocks run along the last axis (ggml's `ne[0]`), whose length must
 * be a multiple of the block size.
 *
 * The types are ggml's (GGUF files, llama.cpp), named after ggml's type names in lower
 * case; the block layouts are those of ggml's `ggml-common.h`. tensio moves their blocks
 * through unchanged (read, slice by rows, stream, convert into a writer that holds them);
 * turning blocks into numbers (dequantizing) is a separate, explicit step.
 */

/** Geometry and origin of one block-quantized dtype. */
export interface BlockDTypeInfo {
  /** Elements per block (ggml's `blck_size`). */
  readonly elementsPerBlock: number;
  /** Bytes per block (ggml's `type_size`). */
  readonly bytesPerBlock: number;
  /** ggml's type id (`enum ggml_type`), the id GGUF files store. */
  readonly ggmlTypeId: number;
  /** ggml's own name (`GGML_TYPE_<name>`). */
  readonly ggmlName: string;
}

/**
 * Every block-quantized dtype, with ggml's geometry. Checked against gguf-py's
 * `GGML_QUANT_SIZES` by `test/core-block-dtypes.test.ts`, with one documented
 * difference: gguf-py still gives Q8_1 40 bytes (float `d` and `s`, an old layout),
 * while ggml's `block_q8_1` holds two halves and 32 quants, 36 bytes.
 */
export const BLOCK_DTYPE_INFO = {
  q4_0: { elementsPerBlock: 32, bytesPerBlock: 18, ggmlTypeId: 2, ggmlName: 'Q4_0' },
  q4_1: { elementsPerBlock: 32, bytesPerBlock: 20, ggmlTypeId: 3, ggmlName: 'Q4_1' },
  q5_0: { elementsPerBlock: 32, bytesPerBlock: 22, ggmlTypeId: 6, ggmlName: 'Q5_0' },
  q5_1: { elementsPerBlock: 32, bytesPerBlock: 24, ggmlTypeId: 7, ggmlName: 'Q5_1' },
  q8_0: { elementsPerBlock: 32, bytesPerBlock: 34, ggmlTypeId: 8, ggmlName: 'Q8_0' },
  q8_1: { elementsPerBlock: 32, bytesPerBlock: 36, ggmlTypeId: 9, ggmlName: 'Q8_1' },
  q2_k: { elementsPerBlock: 256, bytesPerBlock: 84, ggmlTypeId: 10, ggmlName: 'Q2_K' },
  q3_k: { elementsPerBlock: 256, bytesPerBlock: 110, ggmlTypeId: 11, ggmlName: 'Q3_K' },
  q4_k: { elementsPerBlock: 256, bytesPerBlock: 144, ggmlTypeId: 12, ggmlName: 'Q4_K' },
  q5_k: { elementsPerBlock: 256, bytesPerBlock: 176, ggmlTypeId: 13, ggmlName: 'Q5_K' },
  q6_k: { elementsPerBlock: 256, bytesPerBlock: 210, ggmlTypeId: 14, ggmlName: 'Q6_K' },
  q8_k: { elementsPerBlock: 256, bytesPerBlock: 292, ggmlTypeId: 15, ggmlName: 'Q8_K' },
  iq2_xxs: { elementsPerBlock: 256, bytesPerBlock: 66, ggmlTypeId: 16, ggmlName: 'IQ2_XXS' },
  iq2_xs: { elementsPerBlock: 256, bytesPerBlock: 74, ggmlTypeId: 17, ggmlName: 'IQ2_XS' },
  iq3_xxs: { elementsPerBlock: 256, bytesPerBlock: 98, ggmlTypeId: 18, ggmlName: 'IQ3_XXS' },
  iq1_s: { elementsPerBlock: 256, bytesPerBlock: 50, ggmlTypeId: 19, ggmlName: 'IQ1_S' },
  iq4_nl: { elementsPerBlock: 32, bytesPerBlock: 18, ggmlTypeId: 20, ggmlName: 'IQ4_NL' },
  iq3_s: { elementsPerBlock: 256, bytesPerBlock: 110, ggmlTypeId: 21, ggmlName: 'IQ3_S' },
  iq2_s: { elementsPerBlock: 256, bytesPerBlock: 82, ggmlTypeId: 22, ggmlName: 'IQ2_S' },
  iq4_xs: { elementsPerBlock: 256, bytesPerBlock: 136, ggmlTypeId: 23, ggmlName: 'IQ4_XS' },
  iq1_m: { elementsPerBlock: 256, bytesPerBlock: 56, ggmlTypeId: 29, ggmlName: 'IQ1_M' },
  tq1_0: { elementsPerBlock: 256, bytesPerBlock: 54, ggmlTypeId: 34, ggmlName: 'TQ1_0' },
  tq2_0: { elementsPerBlock: 256, bytesPerBlock: 66, ggmlTypeId: 35, ggmlName: 'TQ2_0' },
  mxfp4: { elementsPerBlock: 32, bytesPerBlock: 17, ggmlTypeId: 39, ggmlName: 'MXFP4' },
  nvfp4: { elementsPerBlock: 64, bytesPerBlock: 36, ggmlTypeId: 40, ggmlName: 'NVFP4' },
  q1_0: { elementsPerBlock: 128, bytesPerBlock: 18, ggmlTypeId: 41, ggmlName: 'Q1_0' },
  q2_0: { elementsPerBlock: 64, bytesPerBlock: 18, ggmlTypeId: 42, ggmlName: 'Q2_0' },
} as const satisfies Record<string, BlockDTypeInfo>;

/** The name of a block-quantized dtype: `'q4_0'`, `'q4_k'`, `'iq2_xxs'`, `'mxfp4'`, … */
export type BlockDType = keyof typeof BLOCK_DTYPE_INFO;

/** All block-quantized dtype names, in ggml type-id order. */
export const BLOCK_DTYPES: readonly BlockDType[] = Object.keys(BLOCK_DTYPE_INFO) as BlockDType[];

const BY_GGML_ID = new Map<number, BlockDType>(BLOCK_DTYPES.map((name) => [BLOCK_DTYPE_INFO[name].ggmlTypeId, name]));

/**
 * True for a block-quantized dtype name.
 *
 * @example
 * ```ts
 * isBlockDType('q4_k'); // true
 * isBlockDType('float16'); // false
 * ```
 */
export function isBlockDType(name: unknown): name is BlockDType {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(BLOCK_DTYPE_INFO, name);
}

/**
 * The block-quantized dtype of a ggml type id, or undefined (plain types such as F32,
 * removed or unknown ids: a GGUF reader keeps an unknown id as `opaque`).
 *
 * @example
 * ```ts
 * blockDTypeOfGgmlType(12); // 'q4_k'
 * ```
 */
export function blockDTypeOfGgmlType(id: number): BlockDType | undefined {
  return BY_GGML_ID.get(id);
}

/**
 * Why a format that has no block-quantized dtypes cannot write one, or undefined for any
 * other dtype. Writing the blocks as plain bytes would lose what they mean, so no such
 * writer accepts them; formats that store blocks (GGUF, zTensor's `gguf.<type>/1`
 * layout) accept them as they are.
 *
 * @example
 * ```ts
 * blockDTypeRefusal('q4_0', 'safetensors'); // 'q4_0 is block-quantized (32 elements in 18-byte blocks); safetensors has no such dtype: …'
 * ```
 */
export function blockDTypeRefusal(dtype: string, formatLabel: string): string | undefined {
  if (!isBlockDType(dtype)) return undefined;
  const { elementsPerBlock, bytesPerBlock } = BLOCK_DTYPE_INFO[dtype];
  return `${dtype} is block-quantized (${elementsPerBlock} elements in ${bytesPerBlock}-byte blocks); ${formatLabel} has no such dtype: keep it in a format that holds ggml blocks (GGUF, zTensor), or dequantize it first`;
}
