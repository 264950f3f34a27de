/**
 * Rewriting a local file with new first bytes when they do not fit where the old ones
 * were (a metadata edit that outgrows the header; `file-patch.ts` is the in-place way):
 * the new head, then the old file's bytes from the end of its header on, streamed to an
 * atomically published output. Used by GGUF's and safetensors' `edit`.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import type { ByteSource } from './byte-source.js';
import { fileIdentity, type FileIdentity } from './file-patch.js';
import { openWriteSink } from './write-target.js';

/**
 * Writes `head`, then `source`'s bytes from `dataStart` to its end in chunks of
 * `DEFAULT_STREAM_CHUNK_BYTES`, to `output` (a temporary file renamed into place on
 * success, so `output` may be `path` itself). Before publishing, `path` must still be as
 * `expected` describes it: `SOURCE_CHANGED` otherwise, and nothing is written.
 *
 * @example
 * ```ts
 * const id = await fileIdentity(path);
 * await rewriteFileStart(path, source, id, newHeader, oldHeaderBytes, path, { format: 'gguf' });
 * ```
 */
export async function rewriteFileStart(path: string, source: ByteSource, expected: FileIdentity, head: Uint8Array, dataStart: number, output: string, options: { format: string; signal?: AbortSignal | undefined }): Promise<void> {
  const sink = await openWriteSink(output);
  try {
    await sink.write(head);
    for (let at = dataStart; at < source.size; at += DEFAULT_STREAM_CHUNK_BYTES) {
      throwIfAborted(options.signal);
      await sink.write((await source.read(at, Math.min(DEFAULT_STREAM_CHUNK_BYTES, source.size - at))).slice());
    }
    const now = await fileIdentity(path);
    if (now.size !== expected.size || now.mtimeMs !== expected.mtimeMs) {
      throw new TensioError('SOURCE_CHANGED', `${options.format}: ${path} changed while it was being edited; nothing was written`, { format: options.format });
    }
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
