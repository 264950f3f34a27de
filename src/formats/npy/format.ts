/**
 * The `.npy` implementation (open, write) over its cheap descriptor (`descriptor.ts`),
 * which the registry lists lazily.
 */
import { sourceOptionsOf } from '../../storage/source-input.js';
import type { TensorFormat } from '../../model/types.js';
import { npyDescriptor } from './descriptor.js';
import { npyOpen } from './reader.js';
import type { NpyOpenFormatOptions, NpyWriteFormatOptions } from './types.js';
import { npyCreateWriter } from './writer.js';

/**
 * NumPy `.npy`: one array. Format options when opening: `arrayName` (default `'data'`),
 * `maxHeaderBytes`, `maxRank`; when writing: `version` (`[1, 0]`, `[2, 0]`, `[3, 0]`).
 * The registry's entry (`getFormat('npy')`) is the lazy one built from `npyDescriptor`,
 * which imports this module on first use.
 *
 * @example
 * ```ts
 * const reader = await npyFormat.open!('x.npy');
 * ```
 */
export const npyFormat: TensorFormat<NpyOpenFormatOptions, NpyWriteFormatOptions> = {
  ...npyDescriptor,
  open: (input, options) => npyOpen(input, { ...options?.formatOptions, ...sourceOptionsOf(options) }),
  createWriter: (path, options) => npyCreateWriter(path, { ...options, npy: options.formatOptions ?? {} }),
};
