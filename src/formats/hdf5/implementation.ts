/**
 * What the lazy HDF5 registry entry loads on first use (see `format.ts`).
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import type { TensorReader } from '../../model/types.js';
import { isRemoteLocation, openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { hdf5Open } from './reader.js';
import type { Hdf5OpenOptions, Hdf5WriteOptions } from './types.js';
import { hdf5CreateWriter } from './write.js';

/** The HDF5 reader (and writer) behind the lazy registry entry. */
export const hdf5Implementation: FormatImplementation = {
  createWriter: (target, options) => hdf5CreateWriter(target, {
    tensors: options.tensors,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
    ...(options.staging ? { staging: options.staging } : {}),
    ...(options.formatOptions as Hdf5WriteOptions | undefined),
  }),
  open: async (input, options) => {
    const openOptions: Hdf5OpenOptions = { ...(options?.formatOptions as Hdf5OpenOptions | undefined), ...(options?.signal ? { signal: options.signal } : {}) };
    if (typeof input !== 'string' || !isRemoteLocation(input)) return hdf5Open(input as string, openOptions);
    // An http(s):// or s3:// string: opened with the call's settings and read as a source,
    // which the reader's close() then closes.
    const { source } = await openSourceInput(input, sourceOptionsOf(options));
    let reader: TensorReader;
    try {
      reader = await hdf5Open(source, openOptions);
    } catch (error) {
      await source.close?.();
      throw error;
    }
    const closeReader = reader.close.bind(reader);
    reader.close = async () => {
      await closeReader();
      await source.close?.();
    };
    return reader;
  },
};
