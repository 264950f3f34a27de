/**
 * Unfiltered HDF5 chunks that cut the trailing axes (h5py's `chunks=True` picks such
 * shapes): a chunk is then not one run of the C-order result, so the dataset is read as
 * bands, one row of chunks each (the chunks sharing a grid index along axis 0), every
 * chunk read with one positioned read and its block copied into place in the band. No
 * libhdf5, one copy more than a span; a band is bounded (larger ones are declined).
 */
import { throwIfAborted } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { bytesSource, readIntoFrom, type ByteSource } from '../../storage/byte-source.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import type { Hdf5StoredChunk } from './data-location.js';
import { copyBox } from '../shared/box-copy.js';

/** The `source` of a band chunk: a band's codec reads its chunks itself, so the chunk list names no stored bytes. */
export const HDF5_BANDS_SOURCE: ByteSource = bytesSource(new Uint8Array(0), 'hdf5 chunks');

/** What the bands are cut from: the dataspace, element size and the stored chunk grid (C order). */
export interface Hdf5ChunkGrid extends Hdf5GridShape {
  readonly path: string;
  readonly chunkBytes: number;
  readonly chunks: readonly Hdf5StoredChunk[];
}

/**
 * One band per row of chunks, or `undefined` when a band would take more than
 * `maxBandBytes` (libhdf5's hyperslab bands are bounded instead).
 *
 * @example
 * ```ts
 * const bands = hdf5ChunkBands(source, grid, 32 * 2 ** 20); // ByteChunks for a `chunks` location
 * ```
 */
export function hdf5ChunkBands(source: ByteSource, grid: Hdf5ChunkGrid, maxBandBytes: number): ByteChunk[] | undefined {
  const { space, elementBytes, chunkShape, chunks } = grid;
  const rowBytes = space.slice(1).reduce((a, b) => a * b, elementBytes);
  const perBand = chunks.length / Math.ceil(space[0]! / chunkShape[0]!);
  if (chunkShape[0]! * rowBytes > maxBandBytes) return undefined;
  const bands: ByteChunk[] = [];
  for (let start = 0, band = 0; start < space[0]!; start += chunkShape[0]!, band++) {
    const rows = Math.min(chunkShape[0]!, space[0]! - start);
    const members = chunks.slice(band * perBand, (band + 1) * perBand);
    const bytes = rows * rowBytes;
    const codec: ChunkCodec = {
      name: 'hdf5 chunk row',
      // eslint-disable-next-line require-yield
      async *decode(_stored, options) {
        throwIfAborted(options.signal);
        yield await assembleBand(source, grid, members, rows, bytes, options.signal);
      },
    };
    bands.push({ source: HDF5_BANDS_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: bytes, byteLength: bytes, format: 'hdf5', label: `dataset ${grid.path} rows ${start}..${start + rows}`, corruptCode: 'INVALID_HEADER' });
  }
  return bands;
}

/** Reads the chunks of one band and copies each chunk's block (clipped to the dataspace) into it. */
async function assembleBand(source: ByteSource, grid: Hdf5ChunkGrid, members: readonly Hdf5StoredChunk[], rows: number, bytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const band = allocateUninitialized(bytes);
  const chunk = allocateUninitialized(grid.chunkBytes);
  for (const member of members) {
    throwIfAborted(signal);
    await readIntoFrom(source, chunk, member.offset, signal ? { signal } : undefined);
    hdf5PlaceChunk(band, rows, grid, member.grid, chunk);
  }
  return band;
}

/** The shape of a chunk grid: what placing a chunk in a band needs. */
export interface Hdf5GridShape {
  readonly space: readonly number[];
  readonly elementBytes: number;
  readonly chunkShape: readonly number[];
}

/**
 * Copies the block of a decoded chunk (C order, the full chunk shape: edge chunks are
 * stored whole) that lies inside the dataspace into `band`, the C-order bytes of the
 * `rows` rows of its row of chunks. `at` is the chunk's grid index.
 *
 * @example
 * ```ts
 * hdf5PlaceChunk(band, 64, { space: [100, 100], elementBytes: 4, chunkShape: [64, 64] }, [0, 1], chunk); // columns 64..99
 * ```
 */
export function hdf5PlaceChunk(band: Uint8Array, rows: number, grid: Hdf5GridShape, at: readonly number[], chunk: Uint8Array): void {
  const { space, elementBytes, chunkShape } = grid;
  const origin = at.map((g, k) => (k === 0 ? 0 : g * chunkShape[k]!));
  const extent = origin.map((o, k) => Math.min(chunkShape[k]!, (k === 0 ? rows : space[k]!) - o));
  const bandShape = space.map((side, k) => (k === 0 ? rows : side));
  copyBox({ bytes: band, shape: bandShape, start: origin }, { bytes: chunk, shape: chunkShape, start: chunkShape.map(() => 0) }, extent, elementBytes);
}
