/**
 * Chunked HDF5 datasets decoded by tensio straight from the file: chunks filtered with
 * deflate, shuffle and Fletcher-32 (`chunk-filters.ts`), and grids where some chunks
 * were never written (they read as the fill value, as libhdf5 fills them). The dataset
 * becomes a `chunks` location of bands, one per row of chunks (the chunks sharing a grid
 * index along axis 0), so a row slice decodes only the rows of chunks it touches and a
 * stream holds one band.
 *
 * Speed: zlib inflates on libuv's thread pool, so chunks are decoded several at a time
 * (at most {@link HDF5_CHUNKS_IN_FLIGHT} in the process): the chunks of a band together,
 * the bands of a whole read together (`ChunkCodec.concurrency`), and a stream decodes the
 * next bands while the current one is consumed. A chunk that spans every axis but the
 * first is one run of the result and is decoded straight into it; other chunks are
 * decoded into a scratch chunk and their block (clipped at the dataspace's edges: edge
 * chunks are stored whole) copied into place.
 */
import { throwIfAborted } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { readIntoFrom, type ByteSource } from '../../storage/byte-source.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import { HDF5_BANDS_SOURCE, hdf5PlaceChunk, type Hdf5ChunkGrid } from './chunk-bands.js';
import { hdf5UndoFilters } from './chunk-filters.js';
import type { Hdf5PipelineFilter } from './dataset-messages.js';
import type { Hdf5StoredChunk } from './data-location.js';

/**
 * Chunks decoded at once in the process. Each holds its stored bytes, zlib's output and
 * maybe a scratch chunk; four keep two cores busy while the main thread unshuffles and
 * copies (libuv's pool has four threads by default).
 */
export const HDF5_CHUNKS_IN_FLIGHT = 4;

