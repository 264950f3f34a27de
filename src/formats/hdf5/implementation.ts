/**
 * What the lazy HDF5 registry entry loads on first use (see `format.ts`).
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { hdf5Open } from './reader.js';
import type { Hdf5OpenOptions, Hdf5WriteOptions } from './types.js';
import { hdf5CreateWriter } from './write.js';

/** The HDF5 reader (and writer) behind the lazy registry entry. */
export const hdf5Implementation: FormatImplementation = {
  createWriter: (target, options) => hdf5CreateWriter(target, {
    tensors: options.tensors,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
    ...(options.formatOptions as Hdf5WriteOptions | undefined),
  }),
  open: (input, options) => hdf5Open(input, { ...(options?.formatOptions as Hdf5OpenOptions | undefined), ...(options?.signal ? { signal: options.signal } : {}), ...(options?.http ? { http: options.http } : {}), ...(options?.s3 ? { s3: options.s3 } : {}) }),
};
