/**
 * `verifyTensorFile(path)`: is this file sound? Structure plus every checksum it carries.
 */
import { isTensioError, throwIfAborted } from '../core/errors.js';
import { detectFormat, getFormat } from '../formats/registry.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from './types.js';

/** Options for {@link verifyTensorFile}. */
export interface VerifyTensorFileOptions extends VerifyOptions {
  /** Skip detection and verify as this format. */
  format?: string;
}

/**
 * Verifies a tensor file. Never throws for a bad file: problems come back in the
 * report (`ok: false`); only a missing file or an unknown format throws.
 *
 * @example
 * ```ts
 * const report = await verifyTensorFile('model.safetensors');
 * if (!report.ok) console.error(report.problems);
 * ```
 */
export async function verifyTensorFile(path: string, options: VerifyTensorFileOptions = {}): Promise<VerifyReport> {
  const format = options.format ? getFormat(options.format) : await detectFormat(path);
  if (format.verify) {
    try {
      return await format.verify(path, options);
    } catch (error) {
      if (!isTensioError(error) || error.code === 'ABORTED') throw error;
      return { ok: false, format: format.name, path, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [{ code: error.code, message: error.message }] };
    }
  }
  return verifyByReading(format.name, path, options);
}

/** The generic check: open the file, then stream every tensor through to its last byte. */
async function verifyByReading(formatName: string, path: string, options: VerifyOptions): Promise<VerifyReport> {
  const format = getFormat(formatName);
  const problems: VerifyProblem[] = [];
  let tensors = 0;
  try {
    const reader = await format.open!(path, { ...(options.signal ? { signal: options.signal } : {}), ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}) });
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
