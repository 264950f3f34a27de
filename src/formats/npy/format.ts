/**
 * The `.npy` entry of the format registry.
 */
import type { TensorFormat } from '../../model/types.js';
import type { DType } from '../../core/dtype.js';
import { NPY_DESCR_BY_DTYPE, npyCannotWrite } from './dtypes.js';
import { npyHasMagic } from './read.js';
import { npyOpen } from './reader.js';
import type { NpyOpenFormatOptions, NpyWriteFormatOptions } from './types.js';
import { npyCreateWriter } from './writer.js';

/**
 * NumPy `.npy`: one array. Format options when opening: `arrayName` (default `'data'`),
 * `maxHeaderBytes`, `maxRank`; when writing: `version` (`[1, 0]`, `[2, 0]`, `[3, 0]`).
 *
 * @example
 * ```ts
 * getFormat('npy') === npyFormat; // true: it is in BUILT_IN_FORMATS (src/operations/registry.ts)
 * ```
 */
export const npyFormat: TensorFormat<NpyOpenFormatOptions, NpyWriteFormatOptions> = {
  name: 'npy',
  extensions: ['.npy'],
  capabilities: {
    tensors: 'one',
    dtypes: Object.keys(NPY_DESCR_BY_DTYPE) as DType[],
    layouts: ['dense'],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'none',
    folder: false,
  },
  sniff: npyHasMagic,
  open: (input, options) => npyOpen(input, { ...options?.formatOptions, ...(options?.signal ? { signal: options.signal } : {}) }),
  createWriter: (path, options) => npyCreateWriter(path, { ...options, npy: options.formatOptions ?? {} }),
  cannotWrite: (spec) => npyCannotWrite(spec.dtype),
  openOptionNames: ['voidDtype', 'maxHeaderBytes', 'maxRank', 'arrayName'],
};
