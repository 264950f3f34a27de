/**
 * The native snappy codecs of Parquet pages, both on libuv's threads so the pages of a
 * row group decode (and its columns' pages compress) side by side, as zstd's do:
 * - reading: tensio's own addon (`native/src/tensio_snappy.c`, `addonSnappyDecoder`)
 *   decodes each page straight into the page's buffer, allocating nothing. The `snappy`
 *   package (napi-rs) did this before, at about half hysnappy's CPU, but it allocates
 *   every result on its worker threads with its own allocator, and a 2 GiB Parquet →
 *   safetensors convert kept 170-230 MiB more resident than with hysnappy (peak RSS
 *   276 against 114 MiB above baseline; the issue's goal is < 200);
 * - writing: the `snappy` package's `compress` (its binary a platform package from the
 *   npm registry, an optional dependency), loaded on first use. Its compressed bytes
 *   differ from hysnappy's (another encoder; both are valid raw snappy).
 * Where one is missing (no addon: `TENSIO_NO_MMAP=1` or no compiler at install; no
 * package: another platform, the browser bundle, an install without optional
 * dependencies), or with `TENSIO_PARQUET_SNAPPY=wasm`, pages go through hysnappy's
 * WebAssembly as before.
 *
 * Both native paths size their output from the block's own preamble, so a page is handed
 * to them only when that preamble equals the page header's uncompressed size (already
 * bounded by the caller).
 */
import { addonSnappyDecoder } from '../../storage/memory-map.js';

/** The part of the `snappy` package tensio uses. */
interface SnappyNative {
  uncompress(input: Uint8Array, options?: { asBuffer?: boolean }): Promise<Uint8Array | string>;
  compress(input: Uint8Array): Promise<Uint8Array>;
}

let loaded: Promise<SnappyNative | undefined> | undefined;

/** Whether `TENSIO_PARQUET_SNAPPY=wasm` asks for hysnappy (read at each call, so a test can switch). */
function forcedWasm(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TENSIO_PARQUET_SNAPPY === 'wasm';
}

/**
 * The native snappy module, or undefined when it does not load here or
 * `TENSIO_PARQUET_SNAPPY=wasm` is set.
 *
 * @example
 * ```ts
 * const native = await parquetSnappyNative();
 * if (native) console.log('snappy pages decode on libuv threads');
 * ```
 */
export async function parquetSnappyNative(): Promise<SnappyNative | undefined> {
  if (forcedWasm()) return undefined;
  loaded ??= import('snappy').then(
    (module) => {
      const api = ((module as { default?: unknown }).default ?? module) as Partial<SnappyNative>;
      // The browser bundle's stand-in exports nothing: no function, no native decoder.
      return typeof api.uncompress === 'function' && typeof api.compress === 'function' ? api as SnappyNative : undefined;
    },
    () => undefined,
  );
  return loaded;
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
