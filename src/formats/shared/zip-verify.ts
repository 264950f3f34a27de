/**
 * Deep verification of a zip-based tensor file (.npz, PyTorch .pt): every member's
 * CRC32 recomputed, then the format's own structure read through to the last byte.
 */
import { isTensioError, throwIfAborted } from '../../core/errors.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { fileSource } from '../../storage/file-source.js';
import type { TensorReader, VerifyOptions, VerifyProblem, VerifyReport } from '../../model/types.js';
import { zipOpen } from '../../zip/read.js';

/**
 * Verifies a zip container and the tensors a format reads from it. Zip CRCs count as
 * the file's checksums; a member whose CRC field is 0 with data present (torch can
 * save with CRCs turned off) counts as carrying none.
 *
 * @example
 * ```ts
 * const report = await zipVerifyTensorFile('weights.npz', 'npz', (path) => npzOpen(path));
 * ```
 */
export async function zipVerifyTensorFile(
  input: string | ByteSource,
  format: string,
  openReader: (input: string | ByteSource) => Promise<TensorReader>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  let checksumsVerified = 0;
  let withoutChecksum = 0;
  let tensors = 0;
  const path = typeof input === 'string' ? input : (input.name ?? '<source>');
  const source = typeof input === 'string' ? await fileSource(input) : input;
  try {
    const archive = await zipOpen(source, { format, ...(options.signal ? { signal: options.signal } : {}) });
    const total = archive.entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
    let done = 0;
    for (const entry of archive.entries) {
      throwIfAborted(options.signal);
      const hasCrc = entry.crc32 !== 0 || entry.uncompressedSize === 0;
      try {
        for await (const chunk of archive.streamEntry(entry, { checkCrc: hasCrc, ...(options.signal ? { signal: options.signal } : {}) })) {
          done += chunk.byteLength;
          options.onProgress?.({ done, total, item: entry.name });
        }
        if (hasCrc) checksumsVerified += 1;
        else withoutChecksum += 1;
      } catch (error) {
        if (!isTensioError(error) || error.code === 'ABORTED') throw error;
        problems.push({ code: error.code, message: `${entry.name}: ${error.message}` });
      }
    }
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    problems.push({ code: error.code, message: error.message });
  } finally {
    if (typeof input === 'string') await source.close?.();
  }
  if (problems.length === 0) {
    try {
      const reader = await openReader(input);
      try {
        tensors = reader.tensors.length;
        for (const info of reader.tensors) {
          throwIfAborted(options.signal);
          for await (const chunk of reader.stream(info.name, { reuseBuffer: true })) void chunk;
        }
      } finally {
        await reader.close();
      }
    } catch (error) {
      if (!isTensioError(error) || error.code === 'ABORTED') throw error;
      problems.push({ code: error.code, message: error.message });
    }
  }
  return { ok: problems.length === 0, format, path, tensors, checksumsVerified, withoutChecksum, problems };
}
