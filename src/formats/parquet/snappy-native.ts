/**
 * The native snappy codec of Parquet pages: the `snappy` package (napi-rs, its binary
 * a platform package from the npm registry, an optional dependency), loaded on first
 * use. Its CPU cost per page is about hysnappy's WebAssembly (measured within 10% either
 * way on 1 MiB float32 pages, both directions), but its `uncompress` and `compress` run
 * on libuv's threads, so the pages of a row group decode (and its columns' pages
 * compress) in parallel as zstd's do (32 pages: 106 → 59 ms wall on 2 cores). Its
 * compressed bytes differ from hysnappy's (another encoder; both are valid raw snappy
 * and decode to the same page). Where the package or its binary is missing (another platform, the
 * browser bundle, an install without optional dependencies), or with
 * `TENSIO_PARQUET_SNAPPY=wasm`, pages decode on hysnappy as before.
 *
 * The package decodes into a buffer of the length the page's own snappy preamble
 * declares, with no limit of ours, so a page is handed to it only when that preamble
 * equals the page header's uncompressed size (already bounded by the caller).
 */

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
