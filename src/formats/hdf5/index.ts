/**
 * HDF5: read through libhdf5 (h5wasm) with every dataset of the tree as a tensor,
 * written by tensio's own streaming writer. Import from `tensio/hdf5`.
 */
export type { Hdf5OpenOptions, Hdf5WriteOptions, Hdf5Filter, Hdf5DatasetMetadata, Hdf5TypeMetadata } from './types.js';
export type { Hdf5Attribute, Hdf5Link } from './reader.js';
export { hdf5Open } from './reader.js';
export { hdf5CreateWriter } from './write.js';
export { hdf5Sniff, hdf5SuperblockOffset, HDF5_SIGNATURE } from './read.js';
export { hdf5Dtype, hdf5TypeName } from './dtypes.js';
export { hdf5UnreadableFilter, HDF5_READABLE_FILTERS } from './validate.js';
export { hdf5Format, HDF5_WRITABLE_DTYPES } from './format.js';
