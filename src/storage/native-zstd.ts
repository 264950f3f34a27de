/**
 * zstd decoding through the native addon (`native/src/tensio_zstd.c`): the system's
 * libzstd (opened at run time, nothing compiled or downloaded at install) decodes a
 * frame straight into a buffer the caller owns, on a libuv worker thread, at libzstd's
 * one-shot speed (~1.1 GB/s a core here, about 3× @mongodb-js/zstd, which also returns a
 * fresh buffer that must then be copied). Parquet pages and Arrow body buffers use it;
 * without the addon (`TENSIO_NO_MMAP=1`, no compiler at install, the browser), without a
 * libzstd on the machine, or with `TENSIO_ZSTD=package`, they use @mongodb-js/zstd as before.
 */
import { loadedAddon } from './memory-map.js';

/** Whether `TENSIO_ZSTD=package` asks for the npm package (read at each call, so a test can switch). */
function forcedPackage(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TENSIO_ZSTD === 'package';
}

/**
 * The addon's zstd decoder: decodes the frame(s) of `input` into `output` on a libuv
 * worker thread, never writing past `output`'s end, and resolves to the bytes written
 * (the caller checks it is the length it expected). A damaged frame, or one that would
 * decode to more than `output` holds, rejects with code `ECORRUPT` and libzstd's reason
 * ("Destination buffer is too small", "Data corruption detected", ...). Undefined when
 * the addon is not loaded or predates it, when no libzstd could be opened, or when
 * `TENSIO_ZSTD=package` is set. Neither buffer may be changed until the promise settles.
 *
 * @example
 * ```ts
 * const decode = addonZstdDecoder();
 * if (decode) { const page = new Uint8Array(size); if ((await decode(frame, page)) !== size) throw new Error('short'); }
 * ```
 */
export function addonZstdDecoder(): ((input: Uint8Array, output: Uint8Array) => Promise<number>) | undefined {
  if (forcedPackage()) return undefined;
  const addon = loadedAddon();
  const decode = addon?.zstdDecompressInto;
  if (!decode || !addon.zstdLibraryVersion?.()) return undefined;
  return (input, output) => decode.call(addon, input, output);
}

/**
 * The version of the libzstd the addon decodes with ("1.5.4"), or undefined when zstd
 * frames go through @mongodb-js/zstd (see {@link addonZstdDecoder}).
 *
 * @example
 * ```ts
 * console.log(`zstd: ${nativeZstdVersion() ?? '@mongodb-js/zstd'}`);
 * ```
 */
export function nativeZstdVersion(): string | undefined {
  if (forcedPackage()) return undefined;
  return loadedAddon()?.zstdLibraryVersion?.() ?? undefined;
}

/** Which zstd decoder reads use, and why (`tensio selftest`). */
export interface ZstdDecoderStatus {
  /** True when frames decode through the addon's libzstd. */
  readonly native: boolean;
  /** `'libzstd 1.5.4 through tensio's addon'`, or `'@mongodb-js/zstd'` and the reason. */
  readonly description: string;
}

/**
 * Which zstd decoder Parquet, Arrow, Zarr and zTensor reads use here, and why.
 *
 * @example
 * ```ts
 * console.log(`zstd decoding: ${zstdDecoderStatus().description}`);
 * ```
 */
export function zstdDecoderStatus(): ZstdDecoderStatus {
  const fallback = (reason: string): ZstdDecoderStatus => ({ native: false, description: `@mongodb-js/zstd (${reason})` });
  if (forcedPackage()) return fallback('TENSIO_ZSTD=package');
  const addon = loadedAddon();
  if (!addon) return fallback('the native addon is not loaded');
  if (!addon.zstdDecompressInto || !addon.zstdLibraryVersion) return fallback('the native addon predates its zstd decoder: run `npm run build:native`');
  const version = addon.zstdLibraryVersion();
  return version ? { native: true, description: `libzstd ${version} through tensio's addon` } : fallback('no libzstd.so.1 of version 1.4 or later on this system');
}
