/**
 * Parquet column chunks of tensor columns, encoded by tensio: REQUIRED columns of PLAIN
 * data pages (v1), which for a little-endian tensor column is its bytes as they are
 * (widened for the 8- and 16-bit integers, packed bits for booleans), split into pages,
 * compressed, with a CRC-32 per page and min/max statistics per chunk. hyparquet-writer
 * still writes the file's footer (the chunk descriptions returned here go into it); it
 * encoded these columns value by value, 20-50 times slower.
 */
import { crc32 } from 'node:zlib';
import type { ColumnChunk } from 'hyparquet';
import type { DType } from '../../core/dtype.js';
import { TensioError } from '../../core/errors.js';

/** Parquet physical type of a tensor dtype as tensio writes it. */
export type ParquetPhysical = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE';

/** The physical type a dtype is written as (8/16-bit integers widen to INT32, uint32 to INT64, as pyarrow reads them back). */
export function parquetPhysicalOf(dtype: DType): ParquetPhysical {
  switch (dtype) {
    case 'bool': return 'BOOLEAN';
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': return 'INT32';
    case 'uint32': case 'int64': case 'uint64': return 'INT64';
    case 'float32': return 'FLOAT';
    case 'float64': return 'DOUBLE';
    default: throw new TensioError('UNSUPPORTED_DTYPE', `parquet: no column type for ${dtype}`, { format: 'parquet' });
  }
}

/** A column's values in their physical PLAIN layout (little-endian), as a view over fresh or the given bytes. */
export function parquetPlainValues(dtype: DType, bytes: Uint8Array): Uint8Array {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  const widen = (source: ArrayLike<number>): Uint8Array => new Uint8Array(Int32Array.from(source).buffer);
  switch (dtype) {
    case 'bool': {
      // PLAIN booleans: one bit each, least significant bit first.
      const out = new Uint8Array(Math.ceil(byteLength / 8));
      for (let i = 0; i < byteLength; i++) if (aligned[i]) out[i >> 3]! |= 1 << (i & 7);
      return out;
    }
    case 'int8': return widen(new Int8Array(buffer, byteOffset, byteLength));
    case 'uint8': return widen(aligned);
    case 'int16': return widen(new Int16Array(buffer, byteOffset, byteLength / 2));
    case 'uint16': return widen(new Uint16Array(buffer, byteOffset, byteLength / 2));
    case 'uint32': {
      // Zero-extended to 64 bits: low words the values, high words zero.
      const source = new Uint32Array(buffer, byteOffset, byteLength / 4);
      const out = new Uint32Array(source.length * 2);
      for (let i = 0; i < source.length; i++) out[2 * i] = source[i]!;
      return new Uint8Array(out.buffer);
    }
    default: return aligned;
  }
}

/**
 * Min, max and NaN count of float values. The float and integer loops are separate
 * functions so each sees few array types (one loop over every typed array was
 * megamorphic: its element loads went through the generic path).
 */
function floatRange(values: Float32Array | Float64Array): { min: number; max: number; nans: number; count: number } {
  let min = Infinity;
  let max = -Infinity;
  let nans = 0;
  const length = values.length;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    // Selects, not branches: on unsorted data the branches mispredict (about 1.3x slower). NaN selects neither.
    min = value < min ? value : min;
    max = value > max ? value : max;
    if (value !== value) nans++;
  }
  return { min, max, nans, count: length };
}

/** Min and max of integer values of up to 32 bits (see {@link floatRange}). */
function integerRange(values: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array): { min: number; max: number; nans: number; count: number } {
  let min = Infinity;
  let max = -Infinity;
  const length = values.length;
  for (let i = 0; i < length; i++) {
    const value = values[i]!;
    min = value < min ? value : min;
    max = value > max ? value : max;
  }
  return { min, max, nans: 0, count: length };
}

/** A column chunk's statistics as hyparquet-writer's footer takes them. */
export interface ParquetColumnStatistics { min_value?: number | bigint | boolean; max_value?: number | bigint | boolean; null_count: bigint; nan_count?: bigint }

