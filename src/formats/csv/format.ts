/**
 * The `csv` and `txt` entries of the format registry: numeric text tables holding one
 * 2-D array. Neither has a signature, so the extension decides (`.csv`, `.tsv`,
 * `.csv.gz`, `.txt`, `.txt.gz`); gzip is recognised by its bytes when reading.
 */
import type { TensorFormat, FormatCapabilities } from '../../model/types.js';
import { csvOpen } from './reader.js';
import { CSV_WRITABLE_DTYPES, csvCannotWrite, csvCreateWriter } from './write.js';
import type { CsvReadOptions, CsvWriteOptions } from './types.js';

const capabilities: FormatCapabilities = {
  tensors: 'one',
  dtypes: CSV_WRITABLE_DTYPES,
  layouts: ['dense'],
  needsShapesFirst: false,
  canAppend: false,
  checksums: 'none',
  folder: false,
};

/** The `formatOptions` keys reading takes ({@link CsvReadOptions}). */
const OPEN_OPTIONS = ['delimiter', 'skipRows', 'header', 'comments', 'quote', 'dtype', 'usecols', 'maxRows', 'arrayName', 'maxLineBytes', 'maxGzipRatio', 'chunkTextBytes'];
/** The `formatOptions` keys writing takes ({@link CsvWriteOptions}). */
const WRITE_OPTIONS = ['delimiter', 'fmt', 'header', 'comments', 'newline', 'gzip'];

function textFormat(name: 'csv' | 'txt', extensions: string[]): TensorFormat {
  return {
    name,
    extensions,
    capabilities,
    // Text has no signature: detection falls back to the extension.
    sniff: () => false,
    open: (input, options) => csvOpen(input, { ...(options?.formatOptions as CsvReadOptions | undefined), format: name, ...(options?.signal ? { signal: options.signal } : {}) }),
    createWriter: (path, options) => csvCreateWriter(path, { ...options, format: name, csv: (options.formatOptions ?? {}) as CsvWriteOptions }),
    cannotWrite: (spec) => csvCannotWrite(spec, name),
    openOptionNames: OPEN_OPTIONS,
    writeOptionNames: WRITE_OPTIONS,
  };
}

/**
 * CSV: delimiter detected (`,` tab `;` `|`) unless given; written with `,` and the
 * shortest round-trip numbers unless `fmt` is given.
 *
 * @example
 * ```ts
 * getFormat('csv') === csvFormat; // true: it is in BUILT_IN_FORMATS
 * ```
 */
export const csvFormat: TensorFormat = textFormat('csv', ['.csv', '.tsv', '.csv.gz', '.tsv.gz']);

/**
 * TXT: whitespace-separated numbers (`np.loadtxt`/`np.savetxt` defaults, NumPack's
 * `from_txt`/`to_txt`); written with one space between values.
 *
 * @example
 * ```ts
 * getFormat('txt') === txtFormat; // true
 * ```
 */
export const txtFormat: TensorFormat = textFormat('txt', ['.txt', '.txt.gz']);
