/**
 * Arrow IPC and Feather: read the file format (Feather v2), streams, tensor streams and
 * Feather v1 as tensors (tables by `model/table.ts`' rules); write files and streams,
 * uncompressed or with lz4/zstd body compression.
 */
export { arrowFormat, ARROW_OPEN_OPTION_NAMES, ARROW_WRITE_OPTION_NAMES } from './format.js';
export { arrowOpen } from './reader.js';
export { arrowCreateWriter, ARROW_DEFAULT_BATCH_ROWS } from './writer.js';
export { arrowSniff } from './sniff.js';
export type { ArrowOpenOptions, ArrowWriteOptions } from './types.js';
