/**
 * zstd compression at a chosen level on the native binding of `@mongodb-js/zstd`
 * (asynchronous, on libuv's thread pool). The package's own `compress(data, level)`
 * (1.2.2) drops its level argument and always compresses at zstd's default 3; its
 * binding, loaded here, takes the level. The browser build maps the binding to its
 * zstd-wasm stand-in (`src/browser/native/zstd.ts`), which takes the level too.
 */
import { TensioError } from '../core/errors.js';

/** The binding's surface (the package ships types for its index only). */
interface ZstdBinding {
  compress(data: Buffer, level?: number | null): Promise<Buffer>;
}
let binding: Promise<ZstdBinding> | undefined;

function importBinding(): Promise<unknown> {
  // The file name in full: the package has no exports map, so Node's ESM resolver (the built
  // package) finds no extensionless subpath, though tsx and bundlers do.
  // @ts-ignore -- no declaration for the binding's module: ZstdBinding above types it
  return import('@mongodb-js/zstd/bindings.js');
}

/** The smallest and largest levels zstd takes (negative levels are its fast modes). */
const ZSTD_MIN_LEVEL = -7;
const ZSTD_MAX_LEVEL = 22;

/**
 * Compresses `data` as one zstd frame at `level` (a whole number from -7 to 22).
 *
 * @example
 * ```ts
 * const frame = await zstdCompressAtLevel(bytes, 1);
 * ```
 */
export async function zstdCompressAtLevel(data: Uint8Array, level: number): Promise<Uint8Array> {
  if (!(Number.isInteger(level) && level >= ZSTD_MIN_LEVEL && level <= ZSTD_MAX_LEVEL)) {
    throw new TensioError('INVALID_ARGUMENT', `zstd: level must be a whole number from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}, got ${String(level)}`);
  }
  const native = await (binding ??= importBinding().then((module) => ((module as { default?: ZstdBinding }).default ?? module) as ZstdBinding));
  const out = await native.compress(Buffer.from(data.buffer, data.byteOffset, data.byteLength), level);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
