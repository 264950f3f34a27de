/**
 * The formats tensio knows: one explicit, frozen list. Nothing registers itself by
 * being imported; a caller who wants other formats (a test's fake one, a plugin) passes
 * its own list to the operations (`{ formats }`).
 */
import { TensioError } from '../core/errors.js';
import type { TensorFormat } from '../model/types.js';
import { npyFormat } from '../formats/npy/format.js';
import { npzFormat } from '../formats/npz/format.js';
import { pytorchDescriptor } from '../formats/pytorch/descriptor.js';
import { lazyFormat } from '../model/lazy-format.js';
import { safetensorsFormat } from '../formats/safetensors/format.js';
import { npkFormat } from '../npk/format.js';
import { ggufFormat } from '../formats/gguf/format.js';
import { hdf5Format } from '../formats/hdf5/format.js';
import { ztFormat } from '../formats/zt/format.js';
import { zarrFormat } from '../formats/zarr/format.js';
import { csvFormat, txtFormat } from '../formats/csv/format.js';
import { arrowFormat } from '../formats/arrow/format.js';
import { parquetFormat } from '../formats/parquet/format.js';
import { quoteInput } from '../core/quote.js';

/**
 * Every built-in format, in detection order. pytorch comes before npz: both claim zip
 * files, and when neither the first bytes nor the extension can decide, the first
 * match wins (npz accepts any zip).
 */
export const BUILT_IN_FORMATS: readonly TensorFormat[] = Object.freeze([
  safetensorsFormat,
  npkFormat,
  npyFormat,
  // The pickle machine, zip reader and writer load on first use only (import('tensio') stays light).
  lazyFormat({ ...pytorchDescriptor, provides: { open: true, write: true, verify: true, folders: true, pickles: true } }, async () => (await import('../formats/pytorch/format.js')).pytorchFormat),
  npzFormat,
  ggufFormat,
  hdf5Format,
  ztFormat,
  zarrFormat,
  csvFormat,
  txtFormat,
  arrowFormat,
  parquetFormat,
]);

/** Options naming the formats an operation chooses from (default {@link BUILT_IN_FORMATS}). */
export interface FormatListOption {
  /** Formats to detect and choose from, in detection order. */
  formats?: readonly TensorFormat[];
}

/**
 * The format with this name; throws `UNKNOWN_FORMAT` listing the known ones.
 *
 * @example
 * ```ts
 * getFormat('npz').extensions; // ['.npz']
 * ```
 */
export function getFormat(name: string, formats: readonly TensorFormat[] = BUILT_IN_FORMATS): TensorFormat {
  const found = formats.find((format) => format.name === name.toLowerCase());
  if (!found) {
    throw new TensioError('UNKNOWN_FORMAT', `unknown format ${quoteInput(name)}; known formats: ${formats.map((f) => f.name).join(', ')}`);
  }
  return found;
}