/** A chunk grid with its pipeline and, when chunks are missing, the fill value of one element. */
export interface Hdf5FilteredGrid extends Hdf5ChunkGrid {
  readonly pipeline: readonly Hdf5PipelineFilter[];
  readonly fill?: Uint8Array;
}

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `job` when fewer than {@link HDF5_CHUNKS_IN_FLIGHT} others run (first come, first served). */
async function inFlight<T>(job: () => Promise<T>): Promise<T> {
  if (running < HDF5_CHUNKS_IN_FLIGHT) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await job();
  } finally {
    // The slot goes straight to the next waiting job, if any.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** One row of chunks: its rows and, per position along the other axes, the stored chunk (or none). */
interface Band {
  readonly index: number;
  readonly rows: number;
  readonly bytes: number;
  readonly members: readonly (Hdf5StoredChunk | undefined)[];
}

/**
 * The bands of a filtered (or partly written) chunk grid as `ByteChunk`s, or `undefined`
 * when a band or a chunk would take more than `maxBandBytes` (libhdf5's bounded
 * hyperslabs read those).
 *
 * @example
 * ```ts
 * const bands = hdf5FilteredBands(source, { path, space, elementBytes, chunkShape, chunkBytes, chunks, pipeline }, 32 * 2 ** 20);
 * ```
 */
export function hdf5FilteredBands(source: ByteSource, grid: Hdf5FilteredGrid, maxBandBytes: number): ByteChunk[] | undefined {
  const { space, elementBytes, chunkShape, chunkBytes, chunks } = grid;
  const rowBytes = space.slice(1).reduce((a, b) => a * b, elementBytes);
  if (chunkShape[0]! * rowBytes > maxBandBytes || chunkBytes > maxBandBytes) return undefined;
  const gridShape = space.map((dim, k) => Math.ceil(dim / chunkShape[k]!));
  const perBand = gridShape.slice(1).reduce((a, b) => a * b, 1);
  const bands: Band[] = [];
  let next = 0;
  for (let index = 0, start = 0; start < space[0]!; index++, start += chunkShape[0]!) {
    const rows = Math.min(chunkShape[0]!, space[0]! - start);
    const members = new Array<Hdf5StoredChunk | undefined>(perBand).fill(undefined);
    // Stored chunks come in C order of the grid: this band's are the next ones with grid[0] = index.
    for (; next < chunks.length && chunks[next]!.grid[0] === index; next++) {
      const chunk = chunks[next]!;
      members[chunk.grid.slice(1).reduce((sum, value, k) => sum * gridShape[k + 1]! + value, 0)] = chunk;
    }
    bands.push({ index, rows, bytes: rows * rowBytes, members });
  }
  const decoder = new GridDecoder(source, grid, gridShape);
  return bands.map((band) => {
    const codec: ChunkCodec = {
      name: `hdf5 ${grid.pipeline.length > 0 ? grid.pipeline.map((filter) => FILTER_NAMES[filter.id] ?? filter.id).join('+') : 'chunks'}`,
      concurrency: HDF5_CHUNKS_IN_FLIGHT,
      async *decode(_stored, options) {
        yield await decoder.bandForStream(bands, band.index, options.signal);
      },
      decodeInto: (_stored, out, signal) => decoder.decodeBand(band, out, signal),
    };
    const end = band.index * chunkShape[0]! + band.rows;
    return { source: HDF5_BANDS_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: band.bytes, byteLength: band.bytes, format: 'hdf5', label: `dataset ${grid.path} rows ${end - band.rows}..${end}`, corruptCode: 'INVALID_HEADER' };
  });
}

const FILTER_NAMES: Readonly<Record<number, string>> = { 1: 'deflate', 2: 'shuffle', 3: 'fletcher32' };

/** Bands a stream decodes ahead hold at most this many bytes (at least one band). */
const READ_AHEAD_BYTES = 16 * 2 ** 20;

/** Decodes the bands of one grid: scratch chunks reused, the fill chunk built once, bands read ahead for streams. */
class GridDecoder {
  private readonly scratch: Uint8Array[] = [];
  private fillChunk: Uint8Array | undefined;
  private readonly fullWidth: boolean;
  /** The band a stream asked for last, and the next ones decoding meanwhile. */
  private lastStreamed = -1;
  private readonly ahead = new Map<number, Promise<Uint8Array>>();

  constructor(private readonly source: ByteSource, private readonly grid: Hdf5FilteredGrid, private readonly gridShape: readonly number[]) {
    // A chunk spanning every axis but the first is rows of the result, one run.
    this.fullWidth = grid.chunkShape.every((dim, k) => k === 0 || dim === grid.space[k]);
  }

  /**
   * A band for `decode` (streams and slices): when bands are asked for in order, the next
   * ones (up to {@link READ_AHEAD_BYTES}, at most three) are decoded while this one is
   * consumed, so a stream of one-chunk bands keeps several chunks inflating; a band asked
   * for out of order drops them.
   */
  async bandForStream(bands: readonly Band[], index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const sequential = index === this.lastStreamed + 1;
    this.lastStreamed = index;
    const current = this.ahead.get(index) ?? this.fresh(bands[index]!, signal);
    for (const key of [...this.ahead.keys()]) if (!sequential || key <= index) this.ahead.delete(key);
    if (sequential) {
      const depth = Math.max(1, Math.min(HDF5_CHUNKS_IN_FLIGHT - 1, Math.floor(READ_AHEAD_BYTES / Math.max(1, bands[index]!.bytes))));
      for (let next = index + 1; next <= index + depth && next < bands.length; next++) {
        if (this.ahead.has(next)) continue;
        const bytes = this.fresh(bands[next]!);
        bytes.catch(() => undefined); // a failed read-ahead is reported when (if) its band is asked for
        this.ahead.set(next, bytes);
      }
    }
    return current;
  }

  private async fresh(band: Band, signal?: AbortSignal): Promise<Uint8Array> {
    const out = allocateUninitialized(band.bytes);
    await this.decodeBand(band, out, signal);
    return out;
  }

  /** Decodes every chunk of `band` into `out` (its C-order bytes), several at once. */
  async decodeBand(band: Band, out: Uint8Array, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    let failed = false;
    await Promise.all(band.members.map((member, position) => {
      if (!member) {
        this.place(out, band, position, this.fill());
        return undefined;
      }
      return inFlight(async () => {
        if (failed) return;
        try {
          throwIfAborted(signal);
          await this.decodeChunk(member, band, position, out, signal);
        } catch (error) {
          failed = true;
          throw error;
        }
      });
    }));
  }

  private async decodeChunk(member: Hdf5StoredChunk, band: Band, position: number, out: Uint8Array, signal?: AbortSignal): Promise<void> {
    const { chunkBytes, pipeline } = this.grid;
    // A fresh buffer per chunk (zlib holds on to its input until it is done), not zeroed first.
    const stored = allocateUninitialized(member.storedBytes);
    await readIntoFrom(this.source, stored, member.offset, signal ? { signal } : undefined);
    const what = `dataset ${this.grid.path} chunk [${member.grid.join(', ')}]`;
    if (this.fullWidth && out.byteLength === chunkBytes) {
      // The chunk is exactly this band: decoded straight into the result.
      const bytes = await hdf5UndoFilters(stored, member.filterMask, { pipeline, chunkBytes }, what, out);
      if (bytes !== out) out.set(bytes);
      return;
    }
    const scratch = this.scratch.pop() ?? allocateUninitialized(chunkBytes);
    try {
      const bytes = await hdf5UndoFilters(stored, member.filterMask, { pipeline, chunkBytes }, what, scratch);
      this.place(out, band, position, bytes);
    } finally {
      if (this.scratch.length < HDF5_CHUNKS_IN_FLIGHT) this.scratch.push(scratch);
    }
  }

  /** Copies a decoded chunk's block (clipped) into the band. */
  private place(out: Uint8Array, band: Band, position: number, chunk: Uint8Array): void {
    if (this.fullWidth) {
      out.set(chunk.subarray(0, out.byteLength));
      return;
    }
    const at = new Array<number>(this.gridShape.length);
    at[0] = band.index;
    for (let k = this.gridShape.length - 1, rest = position; k >= 1; k--) {
      at[k] = rest % this.gridShape[k]!;
      rest = Math.floor(rest / this.gridShape[k]!);
    }
    hdf5PlaceChunk(out, band.rows, this.grid, at, chunk);
  }

  /** A whole chunk of the fill value (built on first use). */
  private fill(): Uint8Array {
    if (this.fillChunk) return this.fillChunk;
    const element = this.grid.fill ?? new Uint8Array(this.grid.elementBytes);
    const chunk = new Uint8Array(this.grid.chunkBytes);
    if (element.some((byte) => byte !== 0)) {
      chunk.set(element);
      // Doubling copies: log2(elements) calls.
      for (let filled = element.byteLength; filled < chunk.byteLength; filled *= 2) chunk.copyWithin(filled, 0, Math.min(filled, chunk.byteLength - filled));
    }
    return (this.fillChunk = chunk);
  }
}
