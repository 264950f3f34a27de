/**
 * Options of the Parquet reader and writer.
 */
import type { TableReadOptions, TableWriteOptions } from '../../model/table.js';

/** Options of the Parquet reader (`formatOptions` of `open`). */
export interface ParquetOpenOptions extends TableReadOptions {
  /** Largest footer accepted (default `PARQUET_MAX_FOOTER_BYTES`). */
  maxFooterBytes?: number;
  /** Most bytes one column chunk of one row group may hold, stored or decoded (default `PARQUET_MAX_COLUMN_CHUNK_BYTES`). */
  maxColumnChunkBytes?: number;
  /** Most values the pages of one column chunk may declare (default `PARQUET_MAX_CHUNK_VALUES`). */
  maxChunkValues?: number;
}

/** Options of the Parquet writer (`formatOptions` of `createWriter`). */
export interface ParquetWriteOptions extends TableWriteOptions {
  /** Page compression: `'snappy'` (default, as pyarrow), `'gzip'`, `'zstd'`, `'brotli'` or `'none'`. */
  compression?: 'snappy' | 'gzip' | 'zstd' | 'brotli' | 'none';
  /** Compression level for gzip and zstd (zstd default: 1, pyarrow's, `PARQUET_DEFAULT_ZSTD_LEVEL`; gzip: zlib's 6). */
  compressionLevel?: number;
  /** Rows per row group (default 100,000, NumPack's `row_group_size`); memory holds one row group. */
  rowGroupSize?: number;
  /** Write min/max/null-count statistics (default true). */
  statistics?: boolean;
  /** Target uncompressed page size in bytes (default 1 MiB, at most 2^30). */
  pageSize?: number;
}
