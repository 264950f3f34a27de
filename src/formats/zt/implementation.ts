/**
 * What `format.ts` loads on first use: open (and later write and verify) over the
 * zTensor implementation, which needs the native XXH3 and zstd bindings.
 */
import { TensioError } from '../../core/errors.js';
import type { FormatImplementation } from '../../model/lazy-format.js';
import { ztOpenAnyVersion } from './reader.js';
import { ztCreateWriter, type ZtWriteOptions } from './write.js';
import { ztCreateShardedWriter } from './sharded-write.js';
import { ztVerify } from './verify.js';
import { ztEditMetadata } from './edit.js';

/** The lazily loaded half of `ztFormat`. */
export const ztImplementation: FormatImplementation = {
  open(input, options = {}) {
    const formatOptions = options.formatOptions ?? {};
    return ztOpenAnyVersion(input, {
      ...(typeof formatOptions.maxManifestBytes === 'number' ? { maxManifestBytes: formatOptions.maxManifestBytes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
    });
  },
  verify: (input, options) => ztVerify(input, options),
  editMetadata: ztEditMetadata,
  createWriter(target, options) {
    const formatOptions = (options.formatOptions ?? {}) as ZtWriteOptions & { maxShardBytes?: number };
    const source = { ...(options.sourceFormat !== undefined ? { sourceFormat: options.sourceFormat } : {}), ...(options.sourceTensors ? { sourceTensors: options.sourceTensors } : {}) };
    if (formatOptions.maxShardBytes !== undefined) {
      if (typeof target !== 'string') throw new TensioError('UNSUPPORTED_FEATURE', 'zt: sharded output needs a path (its shards are written beside it)', { format: 'zt' });
      return ztCreateShardedWriter(target, {
        tensors: options.tensors, maxShardBytes: formatOptions.maxShardBytes,
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
        ...(formatOptions.align !== undefined ? { align: formatOptions.align } : {}),
        ...(formatOptions.digest !== undefined ? { digest: formatOptions.digest } : {}),
        ...source,
      });
    }
    return ztCreateWriter(target, {
      tensors: options.tensors,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
      ...source,
      ...pick(formatOptions, ['canonical', 'align', 'compress', 'digest', 'dedupMaxBytes', 'append', 'maxShardBytes']),
    });
  },
};

function pick<T extends object>(from: T, keys: ReadonlyArray<keyof T>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}
