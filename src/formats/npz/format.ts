/**
 * The `.npz` entry of the format registry.
 */
import type { TensorFormat } from '../../model/types.js';
import type { DType } from '../../core/dtype.js';
import { NPY_DESCR_BY_DTYPE, npyCannotWrite } from '../npy/dtypes.js';
import { npzOpen } from './reader.js';
import type { NpzOpenFormatOptions, NpzWriteFormatOptions } from './types.js';
import { npzCreateWriter } from './write.js';
import { zipVerifyTensorFile } from '../shared/zip-verify.js';

/**
 * True for zip magic (`PK\x03\x04`, or `PK\x05\x06` for an empty archive). PyTorch
 * checkpoints are zips too: the registry's extension tiebreak tells them apart.
 *
 * @example
 * ```ts
 * npzSniff(head); // true for any zip
 * ```
 */
export function npzSniff(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/**
 * NumPy `.npz`. Format options when opening: `maxEntries`, `maxEntryBytes`,
 * `maxHeaderBytes`, `checkCrc`; when writing: `compress` (deflate, like
 * `np.savez_compressed`).
 *
 * @example
 * ```ts
 * getFormat('npz') === npzFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
export const npzFormat: TensorFormat<NpzOpenFormatOptions, NpzWriteFormatOptions> = {
  name: 'npz',
  extensions: ['.npz'],
  capabilities: {
    tensors: 'many',
    dtypes: Object.keys(NPY_DESCR_BY_DTYPE) as DType[],
    layouts: ['dense'],
    // Each member carries its own .npy header, written when that member starts.
    needsShapesFirst: false,
    canAppend: false,
    checksums: 'always',
    folder: false,
  },
  sniff: npzSniff,
  open: (input, options) => npzOpen(input, { ...options?.formatOptions, ...(options?.signal ? { signal: options.signal } : {}) }),
  createWriter: (path, options) => npzCreateWriter(path, {
    tensors: options.tensors,
    ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
    ...(options.formatOptions?.compress === true ? { compress: true } : {}),
  }),
  verify: (path, options) => zipVerifyTensorFile(path, 'npz', (file) => npzOpen(file), options, (info) => `${info.name}.npy`),
  cannotWrite: (spec) => npyCannotWrite(spec.dtype),
  writeOptionNames: ['compress'],
  openOptionNames: ['voidDtype', 'maxHeaderBytes', 'maxRank', 'maxEntries', 'maxEntryBytes', 'checkCrc'],
};
