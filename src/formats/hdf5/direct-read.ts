/**
 * Reading an HDF5 dataset straight from its file: unfiltered data as the model seam's
 * `span` (contiguous data, or chunks stored one after another) or a list of raw chunks,
 * so the bytes go from the file into the result with positioned reads (or a memory
 * mapping) and never through libhdf5's WebAssembly heap. When chunks span every axis but
 * the first, each chunk is one run of the C-order result; when they cut the trailing
 * axes, each row of chunks is assembled into a band (`chunk-bands.ts`). Chunks filtered
 * with deflate, shuffle and Fletcher-32, and grids with chunks never written, are bands
 * decoded by tensio (`filtered-chunks.ts`).
 */
import type { TensorLocation } from '../../model/create-reader.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { rawCodec } from '../../storage/chunk-codec.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import { hdf5ChunkBands } from './chunk-bands.js';
import { hdf5PipelineRefusal } from './chunk-filters.js';
import type { Hdf5DatasetPlan } from './describe.js';
import { hdf5LocateData, type Hdf5DataLocation, type Hdf5Declined } from './data-location.js';
import { hdf5FilteredBands } from './filtered-chunks.js';
import { hdf5SuperblockOffset } from './read.js';

/** Largest band assembled from a row of chunks that cut the trailing axes (larger rows go to libhdf5's bounded hyperslabs). */
const MAX_BAND_BYTES = 32 * 2 ** 20;

/** Most chunk positions of a grid decoded by tensio (each band and position costs a little memory up front). */
const MAX_DECODED_GRID_CHUNKS = 2 ** 20;

/** Bytes searched for the superblock signature (user blocks of up to 32 KiB). */
const SUPERBLOCK_SEARCH_BYTES = 64 * 1024;

/**
 * Where `plan`'s bytes are in `source` as a model location, or why libhdf5 must read
 * them (big-endian, filters other than deflate/shuffle/Fletcher-32, chunks never written
 * without a fill value, bands over 32 MiB, an index type `data-location.ts` does not parse).
 *
 * @example
 * ```ts
 * const location = await hdf5DirectLocation(source, plan, objectAddress); // { kind: 'span', … } for a contiguous dataset
 * ```
 */
export async function hdf5DirectLocation(source: ByteSource, plan: Hdf5DatasetPlan, objectAddress: number): Promise<TensorLocation | Hdf5Declined> {
  if (!hdf5DirectCandidate(plan)) return { declined: 'big-endian or a filter libhdf5 decodes' };
  const head = await source.read(0, Math.min(source.size, SUPERBLOCK_SEARCH_BYTES));
  const superblock = hdf5SuperblockOffset(head);
  if (superblock === undefined) return { declined: `no superblock in the first ${SUPERBLOCK_SEARCH_BYTES} bytes` };
  const where = await hdf5LocateData((offset, length) => source.read(offset, length), source.size, superblock, {
    objectAddress, space: plan.space, elementBytes: plan.elementBytes, chunks: plan.chunks, filters: plan.directFilters ?? [],
  });
  return 'declined' in where ? where : locationOf(source, plan, where);
}

function locationOf(source: ByteSource, plan: Hdf5DatasetPlan, where: Hdf5DataLocation): TensorLocation | Hdf5Declined {
  if (where.kind === 'contiguous') return { kind: 'span', source, offset: where.offset };
  const { space, elementBytes } = plan;
  const { chunkShape, chunkBytes, chunks, pipeline, fill } = where;
  if (space.length === 0) return { declined: 'a chunked scalar' };
  if (pipeline.length > 0 || fill) {
    const refusal = hdf5PipelineRefusal(pipeline);
    if (refusal) return { declined: refusal };
    const positions = space.reduce((count, dim, k) => count * Math.ceil(dim / chunkShape[k]!), 1);
    if (positions > MAX_DECODED_GRID_CHUNKS) return { declined: `a grid of ${positions} chunks (more than ${MAX_DECODED_GRID_CHUNKS}: libhdf5's bands hold less)` };
    const bands = hdf5FilteredBands(source, { path: plan.path, space, elementBytes, chunkShape, chunkBytes, chunks, pipeline, ...(fill ? { fill } : {}) }, MAX_BAND_BYTES);
    return bands ? { kind: 'chunks', chunks: bands } : { declined: `a row of chunks [${chunkShape.join(', ')}] of [${space.join(', ')}] takes more than ${MAX_BAND_BYTES} bytes` };
  }
  if (chunkShape.some((dim, k) => k > 0 && dim !== space[k])) {
    const bands = hdf5ChunkBands(source, { path: plan.path, space, elementBytes, chunkShape, chunkBytes, chunks }, MAX_BAND_BYTES);
    return bands ? { kind: 'chunks', chunks: bands } : { declined: `a row of chunks [${chunkShape.join(', ')}] of [${space.join(', ')}] takes more than ${MAX_BAND_BYTES} bytes` };
  }
  const rowBytes = space.slice(1).reduce((a, b) => a * b, elementBytes);
  const rows = space[0]!;
  // Runs of chunks stored one after the other become one read each.
  const runs: { offset: number; length: number }[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const length = Math.min(chunkShape[0]!, rows - i * chunkShape[0]!) * rowBytes;
    const last = runs[runs.length - 1];
    if (last && last.offset + last.length === chunks[i]!.offset && last.length % chunkBytes === 0) last.length += length;
    else runs.push({ offset: chunks[i]!.offset, length });
  }
  if (runs.length === 1) return { kind: 'span', source, offset: runs[0]!.offset };
  const pieces: ByteChunk[] = runs.map((run) => ({
    source, offset: run.offset, storedLength: run.length, codec: rawCodec, decodedLength: run.length, byteLength: run.length,
    format: 'hdf5', label: `dataset ${plan.path} chunk bytes at ${run.offset}`,
  }));
  return { kind: 'chunks', chunks: pieces };
}

/**
 * Whether `plan` may be read straight from the file: unfiltered little-endian data, or
 * chunks filtered only with deflate, shuffle and Fletcher-32.
 *
 * @example
 * ```ts
 * if (hdf5DirectCandidate(plan)) location = await hdf5DirectLocation(source, plan, address);
 * ```
 */
export function hdf5DirectCandidate(plan: Hdf5DatasetPlan): boolean {
  return plan.rawBytes || plan.directFilters !== undefined;
}
