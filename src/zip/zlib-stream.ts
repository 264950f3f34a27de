/**
 * Pushes an async iterable of chunks through a node:zlib transform with backpressure,
 * yielding its output; errors on either side surface in the consumer's loop.
 */
import { Readable, type Transform } from 'node:stream';

/**
 * Streams `input` through `transform` (e.g. `createInflateRaw()`), yielding output chunks.
 * Stopping the loop early destroys both streams.
 *
 * @example
 * ```ts
 * for await (const out of zlibPipe(compressedChunks, createInflateRaw())) sink.push(out);
 * ```
 */
export async function* zlibPipe(input: AsyncIterable<Uint8Array>, transform: Transform): AsyncGenerator<Uint8Array> {
  const readable = Readable.from(input, { objectMode: false });
  readable.on('error', (err) => transform.destroy(err));
  readable.pipe(transform);
  try {
    for await (const chunk of transform) {
      const buffer = chunk as Buffer;
      yield new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
  } finally {
    readable.destroy();
    transform.destroy();
  }
}
