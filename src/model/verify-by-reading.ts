/**
 * Structural verification by reading everything, for formats that carry no checksums.
 */
import { isTensioError, throwIfAborted } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { TensorFormat, VerifyOptions, VerifyProblem, VerifyReport } from './types.js';

/**
 * The generic check for formats without checksums: open the file, then stream every
 * tensor through to its last byte. Problems are reported, not thrown.
 *
 * @example
 * ```ts
 * const report = await verifyByReading(npyFormat, 'x.npy');
 * ```
 */
export async function verifyByReading(format: TensorFormat, input: string | ByteSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const path = typeof input === 'string' ? input : (input.name ?? '<source>');
  const formatName = format.name;
  const problems: VerifyProblem[] = [];
  let tensors = 0;
  try {
    const reader = await format.open!(input, { ...(options.signal ? { signal: options.signal } : {}), ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}) });
    try {
      tensors = reader.tensors.length;
      const total = reader.tensors.reduce((sum, info) => sum + info.byteLength, 0);
      let done = 0;
      for (const info of reader.tensors) {
        throwIfAborted(options.signal);
        try {
          for await (const chunk of reader.stream(info.name, { reuseBuffer: true, ...(options.signal ? { signal: options.signal } : {}) })) {
            done += chunk.byteLength;
            options.onProgress?.({ done, total, item: info.name });
          }
        } catch (error) {
          if (!isTensioError(error) || error.code === 'ABORTED') throw error;
          problems.push({ code: error.code, message: error.message, tensor: info.name });
        }
      }
    } finally {
      await reader.close();
    }
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    problems.push({ code: error.code, message: error.message });
  }
  return { ok: problems.length === 0, format: formatName, path, tensors, checksumsVerified: 0, withoutChecksum: tensors, problems };
}
