/**
 * The HDF5 entry of the format registry. It is lazy: detection, planning and
 * `cannotWrite` live here; opening and writing load `implementation.ts`, and with it
 * h5wasm (about 4 MB of WebAssembly), only when an HDF5 file is used.
 */
import { blockDTypeRefusal } from '../../core/block-dtypes.js';
import type { DType } from '../../core/dtype.js';
import { lazyFormat } from '../../model/lazy-format.js';
import type { TensorFormat } from '../../model/types.js';
import { hdf5Sniff } from './read.js';

/** Dtypes the HDF5 writer stores (as h5py writes them; float16 as h5py's 2-byte IEEE float, bool as h5py's enum). */
export const HDF5_WRITABLE_DTYPES: readonly DType[] = Object.freeze([
  'bool', 'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64', 'float16', 'float32', 'float64',
] as DType[]);

/**
 * HDF5 (`.h5`, `.hdf5`, `.he5`, netCDF-4 `.nc`): read through libhdf5 (h5wasm), local paths
 * directly, any other source (URL, S3, bytes) by range reads from a worker thread; written by tensio's own streaming writer. Open options: `maxObjects`,
 * `maxAttributeBytes`. Write options: `compress` (gzip 4 + shuffle), `compression` (`'gzip'`/`'none'`),
 * `compressionLevel`, `shuffle`, `fletcher32`, `chunkRows`, `chunked`, `attributes`.
 *
 * @example
 * ```ts
 * getFormat('hdf5') === hdf5Format; // true: it is in BUILT_IN_FORMATS
 * ```
 */
export const hdf5Format: TensorFormat = lazyFormat({
  name: 'hdf5',
  extensions: ['.h5', '.hdf5', '.he5', '.nc'],
  capabilities: {
    tensors: 'many',
    dtypes: HDF5_WRITABLE_DTYPES,
    layouts: ['dense'],
    needsShapesFirst: true,
    canAppend: false,
    checksums: 'optional',
    folder: false,
  },
  sniff: hdf5Sniff,
  cannotWrite: (spec) => blockDTypeRefusal(spec.dtype, 'HDF5') ?? (HDF5_WRITABLE_DTYPES.includes(spec.dtype) ? undefined : `HDF5 (as h5py reads it) has no ${spec.dtype} type; tensio writes ${HDF5_WRITABLE_DTYPES.join(', ')}`),
  // libhdf5 checks Fletcher-32 on every chunk it reads (a mismatch fails the read).
  checkedOnRead: (info) => Array.isArray(info.extras?.filters) && info.extras.filters.includes('fletcher32'),
  openOptionNames: ['maxObjects', 'maxAttributeBytes'],
  writeOptionNames: ['compress', 'compression', 'compressionLevel', 'shuffle', 'fletcher32', 'chunkRows', 'chunked', 'attributes'],
  provides: { open: true, write: true },
}, async () => (await import('./implementation.js')).hdf5Implementation);
