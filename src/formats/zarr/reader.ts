/**
 * Opening a Zarr store (a local folder, an `http(s)://` base URL, any {@link Store}, or a
 * `.zarr.zip` file or source) as a {@link TensorReader}: one tensor per numeric array,
 * named by its path in the hierarchy (`group/sub/array`), read through band chunks
 * (`chunks.ts`) so slices and streams fetch only the chunks they need.
 */
import { itemSize } from '../../core/dtype.js';
import { TensioError } from '../../core/errors.js';
import { createTensorReader } from '../../model/create-reader.js';
import { UNSUPPORTED_TENSORS_KEY, type OpenOptions, type TensorInfo, type TensorReader, type UnsupportedTensor } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { isRemoteLocation, locationKind, openSourceInput, storeAtInput, sourceOptionsOf } from '../../storage/source-input.js';
import type { Store } from '../../storage/store.js';
import { zarrBandChunks, ZARR_READ_AHEAD_BANDS, type ZarrChunkedLocation, type ZarrFetchStats } from './chunks.js';
import { zarrReadHierarchy } from './hierarchy.js';
import type { ZarrArrayMeta, ZarrHierarchy } from './types.js';
import { zarrCheckGrid } from './validate.js';
import { zarrZipStore } from './zip-store.js';

/** Options of the Zarr reader (`formatOptions` of `open`). */
export interface ZarrOpenOptions {
  /** Only arrays under this group path (`'/'` or `''` = the root). */
  group?: string;
  /** Arrays in sub-groups too (default true); false = direct children of `group` only, as NumPack's `from_zarr`. */
  recursive?: boolean;
  /** Largest number of chunks one array may declare (default `ZARR_MAX_CHUNKS`). */
  maxChunks?: number;
  /** Largest decoded chunk (default `ZARR_MAX_CHUNK_BYTES`). */
  maxChunkBytes?: number;
  /** Largest metadata document (default `ZARR_MAX_METADATA_BYTES`). */
  maxMetadataBytes?: number;
  /** Largest band a stream or a full read decodes at once (default `ZARR_MAX_BAND_BYTES`); wider chunk rows are read in narrower bands. */
  maxBandBytes?: number;
}

/** The `formatOptions` keys {@link zarrOpen} understands. */
export const ZARR_OPEN_OPTION_NAMES = ['group', 'recursive', 'maxChunks', 'maxChunkBytes', 'maxMetadataBytes', 'maxBandBytes'] as const;

/** A reader with the request counts of its chunk fetches. */
export interface ZarrReader extends TensorReader {
  readonly fetchStats: ZarrFetchStats;
  readonly hierarchy: ZarrHierarchy;
}

/** Normalises a group option to a path without leading/trailing `/`. */
function groupPath(group: string | undefined): string {
  return (group ?? '').replace(/^\/+|\/+$/g, '');
}

/** True when `path` is inside `group` (directly, unless recursive). */
function inGroup(path: string, group: string, recursive: boolean): boolean {
  if (group !== '' && !path.startsWith(`${group}/`) && path !== group) return false;
  const rest = group === '' ? path : path.slice(group.length + 1);
  return recursive || !rest.includes('/');
}

/**
 * The store behind an input: a zip file or source is opened as a zip store; a local
 * folder or an http(s) URL as a folder/HTTP store; a {@link Store} passes through.
 */
