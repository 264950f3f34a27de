/**
 * How `stream()` and span reads move a tensor's bytes out of a {@link ByteSource}
 * (used by `create-reader.ts`): views over mapping windows, two reused buffers read
 * ahead on libuv's pool, and the pool of reused stream buffers they share. Split out of
 * the reader so the reader keeps the API and this file the byte movement.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { checkMappedIntact, readIntoFrom, type ByteSource } from '../storage/byte-source.js';
import type { NextSpanReadAhead } from './next-span-read-ahead.js';

/** A fresh buffer of `length` bytes at `offset`, read off the JavaScript thread when asked. */
export async function readSpan(source: ByteSource, offset: number, length: number, signal?: AbortSignal, offThread = false): Promise<Uint8Array> {
  // A fresh buffer per tensor: callers own what read() returns.
  const target = allocateUninitialized(length);
  const options = signal || offThread ? { ...(signal ? { signal } : {}), ...(offThread ? { offThread } : {}) } : undefined;
  await readIntoFrom(source, target, offset, options);
  return target;
}

/**
 * The largest mapping a stream makes at a time. A window is unmapped when the chunks
 * cut from it are collected, so a stream over a 20 GiB tensor never holds it all.
 */
const STREAM_MAP_WINDOW_BYTES = 2 ** 30;

/**
 * A read-ahead stream's first chunk is read in two halves at once (this thread and the
 * pool) when each half is at least this long: below it, the trip through the pool costs
 * more than the half it would take off this thread.
 */
const STREAM_SPLIT_MIN_BYTES = 1024 * 1024;

/** Where a first chunk of `size` bytes is split in two reads at once (page-aligned), or `size` when it is too short to gain. */
export function firstChunkSplit(size: number): number {
  return size >= 2 * STREAM_SPLIT_MIN_BYTES ? (size >> 1) - ((size >> 1) % 4096) : size;
}

/**
 * Streams `total` bytes at `offset` as views over mapping windows. Before each chunk
 * after the first, and at the end, the window is checked for a truncation under the
 * mapping (pages turned into zeros by the addon): a stream never ends as if nothing
 * happened after the file was cut short under it (`SOURCE_CHANGED`). A window the
 * system refuses to map is read into fresh memory instead.
 */
export async function* streamMapped(source: ByteSource, offset: number, total: number, chunkBytes: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let windowStart = 0; windowStart < total; windowStart += STREAM_MAP_WINDOW_BYTES) {
    const windowLength = Math.min(STREAM_MAP_WINDOW_BYTES, total - windowStart);
    throwIfAborted(signal);
    const mapped = source.map!(offset + windowStart, windowLength);
    const window = mapped?.bytes ?? await readSpan(source, offset + windowStart, windowLength, signal);
    for (let at = 0; at < windowLength; at += chunkBytes) {
      throwIfAborted(signal);
      if (mapped) checkMappedIntact(mapped, source, offset + windowStart);
      yield window.subarray(at, Math.min(windowLength, at + chunkBytes));
    }
    if (mapped) checkMappedIntact(mapped, source, offset + windowStart);
  }
}

/**
 * Streams `total` bytes at `offset` of a local file through two reused buffers: while the
 * consumer works on one chunk, the next is read into the other on libuv's thread pool
 * (`ReadOptions.offThread`), so a consumer that touches every byte (a sum, a hash, a
 * write) and the copy out of the page cache run on two cores. The first chunk is read
 * in two halves at once, one on the JavaScript thread and one on the pool, since nothing
 * runs beside it yet (a tensor of one chunk gains from that alone).
 *
 * Bounds: two buffers of `chunkBytes` (from the stream buffer pool) and one read in
 * flight. Leaving the loop early (break, return(), an error) waits for that read before
 * the buffers go back to the pool, so no later stream is handed a buffer still being
 * written; its error, if any, is dropped with it (nobody asked for its bytes). A read
 * error of a chunk the consumer asks for is thrown to it. `close()` of the reader during
 * the stream fails the next chunk with `INVALID_STATE` (the read in flight finishes
 * first: Node closes a file handle only after its pending reads).
 *
 * Across tensors (`acrossTensors`, the reader's {@link NextSpanReadAhead}): handing out
 * its last chunk, the stream starts the read of the next tensor's first chunk, and a
 * stream whose first chunk was read so takes that read over instead of reading (no
 * half-split then: its bytes are in or on their way).
 */
