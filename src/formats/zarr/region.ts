/**
 * Reading an N-d box of a Zarr array from the chunks it touches: the one place where
 * decoded chunks are copied into tensio's C-order layout. A row band (streams, full
 * reads) is the box of some rows × everything else; an N-d slice is any box. Only the
 * chunks that intersect the box are fetched (for a sharded array: only their byte
 * ranges), missing chunks give the fill value, ragged edge chunks are cropped.
 */
import { itemSize } from '../../core/dtype.js';
import { throwIfAborted } from '../../core/errors.js';
import type { ZarrArrayMeta } from './types.js';
import { copyBox } from '../shared/box-copy.js';

/**
 * The decoded bytes of a unit chunk (inner chunk when sharded; its full shape in
 * tensio's layout), or undefined when it is missing: fetch and decode in one, so that a
 * read-ahead can decode ahead too.
 */
export type ZarrUnitLoader = (coords: readonly number[], signal?: AbortSignal) => Promise<Uint8Array | undefined>;

/**
 * Reads a stored chunk that needs no decoding (no codecs, tensio's byte order, C order)
 * straight into `target` (exactly its bytes); false when the chunk is missing.
 */
export type ZarrUnitReaderInto = (coords: readonly number[], target: Uint8Array, signal?: AbortSignal) => Promise<boolean>;

/** A box of an array: `starts[axis] ≤ index < ends[axis]`, inside the shape. */
export interface ZarrRegion {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

/** Chunks of one box fetched and decoded at once. */
const REGION_CONCURRENCY = 8;

/** The unit chunk shape: the inner chunk when sharded, else the stored chunk. */
export function zarrUnitChunkShape(meta: ZarrArrayMeta): readonly number[] {
  return meta.sharding?.innerChunkShape ?? meta.chunkShape;
}

/**
 * Reads the box `region` of an array into `out` (its C-order bytes, every byte
 * written), fetching and decoding only the unit chunks that intersect it, up to eight
 * at a time. With `readInto` (raw chunks of a local store), a chunk that lies whole in
 * the box as one run of its bytes is read straight into its place.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(10 * 20 * 4);
 * await zarrReadRegion(meta, loadUnit, { starts: [100, 40], ends: [110, 60] }, out);
 * ```
 */
export async function zarrReadRegion(meta: ZarrArrayMeta, loadUnit: ZarrUnitLoader, region: ZarrRegion, out: Uint8Array, signal?: AbortSignal, readInto?: ZarrUnitReaderInto): Promise<void> {
  const size = itemSize(meta.dtype)!;
  const rank = meta.shape.length;
  if (rank === 0) {
    throwIfAborted(signal);
    const decoded = await loadUnit([], signal);
    out.set(decoded ? decoded.subarray(0, size) : meta.fillValue);
    return;
  }
  const { starts, ends } = region;
  const extent = starts.map((start, axis) => ends[axis]! - start);
  if (extent.some((length) => length <= 0)) return;
  const unit = zarrUnitChunkShape(meta);
  // Bytes of one index of the box's first axis.
  const rowBytes = extent.reduce((a, b, axis) => (axis === 0 ? a : a * b), size);
  // Chunk coordinates the box touches, per axis: first and count.
  const first = starts.map((start, axis) => Math.floor(start / unit[axis]!));
  const counts = ends.map((end, axis) => Math.ceil(end / unit[axis]!) - first[axis]!);
  const total = counts.reduce((a, b) => a * b, 1);

  const copy = (chunk: Uint8Array | undefined, coords: readonly number[]) => {
    // The part of this chunk inside the box: per axis [lo, hi) in array coordinates.
    const lo = coords.map((c, axis) => Math.max(starts[axis]!, c * unit[axis]!));
    const length = coords.map((c, axis) => Math.min(ends[axis]!, (c + 1) * unit[axis]!) - lo[axis]!);
    copyBox(
      { bytes: out, shape: extent, start: lo.map((l, axis) => l - starts[axis]!) },
      { bytes: chunk, shape: unit, start: lo.map((l, axis) => l - coords[axis]! * unit[axis]!) },
      length,
      size,
      meta.fillValue,
    );
  };

  // Where a chunk lying whole in the box, as one run of the box's bytes, starts in `out`
  // (it spans the box on every axis after the first), else undefined.
  const chunkBytes = unit.reduce((a, b) => a * b, size);
  const wholeRunAt = (coords: readonly number[]): number | undefined => {
    for (let axis = 0; axis < rank; axis += 1) {
      const lo = coords[axis]! * unit[axis]!;
      if (lo < starts[axis]! || lo + unit[axis]! > ends[axis]! || (axis > 0 && unit[axis] !== extent[axis])) return undefined;
    }
    return (coords[0]! * unit[0]! - starts[0]!) * rowBytes;
  };

  let cursor = 0;
  const worker = async () => {
    while (cursor < total) {
      throwIfAborted(signal);
      // Chunk number `cursor` of the box, C order over the touched chunk coordinates.
      let rest = cursor++;
      const coords = new Array<number>(rank);
      for (let axis = rank - 1; axis >= 0; axis -= 1) {
        coords[axis] = first[axis]! + (rest % counts[axis]!);
        rest = Math.floor(rest / counts[axis]!);
      }
      const at = readInto ? wholeRunAt(coords) : undefined;
      if (at !== undefined) {
        if (!(await readInto!(coords, out.subarray(at, at + chunkBytes), signal))) copy(undefined, coords);
        continue;
      }
      copy(await loadUnit(coords, signal), coords);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGION_CONCURRENCY, total) }, worker));
}
