/**
 * Parquet: read tables as tensors (streamed by row group, column selection, row ranges,
 * every codec hyparquet and hyparquet-compressors decode, nulls as NaN), write tensors
 * as tables (snappy, gzip, zstd, brotli or none; row groups; statistics), verify page
 * CRCs.
 */
export { parquetFormat, PARQUET_OPEN_OPTION_NAMES, PARQUET_WRITE_OPTION_NAMES } from './format.js';
export { parquetOpen, parquetReadMetadata } from './reader.js';
export { parquetCreateWriter, parquetCannotWrite, PARQUET_DEFAULT_ROW_GROUP_SIZE } from './writer.js';
export { parquetVerify } from './verify.js';
export { PARQUET_DEFAULT_ZSTD_LEVEL } from './codecs.js';
export { parquetSniff } from './sniff.js';
export type { ParquetOpenOptions, ParquetWriteOptions } from './types.js';
