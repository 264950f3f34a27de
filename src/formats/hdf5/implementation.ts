/**
 * What the lazy HDF5 registry entry loads on first use (see `format.ts`).
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { hdf5Open } from './reader.js';
import type { Hdf5OpenOptions } from './types.js';

/** The HDF5 reader (and writer) behind the lazy registry entry. */
export const hdf5Implementation: FormatImplementation = {
  open: (input, options) => hdf5Open(input, { ...(options?.formatOptions as Hdf5OpenOptions | undefined), ...(options?.signal ? { signal: options.signal } : {}) }),
};
