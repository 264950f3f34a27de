/**
 * What `format.ts` loads on first use: open (and later write and verify) over the
 * zTensor implementation, which needs the native XXH3 and zstd bindings.
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { ztOpen } from './reader.js';

/** The lazily loaded half of `ztFormat`. */
export const ztImplementation: FormatImplementation = {
  open(input, options = {}) {
    const formatOptions = options.formatOptions ?? {};
    return ztOpen(input, {
      ...(typeof formatOptions.maxManifestBytes === 'number' ? { maxManifestBytes: formatOptions.maxManifestBytes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.http ? { http: options.http } : {}),
    });
  },
};
