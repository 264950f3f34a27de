/**
 * The GGUF implementation (open, write, metadata edit) over its cheap descriptor
 * (`descriptor.ts`), which the registry lists lazily.
 */
import type { TensorFormat } from '../../model/types.js';
import { ggufDescriptor, GGUF_OPEN_OPTION_NAMES } from './descriptor.js';
import { ggufOpen } from './reader.js';
import type { GgufOpenOptions } from './types.js';
import { ggufCreateWriter, type GgufWriteOptions } from './writer.js';
import { ggufEditMetadata } from './edit.js';

/**
 * GGUF (llama.cpp): typed metadata, plain and block-quantized tensors. The registry's
 * entry (`getFormat('gguf')`) is the lazy one built from `ggufDescriptor`, which imports
 * this module on first use.
 *
 * @example
 * ```ts
 * const reader = await ggufFormat.open!('model.gguf');
 * ```
 */
export const ggufFormat: TensorFormat = {
  ...ggufDescriptor,
  open(input, options = {}) {
    const formatOptions = (options.formatOptions ?? {}) as GgufOpenOptions;
    const picked: GgufOpenOptions = {};
    for (const key of GGUF_OPEN_OPTION_NAMES) if (formatOptions[key] !== undefined) (picked as Record<string, unknown>)[key] = formatOptions[key];
    return ggufOpen(input, { ...picked, ...(options.signal ? { signal: options.signal } : {}), ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}) });
  },
  createWriter: (target, options) => ggufCreateWriter(target, { ...options, gguf: (options.formatOptions ?? {}) as GgufWriteOptions }),
  editMetadata: ggufEditMetadata,
};
