/**
 * The `.npy` implementation (open, write) over its cheap descriptor (`descriptor.ts`),
 * which the registry lists lazily.
 */
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import type { TensorFormat } from '../../model/types.js';
import { npyDescriptor } from './descriptor.js';
import { npyOpen, npyOpenSource } from './reader.js';
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
  open: async (input, options) => {
    const openOptions = { ...options?.formatOptions, ...(options?.signal ? { signal: options.signal } : {}) };
    if (typeof input !== 'string') return npyOpen(input, openOptions);
    // A path, or an http(s):// or s3:// URL with the call's own settings (here, not in
    // reader.ts, which the npz parser imports and must stay free of the URL openers).
    const { source } = await openSourceInput(input, sourceOptionsOf(options));
    return npyOpenSource(source, { ...openOptions, ownsSource: true });
  },
  createWriter: (path, options) => npyCreateWriter(path, { ...options, npy: options.formatOptions ?? {} }),
};
