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
 * Regroups a stream of chunks into runs of whole items of `itemBytes` each (elements, or
 * quantized blocks), for code that decodes items and must never see one cut in two. The
 * whole items of each chunk come as one view of that chunk; an item split across chunks
 * is joined in a carry buffer and comes alone. A run is valid until the next is asked for
 * (the carry buffer is reused, and the stream may reuse its chunks). A stream that ends
 * inside an item calls `endedInsideItem` with the bytes it had of it (which throws).
 *
 * @example
 * ```ts
 * for await (const run of wholeItemRuns(reader.stream(name), 4, (n) => fail('TRUNCATED', `${n} of 4 bytes`))) decode(run);
 * ```
 */
export async function* wholeItemRuns(chunks: AsyncIterable<Uint8Array>, itemBytes: number, endedInsideItem: (carried: number) => never): AsyncGenerator<Uint8Array> {
  const carry = new Uint8Array(itemBytes);
  let carried = 0;
  for await (const chunk of chunks) {
    let at = 0;
    if (carried > 0) {
      const take = Math.min(itemBytes - carried, chunk.byteLength);
      carry.set(chunk.subarray(0, take), carried);
      carried += take;
      at = take;
      if (carried < itemBytes) continue;
      carried = 0;
      yield carry;
    }
    const whole = Math.floor((chunk.byteLength - at) / itemBytes) * itemBytes;
    if (whole > 0) yield chunk.subarray(at, at + whole);
    const rest = chunk.byteLength - at - whole;
    if (rest > 0) {
      carry.set(chunk.subarray(at + whole), 0);
      carried = rest;
    }
  }
  if (carried > 0) endedInsideItem(carried);
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
