/**
 * Staging for sinks that cannot patch: a writer that must go back over bytes it already
 * wrote (safetensors CRC32s reserved in the header) writes to a local temporary file
 * instead, which can be patched, and the finished file is copied to the real sink on
 * `close()`. The destination sees one sequential stream and nothing until `close()`;
 * `abort()` removes the temporary and aborts the destination. Costs a local copy of the
 * output (disk space and one extra read), which is why a writer only stages when the
 * destination cannot `writeAt`.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import type { ByteSink } from './byte-sink.js';
import { temporaryPathFor } from './temporary-names.js';
import { writeFullyAt } from './write-fully.js';

/** Options for {@link stagedSink}. */
export interface StagedSinkOptions {
  /** Folder of the temporary file; default the OS temporary folder. */
  folder?: string;
  /** Bytes copied per write to the destination; default 8 MiB. */
  chunkBytes?: number;
}

/**
 * A sink that can `writeAt`, staged in a local temporary file and copied to
 * `destination` (which need not support `writeAt`) on `close()`.
 *
 * @example
 * ```ts
 * const upload = someUploadSink(); // canWriteAt: false
 * const sink = await stagedSink(upload);
 * await sink.write(header); await sink.write(data); await sink.writeAt(40, crc);
 * await sink.close(); // copies the temporary to `upload`, then closes it
 * ```
 */
export async function stagedSink(destination: ByteSink, options: StagedSinkOptions = {}): Promise<ByteSink> {
  const path = temporaryPathFor(join(options.folder ?? tmpdir(), 'staged'));
  const chunkBytes = options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES;
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx+');
  } catch (cause) {
    throw new TensioError('IO_ERROR', `cannot create a staging file in ${options.folder ?? tmpdir()} (needed because the destination cannot patch bytes already written): ${(cause as Error).message}`, { path, cause });
  }
  let position = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';

  async function writeFully(bytes: Uint8Array, at: number): Promise<void> {
    await writeFullyAt(handle, bytes, at, (byte, cause) => new TensioError('IO_ERROR', `writing the staging file ${path} failed at byte ${byte}: ${(cause as Error).message}`, { path, cause }));
  }

  async function removeTemporary(): Promise<void> {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
  }

  const checkOpen = (): void => {
    if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} staged sink`);
  };

  return {
    get position() {
      return position;
    },
    canWriteAt: true,
    async write(chunk) {
      checkOpen();
      await writeFully(chunk, position);
      position += chunk.byteLength;
    },
    async writeAt(at, bytes) {
      checkOpen();
      if (!Number.isSafeInteger(at) || at < 0 || at + bytes.byteLength > position) {
        throw new TensioError('INVALID_ARGUMENT', `writeAt(${at}, ${bytes.byteLength} bytes) outside the ${position} bytes written`);
      }
      await writeFully(bytes, at);
    },
    async close() {
      if (state === 'closed') return;
      if (state === 'aborted') throw new TensioError('INVALID_STATE', 'close of an aborted staged sink');
      try {
        // Fresh buffers: the destination may keep a chunk until its write resolves.
        for (let at = 0; at < position; at += chunkBytes) {
          const buffer = new Uint8Array(Math.min(chunkBytes, position - at));
          let filled = 0;
          while (filled < buffer.byteLength) {
            const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, at + filled);
            if (bytesRead === 0) throw new TensioError('IO_ERROR', `the staging file ${path} ended at byte ${at + filled} of ${position}`, { path });
            filled += bytesRead;
          }
          await destination.write(buffer);
        }
        await destination.close();
        state = 'closed';
      } catch (error) {
        state = 'aborted';
        await destination.abort().catch(() => undefined);
        throw error;
      } finally {
        await removeTemporary();
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await removeTemporary();
      await destination.abort();
    },
  };
}
