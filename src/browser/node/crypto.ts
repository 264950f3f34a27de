/**
 * `node:crypto` for the browser bundle: `randomBytes` on `crypto.getRandomValues`.
 * `createHash` (SHA-256 digests of zTensor files) has no synchronous stand-in in a page
 * and throws `UNSUPPORTED_FEATURE`.
 */
import { TensioError } from '../../core/errors.js';

/** Random bytes with Node's `toString('hex')`. */
export function randomBytes(length: number): Uint8Array & { toString(encoding?: string): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Object.assign(bytes, {
    toString: (encoding?: string) => (encoding === 'hex' ? Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') : Array.prototype.join.call(bytes)),
  });
}

/** Not available in a browser (digests are synchronous in tensio's format code). */
export function createHash(algorithm: string): never {
  throw new TensioError('UNSUPPORTED_FEATURE', `${algorithm} digests are not available in the browser build; verify this file with the tensio CLI`);
}

export default { randomBytes, createHash };
