/**
 * The formats tensio knows: one explicit, frozen list. Nothing registers itself by
 * being imported; a caller who wants other formats (a test's fake one, a plugin) passes
 * its own list to the operations (`{ formats }`).
 */
import { TensioError } from '../core/errors.js';
import type { TensorFormat } from '../model/types.js';
import { lazyFormat } from '../model/lazy-format.js';
import { setWriteTargetBinder } from '../model/write-target-binder.js';
import { safetensorsDescriptor } from '../formats/safetensors/descriptor.js';
import { npkDescriptor } from '../npk/descriptor.js';
import { npyDescriptor } from '../formats/npy/descriptor.js';
import { pytorchDescriptor } from '../formats/pytorch/descriptor.js';
import { npzDescriptor } from '../formats/npz/descriptor.js';
import { ggufDescriptor } from '../formats/gguf/descriptor.js';
import { hdf5Format } from '../formats/hdf5/format.js';
import { ztFormat } from '../formats/zt/format.js';
import { zarrFormat } from '../formats/zarr/format.js';
import { textDescriptor } from '../formats/csv/descriptor.js';
import { arrowFormat } from '../formats/arrow/format.js';
import { parquetFormat } from '../formats/parquet/format.js';
import { quoteInput } from '../core/quote.js';

// A writer given an s3:// path and `s3` settings writes to the same key of an S3 store made
// with them (every writer takes { store, key } as it takes a path). Loaded on use only.
setWriteTargetBinder(async (target, s3) => (typeof target === 'string' ? (await import('../storage/write-target.js')).bindS3Target(target, s3) : target));

/**
 * Every built-in format, in detection order. Each entry is lazy: the registry holds
 * only what detection and planning need (name, extensions, capabilities, `sniff`,
 * `cannotWrite`), and a format's implementation module (its parser, writer, zip or
 * pickle machine, library) is imported the first time a file of that format is opened,
 * written, verified or edited, so `import('tensio')` stays light.
 *
 * pytorch comes before npz: both claim zip files, and when neither the first bytes nor
 * the extension can decide, the first match wins (npz accepts any zip).
 */
export const BUILT_IN_FORMATS: readonly TensorFormat[] = Object.freeze([
  lazyFormat({ ...safetensorsDescriptor, provides: { open: true, write: true, verify: true, folders: true, edit: true } }, async () => (await import('../formats/safetensors/format.js')).safetensorsFormat),
  lazyFormat({ ...npkDescriptor, provides: { open: true, write: true, verify: true, folders: true } }, async () => (await import('../npk/format.js')).npkFormat),
  lazyFormat({ ...npyDescriptor, provides: { open: true, write: true } }, async () => (await import('../formats/npy/format.js')).npyFormat),
  lazyFormat({ ...pytorchDescriptor, provides: { open: true, write: true, verify: true, folders: true, pickles: true } }, async () => (await import('../formats/pytorch/format.js')).pytorchFormat),
  lazyFormat({ ...npzDescriptor, provides: { open: true, write: true, verify: true } }, async () => (await import('../formats/npz/format.js')).npzFormat),
  lazyFormat({ ...ggufDescriptor, provides: { open: true, write: true, edit: true } }, async () => (await import('../formats/gguf/format.js')).ggufFormat),
  hdf5Format,
  ztFormat,
  zarrFormat,
  lazyFormat({ ...textDescriptor('csv'), provides: { open: true, write: true } }, async () => (await import('../formats/csv/format.js')).csvFormat),
  lazyFormat({ ...textDescriptor('txt'), provides: { open: true, write: true } }, async () => (await import('../formats/csv/format.js')).txtFormat),
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
