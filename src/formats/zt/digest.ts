/**
 * zTensor digests: XXH3-64 (seed 0, default secret) through `@node-rs/xxhash`'s
 * streaming class (9.3 GB/s here, against 1.75 for its one-shot function; see
 * ecosystem.md §2), and SHA-256 through `node:crypto`. Digests are written
 * `"<algo>:<lowercase hex>"` and taken over decoded bytes.
 */
import { createHash } from 'node:crypto';
import { xxh3 } from '@node-rs/xxhash';
import { ztUnsupported } from './types.js';

/** The digest algorithms tensio computes. */
export type ZtDigestAlgorithm = 'xxh3' | 'sha256';

/** A running digest, fed chunk by chunk. */
export interface ZtHasher {
  update(bytes: Uint8Array): void;
  /** `"<algo>:<hex>"`. */
  digest(): string;
}

/**
 * XXH3-64 of some bytes (the manifest hash), as a bigint.
 *
 * @example
 * ```ts
 * ztXxh3(new Uint8Array(0)).toString(16); // '2d06800538d394c2'
 * ```
 */
export function ztXxh3(bytes: Uint8Array): bigint {
  return xxh3.Xxh3.withSeed(0n).update(bytes).digest();
}

/**
 * A streaming hasher for one algorithm.
 *
 * @example
 * ```ts
 * const hasher = ztHasher('xxh3'); hasher.update(bytes); hasher.digest(); // 'xxh3:…'
 * ```
 */
export function ztHasher(algorithm: ZtDigestAlgorithm): ZtHasher {
  if (algorithm === 'xxh3') {
    const state = xxh3.Xxh3.withSeed(0n);
    return {
      update: (bytes) => { state.update(bytes); },
      digest: () => `xxh3:${state.digest().toString(16).padStart(16, '0')}`,
    };
  }
  const state = createHash('sha256');
  return {
    update: (bytes) => { state.update(bytes); },
    digest: () => `sha256:${state.digest('hex')}`,
  };
}

/** The algorithm a stored digest names; `UNSUPPORTED_FEATURE` for one tensio cannot compute (never a rejection). */
export function ztDigestAlgorithmOf(digest: string): ZtDigestAlgorithm {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  if (algorithm === 'xxh3' || algorithm === 'sha256') return algorithm;
  return ztUnsupported(`digest algorithm ${JSON.stringify(algorithm)} (tensio computes xxh3 and sha256)`);
}

/** The digest of some bytes in one call. */
export function ztDigestOf(algorithm: ZtDigestAlgorithm, bytes: Uint8Array): string {
  const hasher = ztHasher(algorithm);
  hasher.update(bytes);
  return hasher.digest();
}
