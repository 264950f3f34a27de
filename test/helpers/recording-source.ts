/** A byte source over bytes that records what is asked of it, for tests that check which bytes a reader reads. */
import { bytesSource, type ByteSource } from '../../src/storage/byte-source.js';

/** A {@link ByteSource} that records every range asked of it. */
export interface RecordingSource extends ByteSource {
  /** Every range asked, `[from, to)`, in the order asked. */
  readonly ranges: [number, number][];
  /** Bytes asked in all (the sum of the ranges' lengths). */
  readonly asked: number;
}

/**
 * A source over `bytes` that records every read. `readInto: true` offers `readInto` too
 * (recorded the same way), for readers that take a faster path when a source has it;
 * without it the source has `read` only, as the sources of remote files often do.
 */
export function recordingSource(bytes: Uint8Array, options: { readInto?: boolean } = {}): RecordingSource {
  const inner = bytesSource(bytes);
  const ranges: [number, number][] = [];
  let asked = 0;
  const record = (offset: number, length: number): void => {
    ranges.push([offset, offset + length]);
    asked += length;
  };
  const source: RecordingSource = {
    size: inner.size,
    ranges,
    get asked() {
      return asked;
    },
    read(offset, length, readOptions) {
      record(offset, length);
      return inner.read(offset, length, readOptions);
    },
  };
  if (options.readInto) {
    source.readInto = async (target, offset, readOptions) => {
      record(offset, target.byteLength);
      await inner.readInto!(target, offset, readOptions);
    };
  }
  return source;
}