/** Min and max of a column (NaN skipped, zeros as -0 / +0 per the Parquet spec), as hyparquet-writer's footer takes them. */
export function parquetColumnStatistics(dtype: DType, bytes: Uint8Array): ParquetColumnStatistics {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  const numeric = (range: { min: number; max: number; nans: number; count: number }, float: boolean): ParquetColumnStatistics => {
    const { min, max, nans, count } = range;
    if (nans === count) return { null_count: 0n, ...(float ? { nan_count: BigInt(nans) } : {}) };
    return { min_value: min === 0 ? -0 : min, max_value: max === 0 ? 0 : max, null_count: 0n, ...(float ? { nan_count: BigInt(nans) } : {}) };
  };
  const big = (values: BigInt64Array | BigUint64Array): ParquetColumnStatistics => {
    if (values.length === 0) return { null_count: 0n };
    let min = values[0]!;
    let max = values[0]!;
    for (let i = 1; i < values.length; i++) {
      const value = values[i]!;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return { min_value: min, max_value: max, null_count: 0n };
  };
  switch (dtype) {
    case 'bool': {
      if (byteLength === 0) return { null_count: 0n };
      let any = false;
      let all = true;
      for (let i = 0; i < byteLength; i++) { if (aligned[i]) any = true; else all = false; }
      return { min_value: all, max_value: any, null_count: 0n };
    }
    case 'int8': return numeric(integerRange(new Int8Array(buffer, byteOffset, byteLength)), false);
    case 'uint8': return numeric(integerRange(aligned), false);
    case 'int16': return numeric(integerRange(new Int16Array(buffer, byteOffset, byteLength / 2)), false);
    case 'uint16': return numeric(integerRange(new Uint16Array(buffer, byteOffset, byteLength / 2)), false);
    case 'int32': return numeric(integerRange(new Int32Array(buffer, byteOffset, byteLength / 4)), false);
    case 'uint32': {
      const stats = numeric(integerRange(new Uint32Array(buffer, byteOffset, byteLength / 4)), false);
      return stats.min_value === undefined ? stats : { ...stats, min_value: BigInt(stats.min_value as number), max_value: BigInt(stats.max_value as number) };
    }
    case 'int64': return big(new BigInt64Array(buffer, byteOffset, byteLength / 8));
    case 'uint64': return big(new BigUint64Array(buffer, byteOffset, byteLength / 8));
    case 'float32': return numeric(floatRange(new Float32Array(buffer, byteOffset, byteLength / 4)), true);
    case 'float64': return numeric(floatRange(new Float64Array(buffer, byteOffset, byteLength / 8)), true);
    default: throw new TensioError('UNSUPPORTED_DTYPE', `parquet: no column type for ${dtype}`, { format: 'parquet' });
  }
}

/** Thrift compact-protocol bytes of a PageHeader for a PLAIN v1 data page of a REQUIRED column. */
export function parquetDataPageHeader(values: number, uncompressed: number, compressed: number, crc: number): Uint8Array {
  const out: number[] = [];
  const varint = (value: number) => {
    let rest = value >>> 0;
    while (rest >= 0x80) { out.push((rest & 0x7f) | 0x80); rest >>>= 7; }
    out.push(rest);
  };
  const i32 = (delta: number, value: number) => { out.push((delta << 4) | 5); varint((value << 1) ^ (value >> 31)); };
  i32(1, 0); // type: DATA_PAGE
  i32(1, uncompressed); // uncompressed_page_size
  i32(1, compressed); // compressed_page_size
  i32(1, crc | 0); // crc
  out.push((1 << 4) | 12); // data_page_header
  i32(1, values); // num_values
  i32(1, 0); // encoding: PLAIN
  i32(1, 3); // definition_level_encoding: RLE
  i32(1, 3); // repetition_level_encoding: RLE
  out.push(0); // end of DataPageHeader
  out.push(0); // end of PageHeader
  return Uint8Array.from(out);
}

/** How a chunk's pages are compressed: the footer's codec name and a page compressor (none: as they are). */
export interface ParquetPageCodec {
  readonly name: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD' | 'BROTLI' | 'LZ4_RAW';
  readonly compress?: (page: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

/** One encoded column chunk: its bytes in order and its description for the footer. */
export interface ParquetEncodedChunk {
  readonly parts: Uint8Array[];
  readonly byteLength: number;
  readonly chunk: ColumnChunk;
}

/**
 * Encodes one column of one row group (`rows` values, little-endian tensor bytes) as a
 * chunk that starts at `fileOffset`: pages of about `pageSize` bytes (whole values),
 * compressed by `codec` (the pages of a chunk at once, so an asynchronous codec runs
 * them in parallel), statistics when asked.
 */
export async function parquetEncodeColumn(name: string, dtype: DType, bytes: Uint8Array, rows: number, fileOffset: number,
  options: { codec: ParquetPageCodec; pageSize: number; statistics: boolean }): Promise<ParquetEncodedChunk> {
  const physical = parquetPhysicalOf(dtype);
  const plain = parquetPlainValues(dtype, bytes);
  // Rows per page: whole bytes of values (booleans: a multiple of 8 rows, so pages split on byte boundaries).
  const rowBytes = physical === 'BOOLEAN' ? 1 / 8 : physical === 'INT32' || physical === 'FLOAT' ? 4 : 8;
  const pageRows = Math.max(8, Math.floor(options.pageSize / rowBytes / 8) * 8);
  const pages: { rows: number; body: Uint8Array }[] = [];
  for (let start = 0; start < rows || (rows === 0 && pages.length === 0); start += pageRows) {
    const count = Math.min(pageRows, rows - start);
    const from = physical === 'BOOLEAN' ? start / 8 : start * rowBytes;
    const to = physical === 'BOOLEAN' ? Math.ceil((start + count) / 8) : (start + count) * rowBytes;
    pages.push({ rows: count, body: plain.subarray(from, to) });
    if (rows === 0) break;
  }
  const compressing = Promise.all(pages.map((page) => (options.codec.compress ? options.codec.compress(page.body) : page.body)));
  // Statistics while an asynchronous codec compresses on other threads.
  const statistics = options.statistics ? parquetColumnStatistics(dtype, bytes) : undefined;
  const compressed = await compressing;
  const parts: Uint8Array[] = [];
  let byteLength = 0;
  let uncompressedTotal = 0;
  for (const [index, page] of pages.entries()) {
    const body = compressed[index]!;
    const header = parquetDataPageHeader(page.rows, page.body.byteLength, body.byteLength, crc32(body));
    parts.push(header, body);
    byteLength += header.byteLength + body.byteLength;
    uncompressedTotal += header.byteLength + page.body.byteLength;
  }
  return {
    parts,
    byteLength,
    chunk: {
      file_offset: BigInt(fileOffset),
      meta_data: {
        type: physical,
        encodings: ['PLAIN', 'RLE'],
        path_in_schema: [name],
        codec: options.codec.name,
        num_values: BigInt(rows),
        total_uncompressed_size: BigInt(uncompressedTotal),
        total_compressed_size: BigInt(byteLength),
        data_page_offset: BigInt(fileOffset),
        ...(statistics ? { statistics: statistics as never } : {}),
        encoding_stats: [{ page_type: 'DATA_PAGE', encoding: 'PLAIN', count: pages.length }],
      },
    } as ColumnChunk,
  };
}
