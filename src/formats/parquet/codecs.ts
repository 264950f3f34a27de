/**
 * Parquet page codecs, for hyparquet (read) and the writer: snappy, gzip
 * (concatenated members too), brotli, lz4 (hadoop and raw) and zstd. Reading, every
 * decompressor first checks the page's declared uncompressed size against a bound, so
 * a page claiming gigabytes is refused before anything is allocated.
 */
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompressSync, gunzipSync, gzip } from 'node:zlib';
import type { Compressors } from 'hyparquet';
import { compressors as sharedDecompressors, decompressLz4, decompressLz4Raw, decompressSnappy } from 'hyparquet-compressors';
import { snappyCompressor } from 'hysnappy';
import { TensioError } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { addonZstdDecoder } from '../../storage/native-zstd.js';
import { zstdCompressAtLevel } from '../../storage/zstd-native.js';
import { loadZstdWasm, type ZstdWasm } from '../../storage/zstd-wasm.js';
import { zstdDecodeExactly, zstdFrameFits, zstdFrameLayout } from '../../storage/zstd-frame.js';
import type { ParquetPageCodec } from './column-writer.js';
import { parquetSnappyCompressor, parquetSnappyDecoder, snappyDeclaredLength } from './snappy-native.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

/** Largest page the shared snappy decoder takes (its memory stays that large); a new instance costs ~0.1 ms. */
const SHARED_SNAPPY_PAGE_BYTES = 16 * 2 ** 20;

let zstdWasm: ZstdWasm | undefined;

/** Loads the zstd WebAssembly codec (synchronous once loaded, as hyparquet needs). */
export async function parquetLoadZstd(): Promise<void> {
  zstdWasm ??= await loadZstdWasm();
}

function exact(codec: string, out: Uint8Array, outputLength: number): Uint8Array {
  if (out.byteLength !== outputLength) {
    throw new TensioError('SIZE_MISMATCH', `parquet: a ${codec} page decompressed to ${out.byteLength} bytes, its header says ${outputLength}`, { format: 'parquet' });
  }
  return out;
}

/**
 * Decompressors for reading, each refusing a page that declares more than `maxPageBytes`
 * uncompressed bytes (`LIMIT_EXCEEDED`, before any allocation).
 */
export function parquetDecompressors(maxPageBytes: number): Compressors {
  const guard = (codec: string, decompress: Decompress): Decompress => (input, outputLength) => {
    if (!(Number.isSafeInteger(outputLength) && outputLength >= 0 && outputLength <= maxPageBytes)) {
      throw new TensioError('LIMIT_EXCEEDED', `parquet: a ${codec} page declares ${outputLength} uncompressed bytes, more than its column chunk allows (${maxPageBytes})`, { format: 'parquet' });
    }
    return decompress(input, outputLength);
  };
  return {
    // hysnappy's shared instance keeps its WebAssembly memory at the largest page it saw, so
    // only pages up to SHARED_SNAPPY_PAGE_BYTES use it; larger ones get (and free) their own.
    SNAPPY: guard('snappy', (input, length) => {
      // hysnappy returns `length` bytes whatever the block holds: a block declaring another length is a damaged page.
      const declared = snappyDeclaredLength(input);
      if (declared !== length) throw new TensioError('SIZE_MISMATCH', `parquet: a snappy page declares ${declared < 0 ? 'no valid length' : `${declared} bytes`} in its block, its header says ${length}`, { format: 'parquet' });
      return length <= SHARED_SNAPPY_PAGE_BYTES ? sharedDecompressors.SNAPPY!(input, length) : decompressSnappy(input, length);
    }),
    GZIP: guard('gzip', (input, length) => exact('gzip', new Uint8Array(gunzipSync(input, { maxOutputLength: Math.max(1, length) })), length)),
    BROTLI: guard('brotli', (input, length) => exact('brotli', new Uint8Array(brotliDecompressSync(input, { maxOutputLength: Math.max(1, length) })), length)),
    LZ4: guard('lz4', (input, length) => decompressLz4(input, length)),
    LZ4_RAW: guard('lz4_raw', (input, length) => decompressLz4Raw(input, length)),
    ZSTD: guard('zstd', (input, length) => {
      // zstd-wasm is the fast path; it refuses some small frames (error -10), which fzstd decodes.
      // It allocates what the frame declares (its wasm memory never shrinks): only frames declaring the page's size.
      if (zstdWasm && length >= 4096 && zstdFrameLayout(input)?.contentSize === length) {
        try {
          return exact('zstd', zstdWasm.decompress(input), length);
        } catch (error) {
          if (error instanceof TensioError) throw error;
        }
      }
      // fzstd into a buffer of the page's size stays in it, but says nothing of a frame that decodes
      // to more or fewer bytes (it clamps or leaves zeros); this stops at the page's end and counts.
      return zstdDecodeExactly(input, length, 'parquet: a zstd page', 'parquet');
    }),
  };
}

