/**
 * `@mongodb-js/zstd` (a native addon) for the browser bundle: `decompress` on fzstd (pure
 * JavaScript), `compress` on `@bokuweb/zstd-wasm` (zstd compiled to WebAssembly; its
 * `zstd.wasm` is copied beside the bundle's chunks by `scripts/build-browser.mjs` and
 * loaded on the first compression only, through the one shared loader).
 */
import { decompress as fzstdDecompress } from 'fzstd';
import { TensioError } from '../../core/errors.js';
import { loadZstdWasm, type ZstdWasm } from '../../storage/zstd-wasm.js';

/** Decodes one or more zstd frames. */
export async function decompress(input: Uint8Array): Promise<Uint8Array> {
  return fzstdDecompress(input);
}

let loaded: ZstdWasm | undefined;

/**
 * Encodes one zstd frame at `level` (default 3, as the native binding). The input is
 * read before this returns, as the native binding does: callers reuse their buffers.
 */
export async function compress(input: Uint8Array, level = 3): Promise<Uint8Array> {
  if (loaded) return loaded.compress(input, level);
  const copy = input.slice();
  loaded = await loadZstdWasm().catch((cause: unknown) => {
    throw new TensioError('UNSUPPORTED_FEATURE', `zstd compression: cannot load zstd.wasm (${(cause as Error).message}); serve it beside the bundle's chunks`, { cause });
  });
  return loaded.compress(copy, level);
}

export default { decompress, compress };
