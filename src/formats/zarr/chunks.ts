/**
 * A Zarr array as the seam's chunked location: a list of {@link ByteChunk}s, one per
 * band of rows along axis 0 (normally one row of chunks), each read as a box of the
 * array (`region.ts`: fetch the chunks it touches, decode, place, crop ragged edges,
 * fill missing chunks), plus a reader of any N-d box for slices. Fetching is here: one
 * request per chunk, or for a sharded array the shard index once and then only the byte
 * ranges of the inner chunks. A row slice fetches only the bands it covers, an N-d slice
 * only the chunks it touches, and memory is one band.
 */
import { itemSize } from '../../core/dtype.js';
import { TensioError } from '../../core/errors.js';
import { ZARR_MAX_BAND_BYTES } from '../../core/limits.js';
import { allocateUninitialized } from '../../core/memory.js';
import type { RegionReader } from '../../model/create-reader.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { Store } from '../../storage/store.js';
import { crc32c, zarrChunkDecoder } from './codecs.js';
import { zarrChunkKey } from './read.js';
import { zarrReadRegion, zarrUnitChunkShape, type ZarrRegion, type ZarrUnitLoader, type ZarrUnitReaderInto } from './region.js';
import type { ZarrArrayMeta } from './types.js';
import { zarrGridShape } from './validate.js';

/**
 * Most bands in one array's list: an array of many small chunk rows gets several chunk
 * rows per band instead (the list is built at open, one object per band).
 */
export const ZARR_MAX_BANDS = 2 ** 18;

/** Bands whose chunks are fetched and decoded ahead while one band is placed (local stores only). */
export const ZARR_READ_AHEAD_BANDS = 4;

/** Read-ahead is skipped for bands of more chunks than this. */
const READ_AHEAD_MAX_CHUNKS = 64;

/** Decoded bytes read ahead at most (fewer bands ahead when bands are large), 64 MiB. */
const READ_AHEAD_MAX_BYTES = 64 * 2 ** 20;

/** Shard indexes kept per array (each is 16 bytes per inner chunk). */
const SHARD_INDEX_CACHE = 256;

const EMPTY_SOURCE: ByteSource = {
  size: 0,
  name: 'zarr band',
  async read() { return new Uint8Array(0); },
  async readInto() {},
};

/** Counts what a reader fetched, for tests and `inspect`. */
export interface ZarrFetchStats {
  chunkReads: number;
  bytesRead: number;
}

/** Joins the array's folder key and a chunk key. */
function arrayKey(meta: ZarrArrayMeta, key: string): string {
  return meta.path === '' ? key : `${meta.path}/${key}`;
}