type ZstdNative = { decompress(data: Buffer): Promise<Buffer> };
let zstdNative: Promise<ZstdNative> | undefined;

/**
 * The page decompressor of the fast read path (`plain-pages.ts`) for a codec, bounded
 * like {@link parquetDecompressors}: zstd pages go to the system's libzstd through
 * tensio's addon (`storage/native-zstd.ts`: straight into a buffer from `allocate`, on
 * libuv's threads, so the pages of a chunk decode in parallel), else, when they are one
 * frame whose block headers bound their output, to @mongodb-js/zstd (also on libuv's
 * threads, into fresh buffers), snappy pages whose preamble is the header's
 * size to tensio's addon (`snappy-native.ts`: straight into the page's buffer, also on
 * libuv's threads, into a buffer from `allocate`, which a reader may take from its pool),
 * everything else to the synchronous ones.
 * Undefined for UNCOMPRESSED and for codecs without a decoder.
 */
export async function parquetPageDecompressor(codec: string, maxPageBytes: number, allocate: (size: number) => Uint8Array = allocateUninitialized): Promise<((input: Uint8Array, size: number) => Uint8Array | Promise<Uint8Array>) | undefined> {
  const sync = parquetDecompressors(maxPageBytes)[codec as keyof Compressors];
  if (codec === 'SNAPPY' && sync) {
    const decode = parquetSnappyDecoder();
    if (!decode) return sync;
    return (input, size) => {
      // Pages whose preamble is not the (bounded) header size go to the synchronous path, which names the mismatch.
      if (!(size <= maxPageBytes && size > 0 && snappyDeclaredLength(input) === size)) return sync(input, size);
      const out = allocate(size);
      return decode(input, out).then(() => out, (cause: unknown) => {
        throw new TensioError('INVALID_HEADER', `parquet: a snappy page of ${input.byteLength} bytes does not decode to its ${size} bytes: ${(cause as Error).message}`, { format: 'parquet', cause });
      });
    };
  }
  if (codec !== 'ZSTD' || !sync) return sync;
  const decodeInto = addonZstdDecoder();
  if (decodeInto) {
    return (input, size) => {
      // Over the bound: the synchronous path refuses it (LIMIT_EXCEEDED) before allocating.
      if (!(size <= maxPageBytes && size > 0)) return sync(input, size);
      const out = allocate(size);
      // libzstd never writes past `out`: a frame declaring more fails ("Destination buffer is too small").
      return decodeInto(input, out).then((written) => exact('zstd', out.subarray(0, written), size), (cause: unknown) => {
        throw new TensioError('INVALID_HEADER', `parquet: a zstd page of ${input.byteLength} bytes does not decode to its ${size} bytes: ${(cause as Error).message}`, { format: 'parquet', cause });
      });
    };
  }
  const native = await (zstdNative ??= import('@mongodb-js/zstd').then((module) => ((module as { default?: ZstdNative }).default ?? module) as ZstdNative));
  return (input, size) => {
    if (!(size <= maxPageBytes && zstdFrameFits(input, size))) return sync(input, size);
    return native.decompress(Buffer.from(input.buffer, input.byteOffset, input.byteLength)).then((out) => exact('zstd', new Uint8Array(out.buffer, out.byteOffset, out.byteLength), size));
  };
}

