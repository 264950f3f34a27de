/**
 * Structural verification by reading everything, for formats without a verify of their
 * own: those that carry no checksums, and those whose decoder checks them while reading.
 */
import type { ByteSource } from '../storage/byte-source.js';
import type { TensorFormat, VerifyOptions, VerifyReport } from './types.js';
import { verifyTensors, type TensorDigestCheck } from './verify-loop.js';

/**
 * A checksum the decoder checks while the tensor is read: a mismatch fails the read
 * (reported by the loop as a problem naming the tensor), so a read that completes is a
 * verified checksum.
 */
function checkedByTheRead(): TensorDigestCheck {
  return { update: () => undefined, finish: () => undefined };
}

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
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(format.checkedOnRead ? { checkTensor: (info) => (format.checkedOnRead!(info) ? checkedByTheRead() : 'read') } : {}),
    },
  );
  return { ok: tally.problems.length === 0, format: format.name, path, ...tally };
}
