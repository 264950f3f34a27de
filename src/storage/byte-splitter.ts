/**
 * Cutting one stream of chunks into consecutive byte runs: a multi-part tensor's parts
 * arrive as one stream (`add` gets them one after the other) and a writer stores each
 * part (or a piece of one) on its own.
 */

/** Consecutive runs of a chunk stream; see {@link byteSplitter}. */
export interface ByteSplitter {
  /** The next `bytes` bytes of the stream, as chunks (fewer when the stream ends first). */
  take(bytes: number): AsyncGenerator<Uint8Array>;
  /** Reads whatever is left (the caller's byte counter then sees a stream that was too long). */
  drain(): Promise<void>;
}

/**
 * A splitter over `chunks`: `take(n)` yields exactly the next n bytes (views, no copies)
 * unless the stream ends first. Runs must be taken one after the other.
 *
 * @example
 * ```ts
 * const split = byteSplitter(chunks);
 * for (const part of spec.parts!) await writeBlob(split.take(part.byteLength));
 * await split.drain();
 * ```
 */
export function byteSplitter(chunks: AsyncIterable<Uint8Array>): ByteSplitter {
  const iterator = chunks[Symbol.asyncIterator]();
  let pending: Uint8Array | undefined;
  return {
    async *take(bytes: number): AsyncGenerator<Uint8Array> {
      let left = bytes;
      while (left > 0) {
        if (!pending || pending.length === 0) {
          const next = await iterator.next();
          if (next.done) return;
          pending = next.value;
        }
        const piece = pending.subarray(0, Math.min(left, pending.length));
        pending = pending.subarray(piece.length);
        left -= piece.length;
        yield piece;
      }
    },
    async drain(): Promise<void> {
      pending = undefined;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) void next;
    },
  };
}
