/**
 * Block-quantized tensors (ggml's `q4_k`, `q8_0`, …) going to a format that cannot hold
 * them: by default their blocks travel unchanged as a `uint8` tensor of shape
 * `[...shape[:-1], rowBytes]`, with the ggml type recorded in the metadata under
 * `ggml_type:<name>` (so a GGUF writer restores the tensor exactly); with `dequantize`
 * they become float32 values, streamed (gguf-py's `dequantize`, bit for bit). Going
 * the other way, a `uint8` tensor whose `ggml_type:<name>` the input records becomes
 * its blocks again for a format that holds them (the key is then dropped).
 */
import { BLOCK_DTYPE_INFO, isBlockDType } from '../core/block-dtypes.js';
import type { DType } from '../core/dtype.js';
import { errorFactory } from '../core/errors.js';
import type { TensorFormat, TensorInfo, TensorSpec } from '../model/types.js';
import { GGML_TYPE_METADATA_PREFIX, dtypeOfGgmlType, ggmlTypeIdOfName } from '../formats/gguf/ggml-types.js';
import { DTYPE_INFO } from '../core/dtype.js';
import type { Metadata } from '../model/types.js';

const fail = errorFactory('tensio');

/** What happens to one tensor on its way to the output format. */
export interface BlockConversion {
  /** The spec the writer gets. */
  readonly spec: TensorSpec;
  /** A metadata entry to add (`ggml_type:<name>` → `'Q4_K'`). */
  readonly metadata?: readonly [string, string];
  /** A metadata key to leave out (the record of blocks that are blocks again). */
  readonly dropMetadata?: string;
  /** Turns the input's byte stream into the written one (dequantization). */
  readonly transform?: (chunks: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;
}

/** ggml's block decoders (`formats/gguf/dequantize.ts`), loaded only when a conversion asks to dequantize. */
export type Dequantizer = Pick<typeof import('../formats/gguf/dequantize.js'), 'ggufCanDequantize' | 'ggufDequantize'>;

/**
 * Loads the block decoders (their tables are large; `import('tensio')` does not load them).
 *
 * @example
 * ```ts
 * const dequantizer = options.dequantize ? await loadDequantizer() : undefined;
 * ```
 */
export async function loadDequantizer(): Promise<Dequantizer> {
  return import('../formats/gguf/dequantize.js');
}

/**
 * How a tensor of `info` is written to `format` under `name`: unchanged when the format
 * holds its dtype (or it is not block-quantized); as float32 values when a `dequantizer`
 * is given; else as its raw blocks (`uint8`) with the ggml type in the metadata.
 */
export function blockConversion(info: TensorInfo, name: string, format: TensorFormat, dequantizer: Dequantizer | undefined, metadata: Metadata): BlockConversion | undefined {
  const dtype = info.dtype;
  if (dtype === 'uint8') return restoredBlocks(info, name, format, metadata);
  if (!isBlockDType(dtype)) return undefined;
  if (dequantizer) {
    if (!dequantizer.ggufCanDequantize(dtype)) fail('UNSUPPORTED_DTYPE', `tensio cannot dequantize ${JSON.stringify(info.name)} (${BLOCK_DTYPE_INFO[dtype].ggmlName}); convert without dequantize to keep its blocks`);
    return { spec: { name, dtype: 'float32', shape: info.shape }, transform: (chunks) => dequantizeChunks(chunks, dtype, dequantizer) };
  }
  if (format.capabilities.dtypes.includes(dtype)) return undefined;
  const { elementsPerBlock, bytesPerBlock, ggmlName } = BLOCK_DTYPE_INFO[dtype];
  const last = info.shape[info.shape.length - 1] ?? 1;
  return {
    spec: { name, dtype: 'uint8', shape: [...info.shape.slice(0, -1), (last / elementsPerBlock) * bytesPerBlock] },
    metadata: [`${GGML_TYPE_METADATA_PREFIX}${name}`, ggmlName],
  };
}

/** float32 bytes of a stream of whole or split blocks (a split block is carried to the next chunk). */
async function* dequantizeChunks(chunks: AsyncIterable<Uint8Array>, dtype: DType, { ggufDequantize }: Dequantizer): AsyncGenerator<Uint8Array> {
  const blockBytes = BLOCK_DTYPE_INFO[dtype as keyof typeof BLOCK_DTYPE_INFO].bytesPerBlock;
  let pending = new Uint8Array(0);
  for await (const chunk of chunks) {
    let joined = chunk;
    if (pending.byteLength > 0) {
      joined = new Uint8Array(pending.byteLength + chunk.byteLength);
      joined.set(pending);
      joined.set(chunk, pending.byteLength);
    }
    const whole = Math.floor(joined.byteLength / blockBytes) * blockBytes;
    if (whole > 0) {
      const values = ggufDequantize(dtype, joined.subarray(0, whole));
      yield new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    }
    pending = joined.slice(whole);
  }
  if (pending.byteLength > 0) fail('TRUNCATED', `a ${dtype} tensor ends inside a block`);
}

/** A `uint8` tensor of raw blocks recorded as `ggml_type:<name>`, as its block dtype again (for a format that holds it). */
function restoredBlocks(info: TensorInfo, name: string, format: TensorFormat, metadata: Metadata): BlockConversion | undefined {
  const key = `${GGML_TYPE_METADATA_PREFIX}${info.name}`;
  const recorded = metadata[key];
  if (typeof recorded !== 'string' || info.shape.length === 0) return undefined;
  const id = ggmlTypeIdOfName(recorded);
  const dtype = id === undefined ? undefined : dtypeOfGgmlType(id).dtype;
  const block = dtype === undefined ? undefined : DTYPE_INFO[dtype].block;
  if (!dtype || !block || !format.capabilities.dtypes.includes(dtype)) return undefined;
  const rowBytes = info.shape[info.shape.length - 1]!;
  if (rowBytes % block.bytes !== 0) fail('INVALID_METADATA', `${key} = ${JSON.stringify(recorded)}, but ${info.name} has ${rowBytes}-byte rows, not whole ${block.bytes}-byte blocks`);
  return { spec: { name, dtype, shape: [...info.shape.slice(0, -1), (rowBytes / block.bytes) * block.elements] }, dropMetadata: key };
}
