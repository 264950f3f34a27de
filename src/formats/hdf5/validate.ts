/**
 * Pure checks on HDF5 facts: which filter pipelines tensio can read. libhdf5 returns
 * uninitialised memory (not an error) through h5wasm for a dataset whose filter is not
 * built in, so a dataset is read only when every filter of its pipeline is known here.
 */
import type { Hdf5Filter } from './types.js';

/**
 * Filters the bundled libhdf5 (h5wasm 0.10, HDF5 2.0) decodes, by HDF5 filter id:
 * deflate, shuffle, Fletcher-32 (checked on every read), szip (libaec), n-bit and
 * scale-offset.
 */
export const HDF5_READABLE_FILTERS: Readonly<Record<number, string>> = Object.freeze({
  1: 'deflate', 2: 'shuffle', 3: 'fletcher32', 4: 'szip', 5: 'nbit', 6: 'scaleoffset',
});

/** Filters tensio undoes itself on the direct path (`chunk-filters.ts`): deflate, shuffle, Fletcher-32. */
export const HDF5_DIRECT_FILTERS: ReadonlySet<number> = new Set([1, 2, 3]);

/** Names of registered third-party filters (https://github.com/HDFGroup/hdf5_plugins), for messages. */
const KNOWN_PLUGIN_NAMES: Readonly<Record<number, string>> = Object.freeze({
  305: 'lzo', 307: 'bzip2', 32000: 'lzf', 32001: 'blosc', 32004: 'lz4', 32008: 'bitshuffle', 32013: 'zfp', 32015: 'zstd', 32026: 'blosc2',
});

/**
 * The name of the first filter of `filters` tensio cannot decode, or `undefined` when
 * all can: the built-in ones ({@link HDF5_READABLE_FILTERS}) and the plugin filters in
 * `plugins` (those the loaded library installed, see `plugins.ts`).
 *
 * @example
 * ```ts
 * hdf5UnreadableFilter([{ id: 32004, name: '', cd_values: [] }]); // 'lz4 (filter 32004)'
 * hdf5UnreadableFilter([{ id: 32004, name: '', cd_values: [] }], new Set([32004])); // undefined
 * ```
 */
export function hdf5UnreadableFilter(filters: readonly Hdf5Filter[], plugins: ReadonlySet<number> = new Set()): string | undefined {
  for (const filter of filters) {
    if (HDF5_READABLE_FILTERS[filter.id] !== undefined || plugins.has(filter.id)) continue;
    const name = KNOWN_PLUGIN_NAMES[filter.id] ?? (filter.name && filter.name.trim() ? filter.name.trim() : 'unregistered filter');
    return `${name} (filter ${filter.id})`;
  }
  return undefined;
}

/**
 * A short description of a pipeline for `inspect`: `['shuffle', 'deflate(4)']`.
 *
 * @example
 * ```ts
 * hdf5FilterNames([{ id: 1, name: 'deflate', cd_values: [4] }]); // ['deflate(4)']
 * ```
 */
export function hdf5FilterNames(filters: readonly Hdf5Filter[]): string[] {
  return filters.map((filter) => {
    const name = HDF5_READABLE_FILTERS[filter.id] ?? KNOWN_PLUGIN_NAMES[filter.id] ?? `filter ${filter.id}`;
    return filter.id === 1 && filter.cd_values.length > 0 ? `${name}(${filter.cd_values[0]})` : name;
  });
}