export async function zarrStoreOf(input: string | ByteSource | Store, options: OpenOptions = {}): Promise<{ store: Store; owned: boolean }> {
  if (typeof input !== 'string') {
    if ('list' in input && 'locate' in input) return { store: input, owned: false };
    return { store: await zarrZipStore(input as ByteSource, options.signal ? { signal: options.signal } : {}), owned: false };
  }
  const sourceOptions = sourceOptionsOf(options);
  if (/\.zip$/i.test(input.replace(/[?#].*$/, '')) && (isRemoteLocation(input) || (await locationKind(input)) === 'file')) {
    const { source } = await openSourceInput(input, sourceOptions);
    try {
      return { store: await zarrZipStore(source, options.signal ? { signal: options.signal } : {}), owned: true };
    } catch (error) {
      await source.close?.();
      throw error;
    }
  }
  if (!isRemoteLocation(input) && (await locationKind(input)) === 'missing') {
    throw new TensioError('NOT_FOUND', `zarr: ${input} does not exist`, { format: 'zarr', path: input });
  }
  return { store: storeAtInput(input, sourceOptions), owned: true };
}

/**
 * Opens a Zarr v2 or v3 store as a {@link TensorReader}.
 *
 * @example
 * ```ts
 * await using reader = await zarrOpen('data.zarr');
 * const rows = await reader.read('group/array', { slice: { start: 0, end: 10 } });
 * ```
 */
export async function zarrOpen(input: string | ByteSource | Store, options: OpenOptions = {}): Promise<ZarrReader> {
  const formatOptions = (options.formatOptions ?? {}) as ZarrOpenOptions;
  const { store, owned } = await zarrStoreOf(input, options);
  try {
    const hierarchy = await zarrReadHierarchy(store, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(formatOptions.maxMetadataBytes !== undefined ? { maxMetadataBytes: formatOptions.maxMetadataBytes } : {}),
    });
    const group = groupPath(formatOptions.group);
    const recursive = formatOptions.recursive ?? true;
    if (group !== '' && !hierarchy.groups.some((g) => g.path === group)) {
      throw new TensioError('NOT_FOUND', `zarr: ${store.name} has no group ${JSON.stringify(group)}; groups: ${hierarchy.groups.map((g) => JSON.stringify(g.path || '/')).join(', ')}`, { format: 'zarr' });
    }
    const stats: ZarrFetchStats = { chunkReads: 0, bytesRead: 0 };
    const remote = typeof input === 'string' && isRemoteLocation(input);
    const tensors: TensorInfo[] = [];
    const locations = new Map<string, ZarrChunkedLocation>();
    const rootName = store.name.replace(/[/\\]+$/, '').split(/[/\\]/).pop()?.replace(/\.zarr(\.zip)?$|\.zip$/i, '') || 'data';
    // Arrays are named by their path below the group; a root array by the store's name.
    const nameOf = (path: string) => (path === '' ? rootName : group === '' ? path : path.slice(group.length + 1));
    for (const meta of hierarchy.arrays) {
      if (!inGroup(meta.path, group, recursive)) continue;
      zarrCheckGrid(meta.path, meta.shape, meta.sharding?.innerChunkShape ?? meta.chunkShape, itemSize(meta.dtype)!, formatOptions);
      const name = nameOf(meta.path);
      // Local stores read ahead (sequential reads overlap I/O and decoding); remote ones fetch only what a read covers.
      locations.set(name, zarrBandChunks(store, meta, stats, { readAhead: remote ? 0 : ZARR_READ_AHEAD_BANDS, ...(formatOptions.maxBandBytes !== undefined ? { maxBandBytes: formatOptions.maxBandBytes } : {}) }));
      tensors.push({ name, dtype: meta.dtype, shape: meta.shape, byteLength: meta.shape.reduce((a, b) => a * b, itemSize(meta.dtype)!), formatDtype: meta.formatDtype, extras: extrasOf(meta) });
    }
    const unsupported: UnsupportedTensor[] = hierarchy.unreadable
      .filter((node) => inGroup(node.path, group, recursive))
      .map((node) => ({ name: nameOf(node.path), ...(node.formatDtype ? { formatDtype: node.formatDtype } : {}), code: node.code ?? 'UNSUPPORTED_DTYPE', reason: node.reason }));
    const reader = createTensorReader({
      format: 'zarr', path: store.name, size: tensors.reduce((sum, info) => sum + info.byteLength, 0),
      metadata: {
        zarr_format: hierarchy.zarrFormat,
        ...(Object.keys(hierarchy.groups.find((g) => g.path === group)?.attributes ?? {}).length > 0 ? { attributes: hierarchy.groups.find((g) => g.path === group)!.attributes } : {}),
        groups: hierarchy.groups.map((g) => g.path || '/'),
        consolidated: hierarchy.consolidated,
        ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}),
      },
      tensors,
      locate: (info) => ({ kind: 'chunks', ...locations.get(info.name)! }),
      close: async () => {
        if (owned) await store.close?.();
      },
    });
    return Object.assign(reader, { fetchStats: stats, hierarchy });
  } catch (error) {
    if (owned) await store.close?.();
    throw error;
  }
}

function extrasOf(meta: ZarrArrayMeta): Record<string, unknown> {
  return {
    zarrFormat: meta.zarrFormat,
    path: meta.path || '/',
    chunks: meta.sharding ? meta.sharding.innerChunkShape : meta.chunkShape,
    ...(meta.sharding ? { shards: meta.chunkShape } : {}),
    codecs: (meta.sharding ? meta.sharding.codecs : meta.codecs).map((codec) => codec.name),
    ...(meta.sharding ? { indexCodecs: meta.sharding.indexCodecs.map((codec) => codec.name) } : {}),
    order: meta.order,
    bigEndian: meta.bigEndian,
    ...(Object.keys(meta.attributes).length > 0 ? { attributes: meta.attributes } : {}),
  };
}
