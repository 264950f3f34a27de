/**
 * What the lazily registered Parquet format loads on first use.
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { parquetOpen } from './reader.js';
import { parquetVerify } from './verify.js';
import { parquetCreateWriter } from './writer.js';

/** The Parquet format's operations. */
export const parquetImplementation: FormatImplementation = {
  open: parquetOpen,
  createWriter: parquetCreateWriter,
  verify: parquetVerify,
};
