/**
 * Dequantizing a tensor of any reader in bounded memory: its bytes stream in chunks,
 * whole blocks are decoded into one reused float32 buffer, and a block split across two
 * chunks is carried over. Memory: one input chunk plus one output buffer.
 */
import type { DType } from '../../core/dtype.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import type { TensorReader } from '../../model/types.js';
import { ggufCanDequantize, ggufDequantize } from './dequantize.js';
import { allocateZeroed } from '../../core/memory.js';
import { wholeItemRuns } from '../../storage/tensor-bytes.js';

const fail = errorFactory('gguf');

/** Options of {@link ggufDequantizeStream}. */
export interface DequantizeStreamOptions {
  /** Input bytes per chunk (default 8 MiB, rounded down to whole blocks). */
  chunkBytes?: number;
  /** Yield views of one reused buffer (valid until the next chunk is asked for). Default false. */
  reuseBuffer?: boolean;
  signal?: AbortSignal;
}

/** Bytes and elements of one block (plain float types: one element). */
export function dequantizeGeometry(dtype: DType): { elements: number; bytes: number } {
  return DTYPE_INFO[dtype].block ?? { elements: 1, bytes: DTYPE_INFO[dtype].bits / 8 };
}

/**
 * A tensor's values as float32 chunks, in C order, whatever its ggml type (see
 * `ggufDequantize` for the types). `UNSUPPORTED_DTYPE` before any read for a type
 * tensio cannot dequantize.
 *
 * @example
 * ```ts
 * for await (const values of ggufDequantizeStream(reader, 'token_embd.weight')) sum += values[0];
 * ```
 */
export async function* ggufDequantizeStream(reader: TensorReader, name: string, options: DequantizeStreamOptions = {}): AsyncGenerator<Float32Array> {
  const info = reader.info(name);
  if (!ggufCanDequantize(info.dtype)) fail('UNSUPPORTED_DTYPE', `gguf: tensor ${JSON.stringify(name)} is ${info.formatDtype ?? info.dtype}, which tensio cannot dequantize`);
  const { bytes: blockBytes, elements } = dequantizeGeometry(info.dtype);
  const chunkBytes = Math.max(blockBytes, Math.floor((options.chunkBytes ?? 8 * 2 ** 20) / blockBytes) * blockBytes);
  let out = new Float32Array((chunkBytes / blockBytes) * elements);
  const chunks = reader.stream(name, { chunkBytes, reuseBuffer: true, ...(options.signal ? { signal: options.signal } : {}) });
  const runs = wholeItemRuns(chunks, blockBytes, () => fail('TRUNCATED', `gguf: tensor ${JSON.stringify(name)} ends inside a ${info.dtype} block`));
  for await (const run of runs) {
    const needed = (run.byteLength / blockBytes) * elements;
    if (out.length < needed || !options.reuseBuffer) out = new Float32Array(Math.max(needed, options.reuseBuffer ? out.length : 0));
    yield ggufDequantize(info.dtype, run, out);
  }
}

/**
 * A whole tensor's values as one float32 array (shape: `reader.info(name).shape`).
 *
 * @example
 * ```ts
 * const weights = await ggufDequantizeTensor(reader, 'output.weight');
 * ```
 */
export async function ggufDequantizeTensor(reader: TensorReader, name: string, options: { signal?: AbortSignal } = {}): Promise<Float32Array> {
  const info = reader.info(name);
  const { bytes: blockBytes, elements } = dequantizeGeometry(info.dtype);
  const count = (info.byteLength / blockBytes) * elements;
  const out = new Float32Array(allocateZeroed(count * 4).buffer, 0, count);
  let at = 0;
  for await (const values of ggufDequantizeStream(reader, name, { reuseBuffer: true, ...options })) { out.set(values, at); at += values.length; }
  return out;
}
