/**
 * The native snappy codec of Parquet pages: tensio's own addon
 * (`native/src/tensio_snappy.c`), on libuv's threads, so the pages of a row group decode
 * (and its columns' pages compress) side by side, as zstd's do. Reading decodes each page
 * straight into the page's buffer, allocating nothing; writing compresses into a buffer
 * JavaScript allocates.
 *
 * The `snappy` package (napi-rs) did both before, at about half hysnappy's CPU, but it
 * allocates every result on its worker threads with its own allocator (mimalloc), and
 * that memory stayed resident: a 2 GiB Parquet → safetensors convert kept 276 MiB above
 * baseline (119 with the addon, 114 with hysnappy; the issue's goal is < 200), the
 * reverse convert 240 MiB (96 with the addon). tensio no longer depends on it.
 *
 * Without the addon (`TENSIO_NO_MMAP=1`, no compiler at install, the browser bundle), or
 * with `TENSIO_PARQUET_SNAPPY=wasm`, pages go through hysnappy's WebAssembly, one at a
 * time. The decoder is handed a page only when the block's own preamble equals the page
 * header's uncompressed size (already bounded by the caller).
 */
import { allocateUninitialized } from '../../core/memory.js';
import { addonSnappyCompressor, addonSnappyDecoder } from '../../storage/native-snappy.js';

/** Whether `TENSIO_PARQUET_SNAPPY=wasm` asks for hysnappy (read at each call, so a test can switch). */
function forcedWasm(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TENSIO_PARQUET_SNAPPY === 'wasm';
}

/**
 * The decoder of snappy pages for reading (tensio's addon, see the module comment), or
 * undefined when the addon does not have one here or `TENSIO_PARQUET_SNAPPY=wasm` is set.
 *
 * @example
 * ```ts
 * const decode = parquetSnappyDecoder();
 * if (decode) await decode(block, page); // page: exactly the block's declared length
 * ```
 */
export function parquetSnappyDecoder(): ((input: Uint8Array, output: Uint8Array) => Promise<void>) | undefined {
  return forcedWasm() ? undefined : addonSnappyDecoder();
}

/**
 * The compressor of snappy pages for writing (tensio's addon), or undefined when the
 * addon does not have one here or `TENSIO_PARQUET_SNAPPY=wasm` is set.
 *
 * @example
 * ```ts
 * const compress = parquetSnappyCompressor();
 * if (compress) body = await compress(page);
 * ```
 */
export function parquetSnappyCompressor(): ((input: Uint8Array) => Promise<Uint8Array>) | undefined {
  const compress = forcedWasm() ? undefined : addonSnappyCompressor();
  return compress ? (input) => compress(input, allocateUninitialized) : undefined;
}

/**
 * The uncompressed length a raw snappy block declares in its preamble (a little-endian
 * base-128 varint of at most 5 bytes), or -1 when the preamble is malformed.
 *
 * @example
 * ```ts
 * snappyDeclaredLength(Uint8Array.of(0x80, 0x80, 0x40)); // 1048576
 * ```
 */
export function snappyDeclaredLength(block: Uint8Array): number {
  let value = 0;
  for (let at = 0; at < 5 && at < block.byteLength; at++) {
    const byte = block[at]!;
    value += (byte & 0x7f) * 2 ** (7 * at);
    if ((byte & 0x80) === 0) return value <= 0xffffffff ? value : -1;
  }
  return -1;
}
