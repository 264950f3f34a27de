/**
 * Parquet page codecs, for hyparquet (read) and the writer: snappy, gzip
 * (concatenated members too), brotli, lz4 (hadoop and raw) and zstd. Reading, every
 * decompressor first checks the page's declared uncompressed size against a bound, so
 * a page claiming gigabytes is refused before anything is allocated.
 */
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompressSync, gunzipSync, gzip } from 'node:zlib';
import type { Compressors } from 'hyparquet';
import { decompressLz4, decompressLz4Raw, decompressSnappy, decompressZstd } from 'hyparquet-compressors';
import { TensioError } from '../../core/errors.js';
import { loadZstdWasm, type ZstdWasm } from '../../storage/zstd-wasm.js';
import type { ParquetPageCodec } from './column-writer.js';
import { snappyCompress } from './snappy-compress.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

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
    SNAPPY: guard('snappy', (input, length) => decompressSnappy(input, length)),
    GZIP: guard('gzip', (input, length) => exact('gzip', new Uint8Array(gunzipSync(input, { maxOutputLength: Math.max(1, length) })), length)),
    BROTLI: guard('brotli', (input, length) => exact('brotli', new Uint8Array(brotliDecompressSync(input, { maxOutputLength: Math.max(1, length) })), length)),
    LZ4: guard('lz4', (input, length) => decompressLz4(input, length)),
    LZ4_RAW: guard('lz4_raw', (input, length) => decompressLz4Raw(input, length)),
    ZSTD: guard('zstd', (input, length) => {
      // zstd-wasm is the fast path; it refuses some small frames (error -10), which fzstd decodes.
      if (zstdWasm && length >= 4096) {
        try {
          return exact('zstd', zstdWasm.decompress(input), length);
        } catch (error) {
          if (error instanceof TensioError) throw error;
        }
      }
      return decompressZstd(input, new Uint8Array(length));
    }),
  };
}

/** Compression names the writer takes, and hyparquet's codec names. */
export const PARQUET_WRITE_CODECS = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', brotli: 'BROTLI' } as const;

/**
 * The page compressor of a codec for writing. gzip, brotli and zstd run off the main
 * thread (zlib's and @mongodb-js/zstd's thread pool), so the pages of a row group are
 * compressed in parallel; snappy is tensio's own (`snappy-compress.ts`, synchronous).
 */
export async function parquetPageCodec(name: ParquetPageCodec['name'], level?: number): Promise<ParquetPageCodec> {
  switch (name) {
    case 'UNCOMPRESSED': return { name };
    case 'SNAPPY': return { name, compress: snappyCompress };
    case 'GZIP': return { name, compress: async (page) => new Uint8Array(await gzipAsync(page, level !== undefined ? { level } : {})) };
    case 'BROTLI': return { name, compress: async (page) => new Uint8Array(await brotliAsync(page)) };
    case 'ZSTD': {
      const zstd = await import('@mongodb-js/zstd');
      return { name, compress: async (page) => { const out = await zstd.compress(Buffer.from(page.buffer, page.byteOffset, page.byteLength), level ?? 3); return new Uint8Array(out.buffer, out.byteOffset, out.byteLength); } };
    }
    default: throw new TensioError('INVALID_ARGUMENT', `parquet: no page compressor for ${String(name)}`, { format: 'parquet' });
  }
}
