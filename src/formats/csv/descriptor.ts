/**
 * The cheap part of the `csv` and `txt` registry entries: names, extensions,
 * capabilities and the dtype check. The registry lists both through `lazyFormat` with
 * these, so `import('tensio')` loads the tokenizer, number parsers and formatters
 * (`format.ts`) only on first use. Text has no signature: detection goes by extension.
 */
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import type { DType } from '../../core/dtype.js';
import type { LazyFormatDescriptor } from '../../model/lazy-format.js';
import type { FormatCapabilities, TensorSpec } from '../../model/types.js';

/** dtypes CSV/TXT can write: every real numeric type (float16/bfloat16 as their exact float32 values). */
export const CSV_WRITABLE_DTYPES: readonly DType[] = ['float64', 'float32', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

/**
 * Why CSV/TXT cannot hold a tensor of this spec (undefined when it can): text tables
 * hold 1-D or 2-D arrays of real numbers.
 *
 * @example
 * ```ts
 * csvCannotWrite({ name: 'x', dtype: 'complex64', shape: [3] }); // 'csv holds real numbers; …'
 * ```
 */
export function csvCannotWrite(spec: TensorSpec, format = 'csv'): string | undefined {
  const blocks = blockDTypeRefusal(spec.dtype, format);
  if (blocks) return blocks;
  if (!CSV_WRITABLE_DTYPES.includes(spec.dtype)) return `${format} holds real numbers and booleans; ${spec.dtype} has no text form here (convert to .npy or .safetensors instead)`;
  if (spec.shape.length < 1 || spec.shape.length > 2) return `${format} holds 1-D or 2-D arrays (as np.savetxt); ${spec.name} has shape [${spec.shape.join(', ')}] — reshape it, or write .npy`;
  return undefined;
}

const capabilities: FormatCapabilities = {
  tensors: 'one',
  dtypes: CSV_WRITABLE_DTYPES,
  layouts: ['dense'],
  needsShapesFirst: false,
  canAppend: false,
  checksums: 'none',
  folder: false,
};

/** The `formatOptions` keys reading takes (`CsvReadOptions`). */
const OPEN_OPTIONS = ['delimiter', 'skipRows', 'header', 'comments', 'quote', 'dtype', 'usecols', 'maxRows', 'arrayName', 'maxLineBytes', 'maxGzipRatio', 'chunkTextBytes', 'columns', 'columnStashBytes'];
/** The `formatOptions` keys writing takes (`CsvWriteOptions`). */
const WRITE_OPTIONS = ['delimiter', 'fmt', 'header', 'comments', 'newline', 'gzip', 'columns'];

/**
 * Everything of the `csv` or `txt` entry but its operations (see `format.ts`).
 *
 * @example
 * ```ts
 * textDescriptor('txt').extensions; // ['.txt', '.txt.gz']
 * ```
 */
export function textDescriptor(name: 'csv' | 'txt') {
  return {
    name,
    extensions: name === 'csv' ? ['.csv', '.tsv', '.csv.gz', '.tsv.gz'] : ['.txt', '.txt.gz'],
    capabilities,
    // Text has no signature: detection falls back to the extension.
    sniff: () => false,
    cannotWrite: (spec: TensorSpec) => csvCannotWrite(spec, name),
    openOptionNames: OPEN_OPTIONS,
    writeOptionNames: WRITE_OPTIONS,
  } satisfies Omit<LazyFormatDescriptor, 'provides'>;
}
