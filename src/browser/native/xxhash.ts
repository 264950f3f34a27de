/**
 * `@node-rs/xxhash` (a native addon) for the browser bundle: the calls tensio makes —
 * `xxh3.Xxh3.withSeed(seed).update(bytes).digest()` (zTensor digests and manifest
 * hashes, split checksums) on the TypeScript XXH3-64 in `core/xxh3.ts`, `xxh64` (zstd
 * frame checksums) and `xxh32` on `xxhash-classic.ts`.
 */
import { Xxh3Hasher, xxh3Hash64 } from '../../core/xxh3.js';

export { xxh32, xxh64 } from './xxhash-classic.js';

/** The streaming XXH3-64 class under the native binding's name. */
class Xxh3 {
  private readonly hasher: Xxh3Hasher;
  private constructor(seed: bigint) {
    this.hasher = new Xxh3Hasher(seed);
  }
  /** A hasher with a 64-bit seed. */
  static withSeed(seed: bigint = 0n): Xxh3 {
    return new Xxh3(seed);
  }
  update(bytes: Uint8Array | string): this {
    this.hasher.update(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
    return this;
  }
  digest(): bigint {
    return this.hasher.digest();
  }
}

/** `xxh3.xxh64(bytes, seed)` and `xxh3.Xxh3` as in `@node-rs/xxhash`. */
export const xxh3 = {
  Xxh3,
  xxh64: (bytes: Uint8Array, seed: bigint = 0n): bigint => xxh3Hash64(bytes, seed),
};

export default { xxh3 };