export async function* streamReadAhead(source: ByteSource, offset: number, total: number, chunkBytes: number, isClosed: () => boolean, signal?: AbortSignal, acrossTensors?: NextSpanReadAhead): AsyncGenerator<Uint8Array> {
  const size = Math.min(chunkBytes, total);
  const taken = acrossTensors?.take(source, offset, size);
  const buffers = [taken?.buffer ?? takeStreamBuffer(size), ...(total > chunkBytes ? [takeStreamBuffer(size)] : [])];
  const readOptions = { offThread: true, ...(signal ? { signal } : {}) };
  const syncOptions = signal ? { signal } : undefined;
  // The read a buffer may still be written by; awaited before the buffers go back to the pool.
  let inFlight: Promise<void> | undefined = taken?.read;
  /** Starts a read of `length` bytes at `at` into `target` on the pool. */
  const startRead = (target: Uint8Array, at: number): Promise<void> => {
    const read = source.readInto!(target, offset + at, readOptions);
    // Awaited when the consumer asks for the chunk, or in `finally` when it leaves first.
    read.catch(() => undefined);
    inFlight = read;
    return read;
  };
  try {
    throwIfAborted(signal);
    const first = buffers[0]!.subarray(0, size);
    let current = { chunk: first, read: taken?.read ?? Promise.resolve() };
    if (!taken) {
      // The first chunk: its back half on the pool while this thread reads its front half.
      const half = firstChunkSplit(size);
      if (half < size) current = { chunk: first, read: startRead(first.subarray(half), half) };
      await source.readInto!(first.subarray(0, half), offset, syncOptions);
    }
    for (let at = 0, index = 0; ; index ^= 1) {
      await current.read;
      inFlight = undefined;
      throwIfAborted(signal);
      const nextAt = at + chunkBytes;
      let next: typeof current | undefined;
      if (nextAt < total) {
        const chunk = buffers[index ^ 1]!.subarray(0, Math.min(chunkBytes, total - nextAt));
        next = { chunk, read: startRead(chunk, nextAt) };
      }
      // The last chunk: the next tensor's first chunk is read while the consumer works on this one.
      if (!next) acrossTensors?.startAfter(source, offset + total, chunkBytes);
      yield current.chunk;
      if (!next) return;
      if (isClosed()) throw new TensioError('INVALID_STATE', `${source.name ?? 'the file'}: the reader was closed during a stream`);
      current = next;
      at = nextAt;
    }
  } finally {
    // The buffer a read is still writing goes back to the pool only once that read is done.
    if (inFlight) await inFlight.catch(() => undefined);
    for (const buffer of buffers) giveBackStreamBuffer(buffer);
  }
}

/**
 * Reused stream buffers outlive one `stream()` call: a conversion streams tensor after
 * tensor, and a fresh 8 MiB buffer per tensor would pay first-touch page faults each
 * time (about half the speed of reading from the page cache on this class of machine).
 * A stream takes a buffer for its whole life and gives it back when it ends, so
 * concurrent streams never share one.
 */
const streamBufferPool: Uint8Array[] = [];
const STREAM_BUFFER_POOL_SIZE = 4;
/** Larger buffers (a caller's huge `chunkBytes`) are not kept: memory stays bounded. */
const STREAM_BUFFER_POOL_MAX_BYTES = 64 * 2 ** 20;

export function takeStreamBuffer(length: number): Uint8Array {
  const index = streamBufferPool.findIndex((buffer) => buffer.byteLength >= length);
  if (index >= 0) return streamBufferPool.splice(index, 1)[0]!;
  return allocateUninitialized(length);
}

export function giveBackStreamBuffer(buffer: Uint8Array): void {
  if (streamBufferPool.length < STREAM_BUFFER_POOL_SIZE && buffer.byteLength <= STREAM_BUFFER_POOL_MAX_BYTES) streamBufferPool.push(buffer);
}