/** Compression names the writer takes, and hyparquet's codec names. */
export const PARQUET_WRITE_CODECS = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', brotli: 'BROTLI' } as const;

/**
 * The zstd level tensio writes Parquet pages with when none is given: pyarrow's (Arrow
 * C++'s `ZSTD` codec default, `pa.Codec.default_compression_level('zstd')`), so a file
 * costs what pyarrow's costs and is about as large. `compressionLevel` overrides it.
 */
export const PARQUET_DEFAULT_ZSTD_LEVEL = 1;

/** Largest page the shared snappy compressor takes: its WebAssembly memory grows to about twice the largest page and never shrinks. */
const SHARED_SNAPPY_COMPRESS_BYTES = 16 * 2 ** 20;
let sharedSnappyCompress: ((input: Uint8Array) => Uint8Array) | undefined;

/**
 * Snappy-compresses one page (raw Snappy, no framing) with hysnappy's WebAssembly
 * compressor: one instance reused for pages up to 16 MiB (a new one costs a compile of
 * its module), a throwaway instance for larger pages so the shared memory stays small.
 * Each call copies the page into the instance's memory and the result out of it (the
 * only way in and out of hysnappy's API).
 *
 * @example
 * ```ts
 * const body = parquetSnappyCompress(new Uint8Array(4096));
 * ```
 */
export function parquetSnappyCompress(page: Uint8Array): Uint8Array {
  const compress = page.byteLength <= SHARED_SNAPPY_COMPRESS_BYTES ? (sharedSnappyCompress ??= snappyCompressor()) : snappyCompressor();
  try {
    return compress(page);
  } catch (cause) {
    // hysnappy fails only when its WebAssembly memory cannot grow to the page (about 2.2 × the page, under 4 GiB).
    throw new TensioError('LIMIT_EXCEEDED', `parquet: snappy cannot compress a page of ${page.byteLength} bytes (${(cause as Error).message}); use a smaller pageSize`, { format: 'parquet', cause });
  }
}

/**
 * The page compressor of a codec for writing. gzip, brotli and zstd run off the main
 * thread (zlib's and @mongodb-js/zstd's thread pool), so the pages of a row group are
 * compressed in parallel (zstd through `storage/zstd-native.ts`, the binding that takes
 * the level: the package's wrapper ignored `compressionLevel`); snappy is tensio's addon's
 * (`snappy-native.ts`), also on libuv's threads, else hysnappy's WebAssembly compressor
 * (synchronous, {@link parquetSnappyCompress}). zstd's level defaults to {@link PARQUET_DEFAULT_ZSTD_LEVEL}.
 */
export async function parquetPageCodec(name: ParquetPageCodec['name'], level?: number): Promise<ParquetPageCodec> {
  switch (name) {
    case 'UNCOMPRESSED': return { name };
    case 'SNAPPY': {
      const addon = parquetSnappyCompressor();
      if (addon) {
        return {
          name,
          compress: (page) => addon(page).catch((cause: unknown) => {
            throw new TensioError('LIMIT_EXCEEDED', `parquet: snappy cannot compress a page of ${page.byteLength} bytes (${(cause as Error).message}); use a smaller pageSize`, { format: 'parquet', cause });
          }),
        };
      }
      return { name, compress: parquetSnappyCompress };
    }
    case 'GZIP': return { name, compress: async (page) => new Uint8Array(await gzipAsync(page, level !== undefined ? { level } : {})) };
    case 'BROTLI': return { name, compress: async (page) => new Uint8Array(await brotliAsync(page)) };
    case 'ZSTD': {
      const zstdLevel = level ?? PARQUET_DEFAULT_ZSTD_LEVEL;
      // A bad level fails here, before the first page.
      await zstdCompressAtLevel(new Uint8Array(0), zstdLevel);
      return { name, compress: (page) => zstdCompressAtLevel(page, zstdLevel) };
    }
    default: throw new TensioError('INVALID_ARGUMENT', `parquet: no page compressor for ${String(name)}`, { format: 'parquet' });
  }
}
