/**
 * `verifyTensorFile(input)`: is this file sound? Structure plus every checksum it carries.
 */
import { isTensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import { describeSourceInput, isRemoteLocation, localPathOf, openSourceInput, type SourceInput, sourceOptionsOf } from '../storage/source-input.js';
import type { TensorFormat, VerifyOptions, VerifyReport } from '../model/types.js';
import { verifyByReading } from '../model/verify-by-reading.js';
import { detectFormat, detectSourceFormat, remoteLayoutFormat } from './detect.js';
import { getFormat, type FormatListOption } from './registry.js';
import type { OpenFormatOptions } from './format-options.js';

/** Options for {@link verifyTensorFile}; with a literal `format`, `formatOptions` is typed as that format's. */
export interface VerifyTensorFileOptions<F extends string = string> extends Omit<VerifyOptions, 'formatOptions'>, FormatListOption {
  /** Skip detection and verify as this format. */
  format?: F;
  /** The format's own options (those its reader takes). */
  formatOptions?: OpenFormatOptions<F>;
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
export async function verifyTensorFile<F extends string = string>(input: SourceInput, options: VerifyTensorFileOptions<F> = {}): Promise<VerifyReport> {
  const path = typeof input === 'string' || input instanceof URL ? localPathOf(input) : undefined;
  if (path !== undefined) {
    const format = options.format ? getFormat(options.format, options.formats) : await detectFormat(path, options);
    return verifyWith(format, path, path, options);
  }
  if (isRemoteLocation(input)) {
    const layout = remoteLayoutFormat(String(input), options.formats, options.format ? getFormat(options.format, options.formats) : undefined);
    if (layout) return verifyWith(layout, String(input), describeSourceInput(input), options);
  }
  const { source, owned } = await openSourceInput(input, sourceOptionsOf(options));
  try {
    const format = options.format ? getFormat(options.format, options.formats) : await detectSourceFormat(source, options);
    return await verifyWith(format, source, describeSourceInput(input, source.name ?? '<bytes>'), options);
  } finally {
    if (owned) await source.close?.();
  }
}

async function verifyWith(format: TensorFormat, input: string | ByteSource, path: string, options: VerifyOptions): Promise<VerifyReport> {
  const { formats: _formats, format: _format, ...verifyOptions } = options as VerifyTensorFileOptions;
  if (format.verify) {
    try {
      return await format.verify(input, verifyOptions);
    } catch (error) {
      if (!isTensioError(error) || error.code === 'ABORTED') throw error;
      return { ok: false, format: format.name, path, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [{ code: error.code, message: error.message }] };
    }
  }
  return verifyByReading(format, input, verifyOptions);
}
