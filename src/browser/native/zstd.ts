/**
 * `@mongodb-js/zstd` (a native addon) for the browser bundle: `decompress` on fzstd, a
 * pure JavaScript zstd decoder. Compression has no stand-in here and throws
 * `UNSUPPORTED_FEATURE` (write zstd files with the CLI).
 */
import { decompress as fzstdDecompress } from 'fzstd';
import { TensioError } from '../../core/errors.js';

/** Decodes one or more zstd frames. */
export async function decompress(input: Uint8Array): Promise<Uint8Array> {
  return fzstdDecompress(input);
}

/** Not available in the browser build. */
export async function compress(): Promise<never> {
  throw new TensioError('UNSUPPORTED_FEATURE', 'zstd compression is not available in the browser build; write compressed files with the tensio CLI');
}

export default { decompress, compress };
