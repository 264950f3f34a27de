/**
 * A file {@link ByteSink} that never leaves a half-written file behind: bytes go to a
 * temporary file in the target's folder, which is fsynced and renamed over the target
 * on `close()` only. A crash at any point leaves the old file (or none) and, at worst,
 * a stray temporary named `.NAME.tensio-<pid>-*.tmp`, which the next write into the
 * same folder removes once that pid is gone (`temporary-names.ts`).
 */
import { open, rename, unlink, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TensioError } from '../core/errors.js';
import type { ByteSink } from './byte-sink.js';
import { removeStaleTemporaries, temporaryPathFor } from './temporary-names.js';
import { writeFullyAt } from './write-fully.js';

/** Options for {@link atomicFileSink}. */
export interface AtomicFileSinkOptions {
  /** Refuse with `ALREADY_EXISTS` when the target exists (checked at open and at close). Default false. */
  noOverwrite?: boolean;
  /** fsync the file (and its folder) before publishing. Default true; turn off only for scratch files. */
  durable?: boolean;
}

/** An atomic file sink; also disposable with `await using` (aborts if not closed). */
export interface AtomicFileSink extends ByteSink {
  readonly path: string;
  readonly temporaryPath: string;
  readonly canWriteAt: true;
  /**
   * Overwrites bytes already written at `position` (e.g. a checksum reserved in a header),
   * before `close()` publishes. Throws `INVALID_ARGUMENT` for a range not yet written.
   */
  writeAt(position: number, bytes: Uint8Array): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * True when a path exists (file or folder).
 *
 * @example
 * ```ts
 * if (await pathExists('out.safetensors')) console.log('will be replaced');
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Most pieces and bytes one gathered write takes (IOV_MAX on Linux; below its 0x7ffff000-byte cap per call). */
const WRITEV_MAX_PIECES = 1024;
const WRITEV_MAX_BYTES = 2 ** 30;

/**
 * Opens an atomic sink that will publish to `path` on `close()`.
 *
 * @example
 * ```ts
 * const sink = await atomicFileSink('out.safetensors');
 * try { await sink.write(bytes); await sink.close(); } catch (e) { await sink.abort(); throw e; }
 * ```
 */
export async function atomicFileSink(path: string, options: AtomicFileSinkOptions = {}): Promise<AtomicFileSink> {
  const durable = options.durable ?? true;
  if (options.noOverwrite && (await pathExists(path))) {
    throw new TensioError('ALREADY_EXISTS', `${path} already exists (use --force / overwrite to replace it)`, { path });
  }
  await removeStaleTemporaries(dirname(path));
  const temporaryPath = temporaryPathFor(path);
  let handle: FileHandle;
  try {
    handle = await open(temporaryPath, 'wx');
  } catch (cause) {
    // Name the folder: the temporary file's name means nothing to the user.
    const folder = dirname(path);
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? `the folder ${folder} does not exist` : (cause as Error).message;
    throw new TensioError('IO_ERROR', `cannot write ${path}: ${reason}`, { path: folder, cause });
  }
  let position = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';

  const sink: AtomicFileSink = {
    path,
    temporaryPath,
    get position() {
      return position;
    },
    canWriteAt: true,
    async write(chunk) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} sink for ${path}`, { path });
      await writeFullyAt(handle, chunk, position, (byte, cause) => new TensioError('IO_ERROR', `writing ${path} failed at byte ${byte}: ${(cause as Error).message}`, { path, cause }));
      position += chunk.byteLength;
    },
    async writeMany(chunks) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} sink for ${path}`, { path });
      let pending = chunks.filter((chunk) => chunk.byteLength > 0);
      const total = pending.reduce((sum, chunk) => sum + chunk.byteLength, 0);
      let done = 0;
      try {
        while (pending.length > 0) {
          // A bounded gather per call (Linux takes at most IOV_MAX = 1024 pieces and about 2 GiB per write).
          const group: Uint8Array[] = [];
          let groupBytes = 0;
          for (const chunk of pending) {
            if (group.length === WRITEV_MAX_PIECES || (group.length > 0 && groupBytes + chunk.byteLength > WRITEV_MAX_BYTES)) break;
            group.push(chunk);
            groupBytes += chunk.byteLength;
          }
          if (groupBytes > WRITEV_MAX_BYTES) {
            // One piece larger than a gathered write takes: the ordinary write loop cuts it.
            await sink.write(group[0]!);
            pending = pending.slice(1);
            done += group[0]!.byteLength;
            continue;
          }
          const { bytesWritten } = await handle.writev(group, position);
          position += bytesWritten;
          done += bytesWritten;
          // A short write: drop what was written, keep the rest of a piece cut in the middle.
          let skip = bytesWritten;
          while (skip > 0 && pending.length > 0 && pending[0]!.byteLength <= skip) {
            skip -= pending[0]!.byteLength;
            pending = pending.slice(1);
          }
          if (skip > 0) pending = [pending[0]!.subarray(skip), ...pending.slice(1)];
        }
      } catch (cause) {
        if (cause instanceof TensioError) throw cause;
        throw new TensioError('IO_ERROR', `writing ${path} failed at byte ${position}: ${(cause as Error).message}`, { path, cause });
      }
      if (done !== total) throw new TensioError('IO_ERROR', `writing ${path}: ${done} of ${total} bytes written`, { path });
    },
    async writeAt(at, bytes) {
      if (state !== 'open') throw new TensioError('INVALID_STATE', `write to a ${state} sink for ${path}`, { path });
      if (!Number.isSafeInteger(at) || at < 0 || at + bytes.byteLength > position) {
        throw new TensioError('INVALID_ARGUMENT', `writeAt(${at}, ${bytes.byteLength} bytes) outside the ${position} bytes written to ${path}`, { path });
      }
      await writeFullyAt(handle, bytes, at, (byte, cause) => new TensioError('IO_ERROR', `patching ${path} at byte ${byte} failed: ${(cause as Error).message}`, { path, cause }));
    },
    async close() {
      if (state === 'closed') return;
      if (state === 'aborted') throw new TensioError('INVALID_STATE', `close of an aborted sink for ${path}`, { path });
      try {
        if (durable) await handle.sync();
        await handle.close();
        if (options.noOverwrite && (await pathExists(path))) {
          throw new TensioError('ALREADY_EXISTS', `${path} appeared while it was being written; not replacing it`, { path });
        }
        await rename(temporaryPath, path);
        state = 'closed';
      } catch (cause) {
        state = 'aborted';
        // A failed fsync skips the close above; closing twice is harmless.
        await handle.close().catch(() => undefined);
        await unlink(temporaryPath).catch(() => undefined);
        if (cause instanceof TensioError) throw cause;
        throw new TensioError('IO_ERROR', `publishing ${path} failed: ${(cause as Error).message}`, { path, cause });
      }
      if (durable) await syncFolder(dirname(path));
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await handle.close().catch(() => undefined);
      await unlink(temporaryPath).catch(() => undefined);
    },
    async [Symbol.asyncDispose]() {
      await sink.abort();
    },
  };
  return sink;
}

/** fsync a folder so the rename itself survives a power cut; best effort (not all systems allow it). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic.
  }
}