async function readOrMissing(store: Store, key: string, range: { offset: number; length: number } | { suffix: number } | undefined, stats: ZarrFetchStats, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    const bytes = await store.read(key, range, signal ? { signal } : undefined);
    stats.chunkReads += 1;
    stats.bytesRead += bytes.byteLength;
    return bytes;
  } catch (error) {
    if (error instanceof TensioError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** Fetches the stored bytes of a unit chunk (inner chunk when sharded), or undefined when it is missing. */
type ZarrUnitFetcher = (coords: readonly number[], signal?: AbortSignal) => Promise<Uint8Array | undefined>;

function unitFetcher(store: Store, meta: ZarrArrayMeta, stats: ZarrFetchStats): ZarrUnitFetcher {
  const sharding = meta.sharding;
  if (!sharding) {
    // One request per chunk over HTTP: a whole-key read would first ask for the size. The
    // suffix is a bound no sound chunk reaches (compressors add at most a few percent).
    const unitBytes = meta.chunkShape.reduce((a, b) => a * b, itemSize(meta.dtype)!);
    const bound = unitBytes * 2 + 65536;
    return async (coords, signal) => {
      const key = arrayKey(meta, zarrChunkKey(meta, coords));
      const bytes = await readOrMissing(store, key, { suffix: bound }, stats, signal);
      if (bytes && bytes.byteLength >= bound) throw new TensioError('LIMIT_EXCEEDED', `zarr: stored chunk ${store.locate(key)} is ${bytes.byteLength} bytes or more, beyond any encoding of a ${unitBytes}-byte chunk`, { format: 'zarr' });
      return bytes;
    };
  }
  const perShard = meta.chunkShape.map((size, axis) => size / sharding.innerChunkShape[axis]!);
  const innerCount = perShard.reduce((a, b) => a * b, 1);
  const checksummed = sharding.indexCodecs.some((codec) => codec.name === 'crc32c');
  for (const codec of sharding.indexCodecs) {
    if (codec.name === 'bytes' ? codec.config.endian === 'big' : codec.name !== 'crc32c') {
      throw new TensioError('UNSUPPORTED_FEATURE', `zarr: array ${JSON.stringify(meta.path)}: shard index codec ${codec.name} ${JSON.stringify(codec.config)} is not supported (bytes little-endian and crc32c are)`, { format: 'zarr' });
    }
  }
  const indexBytes = innerCount * 16 + (checksummed ? 4 : 0);
  const indexes = new Map<string, Promise<DataView | null>>();
  const loadIndex = async (key: string, signal?: AbortSignal): Promise<DataView | null> => {
    const range = sharding.indexLocation === 'end' ? { suffix: indexBytes } : { offset: 0, length: indexBytes };
    const bytes = await readOrMissing(store, key, range, stats, signal);
    if (!bytes) return null;
    if (bytes.byteLength !== indexBytes) throw new TensioError('TRUNCATED', `zarr: shard ${key} is ${bytes.byteLength} bytes, shorter than its ${indexBytes}-byte index`, { format: 'zarr' });
    if (checksummed) {
      const body = bytes.subarray(0, indexBytes - 4);
      const stored = new DataView(bytes.buffer, bytes.byteOffset + indexBytes - 4, 4).getUint32(0, true);
      const actual = await crc32c(body);
      if (actual !== stored) throw new TensioError('CHECKSUM_MISMATCH', `zarr: crc32c of the index of shard ${key} is 0x${actual.toString(16)}, stored 0x${stored.toString(16)}`, { format: 'zarr' });
    }
    return new DataView(bytes.buffer, bytes.byteOffset, innerCount * 16);
  };
  return async (coords, signal) => {
    const shard = coords.map((c, axis) => Math.floor(c / perShard[axis]!));
    let local = 0;
    coords.forEach((c, axis) => {
      local = local * perShard[axis]! + (c % perShard[axis]!);
    });
    const key = arrayKey(meta, zarrChunkKey(meta, shard));
    let index = indexes.get(key);
    if (!index) {
      if (indexes.size >= SHARD_INDEX_CACHE) indexes.delete(indexes.keys().next().value!);
      index = loadIndex(key, signal);
      indexes.set(key, index);
      index.catch(() => indexes.delete(key));
    }
    const view = await index;
    if (!view) return undefined;
    const offset = view.getBigUint64(local * 16, true);
    const length = view.getBigUint64(local * 16 + 8, true);
    if (offset === 0xffffffffffffffffn && length === 0xffffffffffffffffn) return undefined;
    if (offset > BigInt(Number.MAX_SAFE_INTEGER) || length > BigInt(2 ** 31)) {
      throw new TensioError('INVALID_OFFSET', `zarr: shard ${key} places inner chunk ${local} at ${offset} (+${length} bytes), beyond what a shard can hold`, { format: 'zarr' });
    }
    const bytes = await readOrMissing(store, key, { offset: Number(offset), length: Number(length) }, stats, signal);
    if (!bytes) throw new TensioError('NOT_FOUND', `zarr: shard ${key} disappeared while it was read`, { format: 'zarr' });
    return bytes;
  };
}

/**
 * For an array whose stored chunks are its bytes as they are (no codecs, tensio's byte
 * order, C order) in a store that reads a key into a buffer (`Store.readWholeInto`: a
 * local folder): a reader of one chunk straight into its place, which saves a buffer and
 * a copy per chunk. Other stores and arrays fetch and decode.
 */
function rawReaderInto(store: Store, meta: ZarrArrayMeta, stats: ZarrFetchStats): ZarrUnitReaderInto | undefined {
  const size = itemSize(meta.dtype)!;
  const raw = !meta.sharding && meta.codecs.every((codec) => codec.name === 'bytes') && !(meta.bigEndian && size > 1) && (meta.order === 'C' || meta.shape.length <= 1);
  const readWholeInto = store.readWholeInto?.bind(store);
  if (!raw || !readWholeInto) return undefined;
  return async (coords, target, signal) => {
    const key = arrayKey(meta, zarrChunkKey(meta, coords));
    let stored: number;
    try {
      stored = await readWholeInto(key, target, signal ? { signal } : undefined);
    } catch (error) {
      if (error instanceof TensioError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
    // The same codes as the decoder's length check: longer is a bomb, shorter is truncation.
    if (stored > target.byteLength) throw new TensioError('LIMIT_EXCEEDED', `zarr: chunk ${store.locate(key)} holds ${stored} bytes, more than the ${target.byteLength} the chunk holds`, { format: 'zarr' });
    if (stored < target.byteLength) throw new TensioError('SIZE_MISMATCH', `zarr: chunk ${store.locate(key)} holds ${stored} bytes, the chunk holds ${target.byteLength}`, { format: 'zarr' });
    stats.chunkReads += 1;
    stats.bytesRead += stored;
    return true;
  };
}

/** What {@link zarrBandChunks} gives the reader: the band list and the N-d box reader. */
export interface ZarrChunkedLocation {
  readonly chunks: ByteChunk[];
  readonly readRegion: RegionReader;
}

/** Options of {@link zarrBandChunks}. */
export interface ZarrBandOptions {
  /** Bands fetched ahead while one decodes (local stores; 0 = off). */
  readAhead?: number;
  /** Largest band (default `ZARR_MAX_BAND_BYTES`); chunk rows larger than this are cut into bands of fewer rows. */
  maxBandBytes?: number;
}

/**
 * The array's bytes as a list of band chunks (see the file comment), and a reader of
 * any N-d box for slices. A band is one row of chunks (axis 0) over the full extent of
 * the other axes. When that is more than `maxBandBytes`, a band takes fewer rows (each
 * such band decodes the chunks of its chunk row again: memory stays bounded at the cost
 * of repeated decoding); when the chunk rows are tiny and many, a band takes several, so
 * the list stays short (≤ {@link ZARR_MAX_BANDS} entries).
 *
 * @example
 * ```ts
 * const { chunks, readRegion } = zarrBandChunks(store, meta, stats);
 * createTensorReader({ ..., locate: () => ({ kind: 'chunks', chunks, readRegion }) });
 * ```
 */
export function zarrBandChunks(store: Store, meta: ZarrArrayMeta, stats: ZarrFetchStats, options: ZarrBandOptions = {}): ZarrChunkedLocation {
  const size = itemSize(meta.dtype)!;
  const shape = meta.shape;
  const total = shape.reduce((a, b) => a * b, 1);
  const unit = zarrUnitChunkShape(meta);
  const fetchUnit = unitFetcher(store, meta, stats);
  const decode = zarrChunkDecoder({ zarrFormat: meta.zarrFormat, dtype: meta.dtype, bigEndian: meta.bigEndian, order: meta.order, codecs: meta.sharding?.codecs ?? meta.codecs, chunkShape: unit });
  const plainLoad: ZarrUnitLoader = async (coords, signal) => {
    const stored = await fetchUnit(coords, signal);
    return stored && decode(stored);
  };
  // Slices fetch only what they cover: no read-ahead of whole bands for them.
  const readInto = rawReaderInto(store, meta, stats);
  const readRegion: RegionReader = (region, out, signal) => zarrReadRegion(meta, plainLoad, region, out, signal, readInto);
  if (total === 0) return { chunks: [], readRegion };
  // Bands load ahead (raw chunks read in place never call the loader, so are not read twice).
  const loadUnit = readAheadLoader(meta, plainLoad, options.readAhead ?? 0);
  if (shape.length === 0) {
    const codec = bandCodec(meta, loadUnit, { starts: [], ends: [] }, size, readInto);
    return { chunks: [{ source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: size, byteLength: size, format: 'zarr', label: `chunk of ${describe(meta)}` }], readRegion };
  }
  const rank = shape.length;
  const maxBandBytes = options.maxBandBytes ?? ZARR_MAX_BAND_BYTES;
  // The split axis k: the first whose single index (the axes after it whole) fits in a
  // band. Normally 0: bands are rows. Bands fix one index of every axis before k.
  let k = 0;
  let slab = (total / shape[0]!) * size;
  while (slab > maxBandBytes && k < rank - 1) {
    k += 1;
    slab /= shape[k]!;
  }
  const length = shape[k]!;
  const u = unit[k]!;
  const prefixCount = shape.slice(0, k).reduce((a, b) => a * b, 1);
  // Along axis k: one chunk row per band, fewer indices when that is too large, several
  // chunk rows when there would be too many bands.
  let step = u * slab > maxBandBytes ? Math.max(1, Math.floor(maxBandBytes / slab)) : u;
  const perPrefix = Math.floor(ZARR_MAX_BANDS / prefixCount);
  if (step === u && perPrefix >= 1 && Math.ceil(length / u) > perPrefix) {
    step = Math.min(Math.ceil(Math.ceil(length / u) / perPrefix) * u, Math.max(u, Math.floor(maxBandBytes / slab / u) * u));
  }
  const bandCount = prefixCount * (step >= u ? Math.ceil(length / step) : Math.ceil(length / u) * Math.ceil(u / step));
  if (bandCount > ZARR_MAX_BANDS) {
    throw new TensioError('LIMIT_EXCEEDED', `zarr: ${describe(meta)} (${total * size} bytes) needs ${bandCount} bands of at most ${maxBandBytes} bytes, more than ${ZARR_MAX_BANDS}; raise maxBandBytes, or read it by slices`, { format: 'zarr' });
  }
  const chunks: ByteChunk[] = [];
  const prefix = new Array<number>(k).fill(0);
  for (let p = 0; p < prefixCount; p += 1) {
    // A band narrower than a chunk row never straddles two, so it decodes one chunk row only.
    for (let start = 0; start < length;) {
      const chunkRowEnd = Math.min(length, (Math.floor(start / u) + 1) * u);
      const end = step >= u ? Math.min(length, start + step) : Math.min(chunkRowEnd, start + step);
      const byteLength = (end - start) * slab;
      const region = { starts: [...prefix, start, ...shape.slice(k + 1).map(() => 0)], ends: [...prefix.map((i) => i + 1), end, ...shape.slice(k + 1)] };
      const where = k === 0 ? `rows ${start}..${end}` : `index [${[...prefix, `${start}:${end}`].join(', ')}]`;
      chunks.push({
        source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec: bandCodec(meta, loadUnit, region, byteLength, readInto),
        decodedLength: byteLength, byteLength, format: 'zarr', label: `${where} of ${describe(meta)}`, corruptCode: 'INVALID_HEADER',
      });
      start = end;
    }
    for (let axis = k - 1; axis >= 0; axis -= 1) {
      prefix[axis]! += 1;
      if (prefix[axis]! < shape[axis]!) break;
      prefix[axis] = 0;
    }
  }
  return { chunks, readRegion };
}

function describe(meta: ZarrArrayMeta): string {
  return `array ${JSON.stringify(meta.path || '/')}`;
}

/** Every chunk coordinate of band `band` (axis 0 fixed, the others over the grid), C order. */
function bandCoords(grid: readonly number[], band: number): number[][] {
  let all: number[][] = [[band]];
  for (let axis = 1; axis < grid.length; axis += 1) {
    const next: number[][] = [];
    for (const prefix of all) for (let c = 0; c < grid[axis]!; c += 1) next.push([...prefix, c]);
    all = next;
  }
  return all;
}

/**
 * Wraps a loader so that loading band b also starts fetching and decoding the chunks of
 * the next `ahead` bands: sequential reads (streams) of local stores then overlap I/O
 * and decoding, and decoders that run on the thread pool (gzip, zlib) keep every core
 * busy. Off (0) for remote stores, where a slice must fetch only what it covers. Fewer
 * bands are read ahead when bands are large (at most {@link READ_AHEAD_MAX_BYTES}
 * decoded).
 */
function readAheadLoader(meta: ZarrArrayMeta, loadUnit: ZarrUnitLoader, wanted: number): ZarrUnitLoader {
  const unit = zarrUnitChunkShape(meta);
  const grid = zarrGridShape(meta.shape, unit);
  const perBand = grid.slice(1).reduce((a, b) => a * b, 1);
  const bandBytes = perBand * unit.reduce((a, b) => a * b, itemSize(meta.dtype)!);
  const ahead = Math.min(wanted, Math.floor(READ_AHEAD_MAX_BYTES / Math.max(1, bandBytes)));
  if (ahead <= 0 || meta.shape.length === 0 || perBand > READ_AHEAD_MAX_CHUNKS) return loadUnit;
  const pending = new Map<string, Promise<Uint8Array | undefined>>();
  let furthest = -1;
  return (coords, signal) => {
    const key = coords.join(',');
    const early = pending.get(key);
    pending.delete(key);
    const band = coords[0]!;
    for (let next = Math.max(band + 1, furthest + 1); next <= Math.min(band + ahead, grid[0]! - 1); next += 1) {
      for (const other of bandCoords(grid, next)) {
        const promise = loadUnit(other, signal);
        promise.catch(() => undefined); // reported when (if) the band is read
        pending.set(other.join(','), promise);
      }
      furthest = next;
    }
    if (band < furthest - ahead) {
      // A jump backwards (a new slice): drop what was loaded for elsewhere.
      pending.clear();
      furthest = band;
    }
    return early ?? loadUnit(coords, signal);
  };
}

/** The codec of one band: the band's box read from its chunks, into a new buffer or straight into the caller's. */
function bandCodec(meta: ZarrArrayMeta, loadUnit: ZarrUnitLoader, region: ZarrRegion, byteLength: number, readInto: ZarrUnitReaderInto | undefined): ChunkCodec {
  return {
    name: meta.sharding ? 'zarr-shard-band' : 'zarr-band',
    async *decode(_stored, options) {
      const out = allocateUninitialized(byteLength);
      await zarrReadRegion(meta, loadUnit, region, out, options.signal, readInto);
      yield out;
    },
    async decodeInto(_stored, out, signal) {
      await zarrReadRegion(meta, loadUnit, region, out, signal, readInto);
    },
  };
}
