/**
 * Types of Zarr v2 and v3 stores: a hierarchy of groups and arrays kept as keys of a
 * {@link Store} (`.zgroup`/`.zarray`/`.zattrs`/`.zmetadata` in v2, `zarr.json` in v3),
 * each array cut into a regular grid of chunks stored under their own keys, each chunk
 * encoded by a pipeline of codecs.
 */
import type { DType } from '../../core/dtype.js';

/** One codec of a pipeline, as the metadata names it (`{ id: 'zlib', level: 1 }` in v2, `{ name, configuration }` in v3, normalised to `{ name, config }`). */
export interface ZarrCodecSpec {
  /** `'gzip'`, `'zlib'`, `'zstd'`, `'lz4'`, `'blosc'`, `'shuffle'`, `'delta'`, `'fixedscaleoffset'`, `'bitround'`, `'crc32c'`, `'bytes'`, `'transpose'`, `'sharding_indexed'`, … (v3's `numcodecs.` prefix removed). */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** Sharding (`sharding_indexed`): each stored key holds a shard of inner chunks plus an index of their byte ranges. */
export interface ZarrSharding {
  /** The inner chunk shape (the outer chunk shape is the array's `chunkShape`... see {@link ZarrArrayMeta.shardShape}). */
  readonly innerChunkShape: readonly number[];
  /** Codecs of each inner chunk (v3 order: array→array, array→bytes, bytes→bytes). */
  readonly codecs: readonly ZarrCodecSpec[];
  /** Codecs of the index (`bytes` little endian, optionally `crc32c`). */
  readonly indexCodecs: readonly ZarrCodecSpec[];
  readonly indexLocation: 'start' | 'end';
}

/** An array's metadata, normalised across v2 and v3. */
export interface ZarrArrayMeta {
  readonly zarrFormat: 2 | 3;
  /** Path of the array inside the store (`''` for a root array), `/`-separated. */
  readonly path: string;
  readonly shape: readonly number[];
  /** Shape of one stored key's chunk (a shard when sharded). */
  readonly chunkShape: readonly number[];
  readonly dtype: DType;
  /** The format's own dtype: `'<i2'` (v2) or `'int16'` (v3). */
  readonly formatDtype: string;
  /** Byte order the codecs produce before tensio's little-endian layout. */
  readonly bigEndian: boolean;
  /** v2 only: element order inside a chunk. */
  readonly order: 'C' | 'F';
  /** One element of the fill value in tensio's layout (little-endian). */
  readonly fillValue: Uint8Array;
  /** v2: `[...filters, compressor]` in encode order; v3: `codecs` in encode order. */
  readonly codecs: readonly ZarrCodecSpec[];
  /** Stored key of a chunk (or shard) at grid coordinates, relative to the array's path. */
  readonly chunkKeySeparator: '/' | '.';
  /** v3 `default` key encoding (`c/0/1`) vs v2 (`0.1`). */
  readonly chunkKeyPrefix: boolean;
  /** Present when the array's array→bytes codec is `sharding_indexed`. */
  readonly sharding?: ZarrSharding;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A group: its path and attributes. */
export interface ZarrGroupMeta {
  readonly zarrFormat: 2 | 3;
  readonly path: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A node the walk found that tensio cannot read as a tensor (strings, objects; a rectilinear grid, a storage transformer). */
export interface ZarrUnreadable {
  readonly path: string;
  readonly formatDtype?: string;
  readonly reason: string;
  /** The code a read of it fails with: `UNSUPPORTED_DTYPE` (the default: not numbers) or `UNSUPPORTED_FEATURE` (numbers stored in a way tensio does not read). */
  readonly code?: 'UNSUPPORTED_DTYPE' | 'UNSUPPORTED_FEATURE';
}

/** The hierarchy of a store. */
export interface ZarrHierarchy {
  readonly zarrFormat: 2 | 3;
  readonly groups: readonly ZarrGroupMeta[];
  readonly arrays: readonly ZarrArrayMeta[];
  readonly unreadable: readonly ZarrUnreadable[];
  /** True when the hierarchy came from consolidated metadata. */
  readonly consolidated: boolean;
}
