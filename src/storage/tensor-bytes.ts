/**
 * Tensor bytes as writers receive them (one buffer or a stream of chunks) and the
 * helpers that iterate or gather them. Byte plumbing: no format and no model types here.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { allocateZeroed } from '../core/memory.js';

/** Tensor bytes for a writer: all at once, or as a stream of chunks. */
export type TensorBytes = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Iterates the chunks of {@link TensorBytes} (a single buffer is one chunk).
 *
 * @example
 * ```ts
 * for await (const chunk of chunksOf(data)) await sink.write(chunk);
 * ```
 */
export async function* chunksOf(data: TensorBytes, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  for await (const chunk of data as AsyncIterable<Uint8Array>) {
    throwIfAborted(signal);
    if (!(chunk instanceof Uint8Array)) {
      throw new TensioError('INVALID_ARGUMENT', `tensor data chunks must be Uint8Array, got ${Object.prototype.toString.call(chunk)}`);
    }
    yield chunk;
  }
}

/**
 * Gathers {@link TensorBytes} into one buffer of exactly `expected` bytes (for formats
 * that must hold a whole tensor, e.g. to byte-swap or compress it).
 */
export async function collectBytes(data: TensorBytes, expected: number, what: string, signal?: AbortSignal): Promise<Uint8Array> {
  if (data instanceof Uint8Array) {
    if (data.byteLength !== expected) {
      throw new TensioError('SIZE_MISMATCH', `${what}: expected ${expected} bytes, got ${data.byteLength}`);
    }
    return data;
  }
  const out = allocateZeroed(expected);
  let at = 0;
  for await (const chunk of chunksOf(data, signal)) {
    if (at + chunk.byteLength > expected) {
      throw new TensioError('SIZE_MISMATCH', `${what}: expected ${expected} bytes, got more than ${at + chunk.byteLength}`);
    }
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  if (at !== expected) throw new TensioError('SIZE_MISMATCH', `${what}: expected ${expected} bytes, got ${at}`);
  return out;
}
