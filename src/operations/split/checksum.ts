/**
 * The checksums of split-conversion shards: XXH3-64 by default (9 GB/s here, so a
 * part pays almost nothing for it and the finish reads at disk speed; it guards
 * against torn, stale or mixed-up files, not against someone forging them, who could
 * rewrite the manifest too), or SHA-256 when asked (`part.checksum: 'sha256'`), which
 * `sha256sum` can check by hand. Written `xxh3:<16 hex>` / `sha256:<64 hex>`, as
 * zTensor writes its digests (the hashers are zTensor's).
 */
import { TensioError } from '../../core/errors.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { RunningChecksum } from '../../storage/hashing-sink.js';
import { ztHasher } from '../../formats/zt/digest.js';

/** The checksum algorithms a part can record. */
export type SplitChecksumAlgorithm = 'xxh3' | 'sha256';

/** Checksum text as a manifest holds it. */
export const SPLIT_CHECKSUM_PATTERN = /^(xxh3:[0-9a-f]{16}|sha256:[0-9a-f]{64})$/;

/**
 * A running checksum of `algorithm`.
 *
 * @example
 * ```ts
 * const checksum = splitChecksum('xxh3'); checksum.update(bytes); checksum.digest(); // 'xxh3:…'
 * ```
 */
export function splitChecksum(algorithm: SplitChecksumAlgorithm): RunningChecksum {
  if (algorithm !== 'xxh3' && algorithm !== 'sha256') throw new TensioError('INVALID_ARGUMENT', `a split conversion's checksum is xxh3 or sha256, got ${JSON.stringify(String(algorithm)).slice(0, 40)}`);
  return ztHasher(algorithm);
}

/**
 * The checksum of a whole source in the algorithm `like` names (`xxh3:…`), read in
 * 8 MiB steps; `onBytes` reports progress.
 *
 * @example
 * ```ts
 * await splitChecksumOf(source, 'xxh3:0123456789abcdef'); // 'xxh3:…' of the source
 * ```
 */
export async function splitChecksumOf(source: ByteSource, like: string, options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {}): Promise<string> {
  const checksum = splitChecksum(like.slice(0, like.indexOf(':')) as SplitChecksumAlgorithm);
  const step = 8 * 2 ** 20;
  for (let at = 0; at < source.size; at += step) {
    const length = Math.min(step, source.size - at);
    checksum.update(await source.read(at, length, options.signal ? { signal: options.signal } : {}));
    options.onBytes?.(length);
  }
  return checksum.digest();
}
