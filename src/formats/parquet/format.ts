/**
 * The Parquet entry of the format registry, registered lazily: `import('tensio')` loads
 * neither hyparquet nor hyparquet-writer until a Parquet file is used.
 */
import { lazyFormat } from '../../model/lazy-format.js';
import { TABLE_DTYPES } from '../../model/table-dtypes.js';
import type { TensorFormat } from '../../model/types.js';
import { parquetSniff } from './sniff.js';
import { tableCannotWrite } from '../../model/table-dtypes.js';

/** Option names `open` understands (`formatOptions`). */
export const PARQUET_OPEN_OPTION_NAMES = ['columns', 'select', 'rows', 'skipNonNumeric', 'name', 'maxFooterBytes', 'maxColumnChunkBytes', 'maxChunkValues'] as const;
/** Option names `createWriter` understands (`formatOptions`). */
export const PARQUET_WRITE_OPTION_NAMES = ['columns', 'columnNames', 'compression', 'compressionLevel', 'rowGroupSize', 'statistics', 'pageSize'] as const;

/**
 * Parquet. Tables read as tensors by `model/table.ts`' rules (open options `columns:
 * 'separate'`, `select`, `rows`, `skipNonNumeric`, `name`), streamed by row group;
 * tensors write as a table (`compression`, `rowGroupSize`, `statistics`, …).
 *
 * @example
 * ```ts
 * await convert('table.parquet', 'table.safetensors');
 * ```
 */
export const parquetFormat: TensorFormat = lazyFormat({
  name: 'parquet',
  extensions: ['.parquet', '.pq'],
  capabilities: {
    // A table holds one stacked tensor by default (NumPack); several same-row tensors
    // with the writer option columns: 'separate' (library writers; convert plans one).
    tensors: 'one',
    dtypes: TABLE_DTYPES.filter((dtype) => dtype !== 'float16'),
    layouts: ['dense'],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'optional',
    folder: false,
  },
  sniff: parquetSniff,
  cannotWrite: (spec) => tableCannotWrite(spec) ?? (spec.shape.length > 2 ? `Parquet columns hold scalars: a ${spec.shape.length}-D tensor has no column form here (reshape to 2-D or write Arrow/Feather)` : undefined),
  openOptionNames: PARQUET_OPEN_OPTION_NAMES,
  writeOptionNames: PARQUET_WRITE_OPTION_NAMES,
  provides: { open: true, write: true, verify: true },
}, async () => (await import('./implementation.js')).parquetImplementation);
