/**
 * A tensor's values as numbers, streamed: the bytes of `reader.stream(name)` decoded
 * chunk by chunk into float64 or float32 arrays (C order), whatever the dtype — integers
 * and bool as numbers (64-bit integers through BigInt, exact up to 2^53), float16,
 * bfloat16, float8 through tensio's tables, GGUF block types dequantized. Memory: one
 * input chunk and its decoded values. Used by {@link tensorStatistics} (the web
 * inspector's statistics).
 */
import { DTYPE_INFO, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { toFloat32Array } from '../core/float-convert.js';
import { quoteInput } from '../core/quote.js';
import type { TensorReader } from '../model/types.js';
import { wholeItemRuns } from '../storage/tensor-bytes.js';
import { ggufCanDequantize } from '../formats/gguf/dequantize.js';
import { ggufDequantizeStream } from '../formats/gguf/dequantize-stream.js';

/** Options of {@link tensorValues}. */
export interface TensorValuesOptions {
  /** Bytes read per chunk (default 4 MiB). */
  chunkBytes?: number;
  signal?: AbortSignal;
}

/** True when {@link tensorValues} can decode this dtype. */
export function canDecodeValues(dtype: DType): boolean {
  const info = DTYPE_INFO[dtype];
  if (ggufCanDequantize(dtype)) return true;
  return info.kind === 'bool' || info.kind === 'int' || info.kind === 'uint' || (info.kind === 'float' && (info.bits === 64 || info.bits === 8));
}

/** Decodes whole elements of a dtype no block decoder handles. `bytes` is a fresh, aligned copy. */
function decodeElements(dtype: DType, bytes: Uint8Array, count: number): Float64Array | Float32Array {
  const info = DTYPE_INFO[dtype];
  if (info.kind === 'float' && info.bits === 8) return toFloat32Array({ dtype, shape: [count], data: bytes });
  const Ctor = info.typedArray!;
  const view = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  if (view instanceof Float64Array) return view;
  const out = new Float64Array(count);
  if (view instanceof BigInt64Array || view instanceof BigUint64Array) {
    for (let i = 0; i < count; i++) out[i] = Number(view[i]!);
  } else {
    out.set(view as ArrayLike<number>);
  }
  return out;
}

/**
 * The values of tensor `name`, chunk by chunk. `UNSUPPORTED_DTYPE` (before any read) for
 * complex, opaque, sub-byte floats and block types tensio cannot dequantize;
 * `UNSUPPORTED_FEATURE` for multi-part tensors (sparse, grouped quantization).
 *
 * @example
 * ```ts
 * let sum = 0;
 * for await (const values of tensorValues(reader, 'w')) for (const v of values) sum += v;
 * ```
 */
export async function* tensorValues(reader: TensorReader, name: string, options: TensorValuesOptions = {}): AsyncGenerator<Float64Array | Float32Array> {
  const info = reader.info(name);
  if (info.layout || info.parts) {
    throw new TensioError('UNSUPPORTED_FEATURE', `tensor ${quoteInput(name)} is made of several parts (${info.layout?.kind ?? 'parts'}); densify it first (tensio convert --densify) to see its values`);
  }
  if (!canDecodeValues(info.dtype)) {
    throw new TensioError('UNSUPPORTED_DTYPE', `tensor ${quoteInput(name)} is ${info.formatDtype ?? info.dtype}, whose values tensio cannot decode as numbers`);
  }
  const chunkBytes = Math.max(1024, options.chunkBytes ?? 4 * 2 ** 20);
  const signalOption = options.signal ? { signal: options.signal } : {};
  if (ggufCanDequantize(info.dtype)) {
    yield* ggufDequantizeStream(reader, name, { chunkBytes, ...signalOption });
    return;
  }
  const itemBytes = DTYPE_INFO[info.dtype].bits / 8;
  const runs = wholeItemRuns(reader.stream(name, { chunkBytes, ...signalOption }), itemBytes, (carried) => {
    throw new TensioError('TRUNCATED', `tensor ${quoteInput(name)} ends inside an element (${carried} of ${itemBytes} bytes)`);
  });
  // A copy of each run: aligned for the typed view, and the runs are reused buffers.
  for await (const run of runs) yield decodeElements(info.dtype, run.slice(), run.byteLength / itemBytes);
}
