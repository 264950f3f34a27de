/**
 * Raw snappy through the native addon (`native/src/tensio_snappy.c`, loaded by
 * `memory-map.ts`): decoding into a buffer the caller owns and compressing into one it
 * allocates, both on libuv's worker threads. Parquet's pages use them
 * (`formats/parquet/snappy-native.ts`); without the addon both are undefined.
 */
import { loadedAddon } from './memory-map.js';

/**
 * The addon's raw snappy decoder: decodes `input` into all of `output` on a libuv
 * worker thread (no allocation; `output`'s length must be the block's declared length),
 * rejecting with code `ECORRUPT` and the reason for a damaged block. Undefined when the
 * addon is not loaded (`TENSIO_NO_MMAP=1`, no compiler) or was built before it had one.
 * Neither buffer may be changed until the promise settles.
 *
 * @example
 * ```ts
 * const decode = addonSnappyDecoder();
 * if (decode) await decode(block, new Uint8Array(size));
 * ```
 */
export function addonSnappyDecoder(): ((input: Uint8Array, output: Uint8Array) => Promise<void>) | undefined {
  const addon = loadedAddon();
  const decode = addon?.snappyUncompressInto;
  return decode ? (input, output) => decode.call(addon, input, output) : undefined;
}

/**
 * The addon's raw snappy compressor: one block of `input`, made on a libuv worker into
 * a buffer from `allocate` (`snappyCompressBound` bytes; the result is a view of it).
 * Undefined when the addon is not loaded or predates it. `input` may not be changed
 * until the promise settles.
 *
 * @example
 * ```ts
 * const compress = addonSnappyCompressor();
 * if (compress) page = await compress(values, (size) => new Uint8Array(size));
 * ```
 */
export function addonSnappyCompressor(): ((input: Uint8Array, allocate: (size: number) => Uint8Array) => Promise<Uint8Array>) | undefined {
  const addon = loadedAddon();
  if (!addon?.snappyCompressInto || !addon.snappyCompressBound) return undefined;
  return async (input, allocate) => {
    const output = allocate(addon.snappyCompressBound!(input.byteLength));
    const length = await addon.snappyCompressInto!(input, output);
    return output.subarray(0, length);
  };
}
