/**
 * The `csv` and `txt` implementations (open, write) over their cheap descriptors
 * (`descriptor.ts`), which the registry lists lazily: numeric text tables holding one
 * 2-D array. Neither has a signature, so the extension decides (`.csv`, `.tsv`,
 * `.csv.gz`, `.txt`, `.txt.gz`); gzip is recognised by its bytes when reading.
 */
import type { TensorFormat } from '../../model/types.js';
import { textDescriptor } from './descriptor.js';
import { csvOpen } from './reader.js';
import { csvCreateWriter } from './write.js';
import type { CsvReadOptions, CsvWriteOptions } from './types.js';

function textFormat(name: 'csv' | 'txt'): TensorFormat {
  return {
    ...textDescriptor(name),
    open: (input, options) => csvOpen(input, { ...(options?.formatOptions as CsvReadOptions | undefined), format: name, ...(options?.signal ? { signal: options.signal } : {}), ...(options?.http ? { http: options.http } : {}), ...(options?.s3 ? { s3: options.s3 } : {}) }),
    createWriter: (path, options) => csvCreateWriter(path, { ...options, format: name, csv: (options.formatOptions ?? {}) as CsvWriteOptions }),
  };
}

/**
 * CSV: delimiter detected (`,` tab `;` `|`) unless given; written with `,` and the
 * shortest round-trip numbers unless `fmt` is given. The registry's entry
 * (`getFormat('csv')`) is the lazy one built from `textDescriptor('csv')`.
 *
 * @example
 * ```ts
 * const reader = await csvFormat.open!('table.csv');
 * ```
 */
export const csvFormat: TensorFormat = textFormat('csv');

/**
 * TXT: whitespace-separated numbers (`np.loadtxt`/`np.savetxt` defaults, NumPack's
 * `from_txt`/`to_txt`); written with one space between values. The registry's entry is
 * the lazy one built from `textDescriptor('txt')`.
 *
 * @example
 * ```ts
 * const reader = await txtFormat.open!('table.txt');
 * ```
 */
export const txtFormat: TensorFormat = textFormat('txt');
