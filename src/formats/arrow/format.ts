/**
 * The Arrow IPC entry of the format registry (file = Feather v2, stream, tensor
 * streams, Feather v1). Registered lazily: `import('tensio')` loads neither this
 * format's reader nor its writer's library (flechette) until an Arrow file is used.
 */
import { lazyFormat } from '../../model/lazy-format.js';
import { TABLE_DTYPES, tableCannotWrite } from '../../model/table-dtypes.js';
import type { TensorFormat } from '../../model/types.js';
import { arrowSniff } from './sniff.js';

/** Option names `open` understands (`formatOptions`). */
export const ARROW_OPEN_OPTION_NAMES = ['columns', 'select', 'rows', 'skipNonNumeric', 'name', 'maxMetadataBytes'] as const;
/** Option names `createWriter` understands (`formatOptions`). */
export const ARROW_WRITE_OPTION_NAMES = ['columns', 'columnNames', 'ipc', 'compression', 'compressionLevel', 'batchRows'] as const;

/**
 * Arrow IPC / Feather. Tables read as tensors by `model/table.ts`' rules (open options
 * `columns: 'separate'`, `select`, `rows`, `skipNonNumeric`, `name`); tensors write as
 * a table (`columns`, `columnNames`, `ipc: 'file' | 'stream'`, `compression: 'lz4' |
 * 'zstd' | 'none'`, `batchRows`).
 *
 * @example
 * ```ts
 * await convert('weights.safetensors', 'w.feather', { formatOptions: { columns: 'separate', compression: 'zstd' } });
 * ```
 */
export const arrowFormat: TensorFormat = lazyFormat({
  name: 'arrow',
  extensions: ['.arrow', '.feather', '.arrows', '.ipc'],
  capabilities: {
    // A table holds one stacked tensor by default (NumPack); several same-row tensors
    // with the writer option columns: 'separate' (library writers; convert plans one).
    tensors: 'one',
    dtypes: TABLE_DTYPES,
    layouts: ['dense'],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'none',
    folder: false,
  },
  sniff: arrowSniff,
  cannotWrite: tableCannotWrite,
  openOptionNames: ARROW_OPEN_OPTION_NAMES,
  writeOptionNames: ARROW_WRITE_OPTION_NAMES,
  provides: { open: true, write: true },
}, async () => (await import('./implementation.js')).arrowImplementation);
