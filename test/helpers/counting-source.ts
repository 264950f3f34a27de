/** A slow byte source over bytes that counts its reads, for tests of how many reads a reader keeps in flight. */
import { bytesSource, type ByteSource } from '../../src/storage/byte-source.js';

/** A {@link ByteSource} that counts reads asked, reads under way, and the most under way at once. */
export interface CountingSource extends ByteSource {
  /** Reads asked so far. */
  reads: number;
  /** Reads under way now: 0 once a reader has let go of everything it started. */
  running: number;
  /** The most reads under way at once; a test may set it back to 0 between phases. */
  maxRunning: number;
}

/**
 * A source over `bytes` whose every read waits `delayMs` on a timer first, so reads a
 * reader starts at once overlap and can be counted. `readInto: true` offers `readInto`
 * too (counted the same way), for readers that take a faster path when a source has it;
 * without it the source has `read` only, as the sources of remote files often do.
 */
export function countingSource(bytes: Uint8Array, options: { delayMs?: number; readInto?: boolean } = {}): CountingSource {
  const inner = bytesSource(bytes);
  const delayMs = options.delayMs ?? 1;
  /** Counts one read for as long as `work` runs, after the delay. */
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    source.reads++;
    source.running++;
    source.maxRunning = Math.max(source.maxRunning, source.running);
    try {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return await work();
    } finally {
      source.running--;
    }
  };
  const source: CountingSource = {
    size: inner.size,
    reads: 0,
    running: 0,
    maxRunning: 0,
    read: (offset, length, readOptions) => counted(() => inner.read(offset, length, readOptions)),
  };
  if (options.readInto) source.readInto = (target, offset, readOptions) => counted(() => inner.readInto!(target, offset, readOptions));
  return source;
}
