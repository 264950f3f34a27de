/**
 * `node:crypto` for the browser bundle: `randomBytes` on `crypto.getRandomValues`, and
 * `createHash('sha256')` on a streaming SHA-256 in TypeScript (`sha256.ts`; Web Crypto's
 * `digest` is one-shot, so it would need the whole input in memory). Other algorithms
 * throw `UNSUPPORTED_FEATURE`.
 */
import { TensioError } from '../../core/errors.js';
import { Sha256 } from './sha256.js';

/** Random bytes with Node's `toString('hex')`. */
export function randomBytes(length: number): Uint8Array & { toString(encoding?: string): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Object.assign(bytes, {
    toString: (encoding?: string) => (encoding === 'hex' ? Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') : Array.prototype.join.call(bytes)),
  });
}

/** A streaming hash with Node's `update(bytes | text)` and `digest('hex')`; SHA-256 only. */
export function createHash(algorithm: string): Sha256 {
  if (algorithm.toLowerCase() !== 'sha256') {
    throw new TensioError('UNSUPPORTED_FEATURE', `${algorithm} digests are not available in the browser build (it computes sha256); verify this file with the tensio CLI`);
  }
  return new Sha256();
}

export default { randomBytes, createHash };
