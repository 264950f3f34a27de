/**
 * Patching the first bytes of an existing local file in place (a metadata edit that
 * fits in the header's slack): one positional write of the whole new header, then an
 * fsync, after checking that the file is still the one that was read (same size and
 * modification time). The bytes after the header are never touched.
 */
import { open, stat } from 'node:fs/promises';
import { TensioError } from '../core/errors.js';

/** What the file looked like when it was read. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
}

/** Size and modification time of a local file, to pass to {@link patchFileStart}. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const s = await stat(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/**
 * Overwrites `bytes.byteLength` bytes at the start of `path` with one write and fsyncs.
 * `SOURCE_CHANGED` when the file is no longer the one described by `expected`.
 *
 * @example
 * ```ts
 * const id = await fileIdentity('model.gguf');
 * await patchFileStart('model.gguf', newHeader, id);
 * ```
 */
export async function patchFileStart(path: string, bytes: Uint8Array, expected: FileIdentity): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const now = await handle.stat();
    if (now.size !== expected.size || now.mtimeMs !== expected.mtimeMs) {
      throw new TensioError('SOURCE_CHANGED', `${path} changed while it was being edited (size ${expected.size} → ${now.size}); nothing was written`, { path });
    }
    if (bytes.byteLength > now.size) throw new TensioError('INVALID_ARGUMENT', `a ${bytes.byteLength}-byte patch does not fit in ${path} (${now.size} bytes)`, { path });
    const { bytesWritten } = await handle.write(bytes, 0, bytes.byteLength, 0);
    if (bytesWritten !== bytes.byteLength) throw new TensioError('IO_ERROR', `short write to ${path}: ${bytesWritten} of ${bytes.byteLength} bytes`, { path });
    await handle.sync();
  } finally {
    await handle.close();
  }
}
