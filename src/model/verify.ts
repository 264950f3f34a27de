/**
 * `verifyTensorFile(path)`: is this file sound? Structure plus every checksum it carries.
 */
import { isTensioError } from '../core/errors.js';
import { detectFormat, getFormat } from '../formats/registry.js';
import type { VerifyOptions, VerifyReport } from './types.js';
import { verifyByReading } from './verify-by-reading.js';

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
  return verifyByReading(format, path, options);
}

