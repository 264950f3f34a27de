/**
 * Structural verification by reading everything, for formats that carry no checksums.
 */
import type { ByteSource } from '../storage/byte-source.js';
import type { TensorFormat, VerifyOptions, VerifyReport } from './types.js';
import { verifyTensors } from './verify-loop.js';

/**
 * The generic check for formats without checksums: open the file, then stream every
 * tensor through to its last byte (the shared {@link verifyTensors} loop). Problems are
 * reported, not thrown.
 *
 * @example
 * ```ts
 * const report = await verifyByReading(npyFormat, 'x.npy');
 * ```
 */
export async function verifyByReading(format: TensorFormat, input: string | ByteSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const path = typeof input === 'string' ? input : (input.name ?? '<source>');
  const tally = await verifyTensors(
    () => format.open!(input, { ...(options.signal ? { signal: options.signal } : {}), ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}) }),
    { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  return { ok: tally.problems.length === 0, format: format.name, path, ...tally };
}
