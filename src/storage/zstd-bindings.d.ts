/**
 * Types for `@mongodb-js/zstd/bindings`, the package's native binding (the package
 * ships types for its index only). Its `compress` takes the level; the index's wrapper
 * of 1.2.2 drops it (`compress(data)`), so every frame came out at zstd's default 3.
 */
declare module '@mongodb-js/zstd/bindings' {
  export function compress(data: Buffer, level?: number | null): Promise<Buffer>;
  export function decompress(data: Buffer): Promise<Buffer>;
}
