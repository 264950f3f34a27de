/**
 * The one loader of `@bokuweb/zstd-wasm` (zstd compiled to WebAssembly, synchronous once
 * loaded: what flechette's and hyparquet's codec hooks need, and the browser bundle's
 * zstd compressor). Its `init()` must run once per process or page: a second call
 * re-instantiates the module under the first caller, whose next calls then read a
 * stale heap (they returned frames of zeros in a page that wrote Arrow and then
 * Parquet with zstd), so every user goes through {@link loadZstdWasm}.
 */

/** The synchronous functions of an initialised zstd-wasm. */
export interface ZstdWasm {
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

let loading: Promise<ZstdWasm> | undefined;

/**
 * zstd-wasm, loaded and initialised on the first call (later calls share it).
 *
 * @example
 * ```ts
 * const zstd = await loadZstdWasm();
 * const frame = zstd.compress(bytes, 3);
 * ```
 */
export function loadZstdWasm(): Promise<ZstdWasm> {
  return (loading ??= (async () => {
    const module = await import('@bokuweb/zstd-wasm');
    await module.init();
    return module as ZstdWasm;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  }));
}
