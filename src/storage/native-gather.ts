/**
 * Parquet's dictionary gather through the native addon (`native/src/tensio_gather.c`,
 * loaded by `memory-map.ts`): dictionary indices decoded and their entries written into a
 * buffer the caller owns, on libuv's worker threads. Stacked Parquet reads use it
 * (`formats/parquet/gather-native.ts`); without the addon it is undefined.
 */
import { loadedAddon } from './memory-map.js';

/**
 * The addon's band gather: each piece `i` continues the dictionary-encoded values section
 * `sections[i]` from the place in `params` (11 numbers per piece: entries, words per value,
 * count, first word, stride, next header byte, indices left in the run, packed, run byte,
 * bit, RLE index) and writes `dictionaries[i]`'s entries into `out`; rejects with code
 * `ECORRUPT` and the reason for a damaged stream, throws `ERANGE` for a piece that would
 * write outside `out`. Undefined when the addon is not loaded or predates it. No buffer
 * may be changed until the promise settles.
 *
 * @example
 * ```ts
 * const gather = addonParquetGatherBand();
 * if (gather) await gather([section], [dictionary], Float64Array.of(entries, 1, count, 0, 1, 1, 0, 0, 0, 0, 0), out);
 * ```
 */
export function addonParquetGatherBand(): ((sections: Uint8Array[], dictionaries: Uint8Array[], params: Float64Array, out: Uint8Array) => Promise<void>) | undefined {
  return bandGather('parquetGatherBand');
}

/**
 * {@link addonParquetGatherBand} when the addon also takes PLAIN pieces (packed 2: the
 * piece's dictionary is its values, copied in order from the RLE index on); undefined when
 * the addon is not loaded or was built before them (it would read such a piece as a
 * bit-packed run of indices, so it must not be given one).
 *
 * @example
 * ```ts
 * const gather = addonParquetGatherBandPlain();
 * if (gather) await gather([values], [values], Float64Array.of(count, 1, count, 0, stride, 0, 0, 2, 0, 0, 0), out);
 * ```
 */
export function addonParquetGatherBandPlain(): ((sections: Uint8Array[], dictionaries: Uint8Array[], params: Float64Array, out: Uint8Array) => Promise<void>) | undefined {
  return bandGather('parquetGatherBandPlain');
}

/** The addon's band gather under `name`, bound to the addon. */
function bandGather(name: 'parquetGatherBand' | 'parquetGatherBandPlain'): ((sections: Uint8Array[], dictionaries: Uint8Array[], params: Float64Array, out: Uint8Array) => Promise<void>) | undefined {
  const addon = loadedAddon();
  const gather = addon?.[name];
  return gather ? (sections, dictionaries, params, out) => gather.call(addon, sections, dictionaries, params, out) : undefined;
}
