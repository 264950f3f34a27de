/**
 * Types of the HDF5 format: what tensio reads from libhdf5 (through h5wasm) and the
 * options of its reader and writer.
 */

/** An HDF5 datatype as libhdf5 describes it (h5wasm's metadata object, the fields tensio uses). */
export interface Hdf5TypeMetadata {
  /** H5T class: 0 integer, 1 float, 2 time, 3 string, 4 bitfield, 5 opaque, 6 compound, 7 reference, 8 enum, 9 vlen, 10 array. */
  readonly type: number;
  /** Bytes per element. */
  readonly size: number;
  readonly signed?: boolean;
  readonly littleEndian?: boolean;
  readonly vlen?: boolean;
  /** Enum: the base integer type and the members. */
  readonly enum_type?: { readonly type: number; readonly nmembers: number; readonly members: Readonly<Record<string, number>> };
  /** Array class: the element type and the array's own dimensions. */
  readonly array_type?: Hdf5TypeMetadata & { readonly shape?: readonly number[] };
  /** Compound class: the members. */
  readonly compound_type?: { readonly nmembers: number; readonly members: readonly (Hdf5TypeMetadata & { readonly name: string; readonly offset: number })[] };
  readonly vlen_type?: Hdf5TypeMetadata;
}

/** A dataset's (or attribute's) metadata: its type plus its dataspace. */
export interface Hdf5DatasetMetadata extends Hdf5TypeMetadata {
  /** `null` for a null dataspace (no elements, not even a scalar). */
  readonly shape: readonly number[] | null;
  readonly maxshape?: readonly number[] | null;
  readonly chunks?: readonly number[] | null;
  readonly total_size?: number;
}

/** One filter of a dataset's pipeline, as libhdf5 lists it. */
export interface Hdf5Filter {
  readonly id: number;
  readonly name: string;
  readonly cd_values: readonly number[];
}

/** Options for opening an HDF5 file. */
export interface Hdf5OpenOptions {
  /** Most groups and datasets walked (default HDF5_MAX_OBJECTS). */
  maxObjects?: number;
  /** Largest attribute value kept in metadata (default HDF5_MAX_ATTRIBUTE_BYTES); larger ones keep only dtype and shape. */
  maxAttributeBytes?: number;
  /**
   * Read the bytes of little-endian datasets, unfiltered or with deflate, shuffle and
   * Fletcher-32, straight from a local file with tensio's own chunk index parser and
   * zlib (default true); `false` reads every dataset through libhdf5 (also the
   * `TENSIO_HDF5_LIBHDF5_ONLY=1` environment variable), for comparison.
   */
  directRead?: boolean;
  signal?: AbortSignal;
}

/** Options for writing an HDF5 file. */
export interface Hdf5WriteOptions {
  /** `'gzip'` (deflate, as h5py's `compression='gzip'`) or `'none'` (default). */
  compression?: 'gzip' | 'none';
  /** Shorthand for the CLI's `--compress`: gzip level 4 with shuffle, unless `compression`/`shuffle` say otherwise. */
  compress?: boolean;
  /** gzip level 0-9 (default 4, h5py's default). */
  compressionLevel?: number;
  /** Byte-shuffle each chunk before compressing (h5py's `shuffle=True`). */
  shuffle?: boolean;
  /** Fletcher-32 checksum per chunk (h5py's `fletcher32=True`). */
  fletcher32?: boolean;
  /**
   * Rows of axis 0 per chunk: one number for every dataset, or one per dataset name
   * (others take the default). Default: about 1 MiB per chunk. Datasets are chunked
   * only when a filter is asked for, `chunked` is set or rows are given; chunks always
   * span every other axis whole.
   */
  chunkRows?: number | Readonly<Record<string, number>>;
  /** Store datasets chunked even without filters. Default false (contiguous). */
  chunked?: boolean;
  /** Attributes per object path (`'/'`, `'/group'`, `'/group/dataset'`): name → number, string, or array of numbers. */
  attributes?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Replace an existing file (default true). */
  overwrite?: boolean;
  signal?: AbortSignal;
}
