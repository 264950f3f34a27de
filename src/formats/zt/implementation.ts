/**
 * What `format.ts` loads on first use: open (and later write and verify) over the
 * zTensor implementation, which needs the native XXH3 and zstd bindings.
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { ztOpenAnyVersion } from './reader.js';
import { ztCreateWriter, type ZtWriteOptions } from './write.js';
import { ztVerify } from './verify.js';

/** The lazily loaded half of `ztFormat`. */
export const ztImplementation: FormatImplementation = {
  open(input, options = {}) {
    const formatOptions = options.formatOptions ?? {};
    return ztOpenAnyVersion(input, {
      ...(typeof formatOptions.maxManifestBytes === 'number' ? { maxManifestBytes: formatOptions.maxManifestBytes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.http ? { http: options.http } : {}),
    });
  },
  verify: (input, options) => ztVerify(input, options),
  createWriter(target, options) {
    const formatOptions = (options.formatOptions ?? {}) as ZtWriteOptions;
    return ztCreateWriter(target, {
      tensors: options.tensors,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
      ...pick(formatOptions, ['canonical', 'align', 'compress', 'digest', 'dedupMaxBytes', 'append']),
    });
  },
};

function pick<T extends object>(from: T, keys: ReadonlyArray<keyof T>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}
