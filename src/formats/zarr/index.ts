/**
 * Zarr v2 and v3 (`tensio/zarr`): read stores from folders, zip files and HTTP base URLs
 * (consolidated metadata, nested groups, sharding with range reads, the numcodecs
 * codecs), write v2 or v3 stores (optionally sharded) with a chosen compressor.
 */
export type { ZarrArrayMeta, ZarrCodecSpec, ZarrGroupMeta, ZarrHierarchy, ZarrSharding } from './types.js';
export type { ZarrOpenOptions, ZarrReader } from './reader.js';
export type { ZarrWriteOptions } from './write.js';
export type { ZarrCompressor } from './codecs.js';
export { zarrOpen, zarrStoreOf, ZARR_OPEN_OPTION_NAMES } from './reader.js';
export { zarrReadHierarchy } from './hierarchy.js';
export { zarrCreateWriter, zarrChooseChunks, ZARR_WRITE_OPTION_NAMES, ZARR_DEFAULT_CHUNK_BYTES } from './write.js';
export { zarrFormat, zarrSniff, zarrCannotWrite, ZARR_DTYPES } from './format.js';
export { zarrZipStore } from './zip-store.js';
export { ZARR_MAX_BAND_BYTES, ZARR_MAX_CHUNKS, ZARR_MAX_CHUNK_BYTES, ZARR_MAX_METADATA_BYTES } from './validate.js';
