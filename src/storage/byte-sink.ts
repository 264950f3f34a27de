/**
 * The write side of storage: a sequential byte sink that publishes on `close()`.
 */
import { TensioError } from '../core/errors.js';

/**
 * Sequential bytes out. Nothing is visible at the destination until `close()`
 * resolves; `abort()` throws everything away.
 */
export interface ByteSink {
  /** Bytes written so far. */
  readonly position: number;
  /**
   * Whether {@link ByteSink.writeAt} can patch bytes already written before `close()`:
   * a local file can (the atomic sink's temporary file), an object-store upload cannot
   * (parts already sent are gone). Writers that must patch (safetensors CRC32s in the
   * header) check this first and say why they cannot write to a sink without it.
   */
  readonly canWriteAt: boolean;
  /**
   * Overwrites bytes already written at `position`; present when `canWriteAt` is true.
   * Throws `INVALID_ARGUMENT` for a range not yet written.
   */
  writeAt?(position: number, bytes: Uint8Array): Promise<void>;
  /**
   * Appends bytes. The sink may keep a reference until the promise resolves: do not
   * change `chunk` before then.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Appends `chunks` in order with one gathered write (`writev`), when the sink can: a
   * record batch's many buffers then cost one system call, not one each. Same contract
   * as {@link ByteSink.write} for every chunk. Call it through {@link sinkWriteMany},
   * which falls back to one `write` per chunk.
   */
  writeMany?(chunks: readonly Uint8Array[]): Promise<void>;
  /** Flushes, makes durable and publishes. */
  close(): Promise<void>;
  /** Discards everything written; the destination keeps what it had. Safe after close. */
  abort(): Promise<void>;
}

/**
 * Writes `bytes` as the whole content of `sink` and publishes it; on any failure the
 * sink is aborted (the destination keeps what it had) and the error rethrown.
 *
 * @example
 * ```ts
 * await sinkWriteAll(await atomicFileSink(path, { durable: true }), bytes);
 * ```
 */
export async function sinkWriteAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  try {
    await sink.write(bytes);
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/**
 * Appends `chunks` to `sink` in order: one gathered write when the sink has
 * {@link ByteSink.writeMany}, else one `write` per chunk.
 *
 * @example
 * ```ts
 * await sinkWriteMany(sink, [message, ...bodyParts]);
 * ```
 */
export async function sinkWriteMany(sink: ByteSink, chunks: readonly Uint8Array[]): Promise<void> {
  if (sink.writeMany) return sink.writeMany(chunks);
  for (const chunk of chunks) await sink.write(chunk);
}

/** A {@link ByteSink} that collects bytes in memory; `bytes()` gives them after close. */
export interface MemorySink extends ByteSink {
  bytes(): Uint8Array;
}

/**
 * A sink that keeps the bytes in memory (tests, small files, the browser).
 *
 * @example
 * ```ts
 * const sink = memorySink();
 * await safetensorsWrite(sink, tensors);
 * const file = sink.bytes();
 * ```
 */
export function memorySink(): MemorySink {
  const parts: Uint8Array[] = [];
  let position = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';
  let joined: Uint8Array | undefined;
  return {
    get position() {
      return position;
    },
    canWriteAt: true,
    async write(chunk) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} sink`);
      parts.push(chunk.slice());
      position += chunk.byteLength;
    },
    async writeAt(at, bytes) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} sink`);
      if (!Number.isSafeInteger(at) || at < 0 || at + bytes.byteLength > position) {
        throw new TensioError('INVALID_ARGUMENT', `writeAt(${at}, ${bytes.byteLength} bytes) outside the ${position} bytes written`);
      }
      // Patch every part the range touches (parts are the caller's chunks, copied).
      let partStart = 0;
      for (const part of parts) {
        const from = Math.max(at, partStart);
        const to = Math.min(at + bytes.byteLength, partStart + part.byteLength);
        if (from < to) part.set(bytes.subarray(from - at, to - at), from - partStart);
        partStart += part.byteLength;
      }
    },
    async close() {
      if (state === 'aborted') throw new TensioError('INVALID_STATE', 'close of an aborted sink');
      state = 'closed';
    },
    async abort() {
      if (state === 'open') state = 'aborted';
      parts.length = 0;
    },
    bytes() {
      if (state !== 'closed') throw new TensioError('INVALID_STATE', 'memory sink read before close()');
      if (!joined) {
        joined = new Uint8Array(position);
        let at = 0;
        for (const part of parts) {
          joined.set(part, at);
          at += part.byteLength;
        }
        parts.length = 0;
        parts.push(joined);
      }
      return joined;
    },
  };
}
