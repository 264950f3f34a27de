/**
 * The `.npz` implementation (open, write, verify) over its cheap descriptor
 * (`descriptor.ts`), which the registry lists lazily.
 */
import { sourceOptionsOf } from '../../storage/source-input.js';
import type { TensorFormat } from '../../model/types.js';
import { npzDescriptor } from './descriptor.js';
import { npzOpen } from './reader.js';
import type { NpzOpenFormatOptions, NpzWriteFormatOptions } from './types.js';
import { npzCreateWriter } from './write.js';
import { zipVerifyTensorFile } from '../shared/zip-verify.js';

export { npzSniff } from './descriptor.js';

/**
 * NumPy `.npz`. Format options when opening: `maxEntries`, `maxEntryBytes`,
 * `maxHeaderBytes`, `checkCrc`; when writing: `compress` (deflate, like
 * `np.savez_compressed`). The registry's entry (`getFormat('npz')`) is the lazy one
 * built from `npzDescriptor`, which imports this module on first use.
 *
 * @example
 * ```ts
 * const reader = await npzFormat.open!('arrays.npz');
 * ```
 */
export const npzFormat: TensorFormat<NpzOpenFormatOptions, NpzWriteFormatOptions> = {
  ...npzDescriptor,
  open: (input, options) => npzOpen(input, { ...options?.formatOptions, ...sourceOptionsOf(options) }),
  createWriter: (path, options) => npzCreateWriter(path, {
    tensors: options.tensors,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
    ...(options.formatOptions?.compress === true ? { compress: true } : {}),
  }),
  verify: (path, options) => zipVerifyTensorFile(path, 'npz', (file) => npzOpen(file), options, (info) => `${info.name}.npy`),
};
