/**
 * A Zarr array as the seam's chunked location: one {@link ByteChunk} per band of chunk
 * rows along axis 0. A band's codec fetches every chunk of that band (for a sharded
 * array: the shard index once, then only the byte ranges of the inner chunks), decodes
 * them and places their elements into the band's C-order bytes, cropping ragged edge
 * chunks and filling missing ones with the fill value. A row slice therefore fetches
 * only the bands it covers, and memory is one band.
 */
import { itemSize } from '../../core/dtype.js';
import { TensioError, throwIfAborted } from '../../core/errors.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { Store } from '../../storage/store.js';
import { crc32c, zarrChunkDecoder, type ZarrChunkDecoder } from './codecs.js';
import { zarrChunkKey } from './read.js';
import type { ZarrArrayMeta } from './types.js';
import { zarrGridShape } from './validate.js';

/** Chunks of one band fetched at once. */
const BAND_CONCURRENCY = 8;

/** Bands whose stored chunks are fetched ahead while one band decodes (local stores only). */
export const ZARR_READ_AHEAD_BANDS = 4;

/** Read-ahead is skipped for bands of more chunks than this (memory: read-ahead × band). */
const READ_AHEAD_MAX_CHUNKS = 64;

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

/** Fetches the stored bytes of a unit chunk (inner chunk when sharded) or undefined when missing. */
type UnitFetcher = (coords: readonly number[], signal?: AbortSignal) => Promise<Uint8Array | undefined>;

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

function unitFetcher(store: Store, meta: ZarrArrayMeta, stats: ZarrFetchStats): UnitFetcher {
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

/** The unit chunk shape: the inner chunk when sharded, else the stored chunk. */
export function zarrUnitChunkShape(meta: ZarrArrayMeta): readonly number[] {
  return meta.sharding?.innerChunkShape ?? meta.chunkShape;
}

/**
 * The array's bytes as a list of band chunks (see the file comment).
 *
 * @example
 * ```ts
 * const chunks = zarrBandChunks(store, meta, stats);
 * createTensorReader({ ..., locate: () => ({ kind: 'chunks', chunks }) });
 * ```
 */
export function zarrBandChunks(store: Store, meta: ZarrArrayMeta, stats: ZarrFetchStats, options: { readAhead?: number } = {}): ByteChunk[] {
  const size = itemSize(meta.dtype)!;
  const shape = meta.shape;
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return [];
  const unit = zarrUnitChunkShape(meta);
  const fetchUnit = readAheadFetcher(meta, unitFetcher(store, meta, stats), options.readAhead ?? 0);
  const decode = zarrChunkDecoder({ zarrFormat: meta.zarrFormat, dtype: meta.dtype, bigEndian: meta.bigEndian, order: meta.order, codecs: meta.sharding?.codecs ?? meta.codecs, chunkShape: unit });
  if (shape.length === 0) {
    const codec = bandCodec(meta, fetchUnit, decode, -1, size);
    return [{ source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: size, byteLength: size, format: 'zarr', label: `chunk of ${describe(meta)}` }];
  }
  const rowBytes = (total / shape[0]!) * size;
  const bands = Math.ceil(shape[0]! / unit[0]!);
  const chunks: ByteChunk[] = [];
  for (let band = 0; band < bands; band += 1) {
    const rows = Math.min(unit[0]!, shape[0]! - band * unit[0]!);
    const byteLength = rows * rowBytes;
    chunks.push({
      source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec: bandCodec(meta, fetchUnit, decode, band, byteLength),
      decodedLength: byteLength, byteLength, format: 'zarr', label: `chunk row ${band} of ${describe(meta)}`, corruptCode: 'INVALID_HEADER',
    });
  }
  return chunks;
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
 * Wraps a fetcher so that reading band b also starts fetching the stored chunks of the
 * next `ahead` bands (sequential reads of local stores then overlap I/O and decoding).
 * Off (0) for remote stores, where a slice must fetch only what it covers.
 */
function readAheadFetcher(meta: ZarrArrayMeta, fetchUnit: UnitFetcher, ahead: number): UnitFetcher {
  const grid = zarrGridShape(meta.shape, zarrUnitChunkShape(meta));
  const perBand = grid.slice(1).reduce((a, b) => a * b, 1);
  if (ahead <= 0 || meta.shape.length === 0 || perBand > READ_AHEAD_MAX_CHUNKS) return fetchUnit;
  const pending = new Map<string, Promise<Uint8Array | undefined>>();
  let furthest = -1;
  return (coords, signal) => {
    const key = coords.join(',');
    const early = pending.get(key);
    pending.delete(key);
    const band = coords[0]!;
    for (let next = Math.max(band + 1, furthest + 1); next <= Math.min(band + ahead, grid[0]! - 1); next += 1) {
      for (const other of bandCoords(grid, next)) {
        const promise = fetchUnit(other, signal);
        promise.catch(() => undefined); // reported when (if) the band is read
        pending.set(other.join(','), promise);
      }
      furthest = next;
    }
    if (band < furthest - ahead) {
      // A jump backwards (a new slice): drop what was fetched for elsewhere.
      pending.clear();
      furthest = band;
    }
    return early ?? fetchUnit(coords, signal);
  };
}

/** The codec of one band: fetch, decode and place every chunk of the band. */
function bandCodec(meta: ZarrArrayMeta, fetchUnit: UnitFetcher, decode: ZarrChunkDecoder, band: number, byteLength: number): ChunkCodec {
  return {
    name: meta.sharding ? 'zarr-shard-band' : 'zarr-band',
    async *decode(_stored, options) {
      yield await assembleBand(meta, fetchUnit, decode, band, byteLength, options.signal);
    },
  };
}

async function assembleBand(meta: ZarrArrayMeta, fetchUnit: UnitFetcher, decode: ZarrChunkDecoder, band: number, byteLength: number, signal?: AbortSignal): Promise<Uint8Array> {
  const size = itemSize(meta.dtype)!;
  const out = new Uint8Array(byteLength);
  const fillIsZero = meta.fillValue.every((byte) => byte === 0);
  if (band < 0) {
    // A 0-d array: one chunk, one element.
    const stored = await fetchUnit([], signal);
    out.set(stored ? (await decode(stored)).subarray(0, size) : meta.fillValue);
    return out;
  }
  const shape = meta.shape;
  const unit = zarrUnitChunkShape(meta);
  const grid = zarrGridShape(shape, unit);
  const rank = shape.length;
  const bandRows = Math.min(unit[0]!, shape[0]! - band * unit[0]!);
  // Every chunk coordinate of this band: axis 0 fixed, the others over the grid.
  const others: number[][] = [[]];
  for (let axis = 1; axis < rank; axis += 1) {
    const next: number[][] = [];
    for (const prefix of others) for (let c = 0; c < grid[axis]!; c += 1) next.push([...prefix, c]);
    others.splice(0, others.length, ...next);
  }
  let cursor = 0;
  const worker = async () => {
    while (cursor < others.length) {
      throwIfAborted(signal);
      const rest = others[cursor++]!;
      const coords = [band, ...rest];
      const stored = await fetchUnit(coords, signal);
      const decoded = stored ? await decode(stored) : undefined;
      place(out, decoded, coords, shape, unit, bandRows, size, fillIsZero ? undefined : meta.fillValue);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BAND_CONCURRENCY, others.length) }, worker));
  return out;
}

/**
 * Copies the part of a decoded chunk (full chunk shape, C order) that lies inside the
 * array into the band buffer (rows of the band × the full extent of the other axes);
 * a missing chunk writes the fill value there instead.
 */
/**
 * Byte strides of a band buffer (`bandRows` rows of the array, whole along the other
 * axes) and of one chunk (`unit`), C order, for copying between them either way.
 */
export function zarrBandAndChunkStrides(shape: readonly number[], unit: readonly number[], bandRows: number, size: number): { band: number[]; chunk: number[] } {
  const band = new Array<number>(shape.length);
  const chunk = new Array<number>(shape.length);
  let b = size;
  let c = size;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    band[axis] = b;
    chunk[axis] = c;
    b *= axis === 0 ? bandRows : shape[axis]!;
    c *= unit[axis]!;
  }
  return { band, chunk };
}

function place(out: Uint8Array, chunk: Uint8Array | undefined, coords: readonly number[], shape: readonly number[], unit: readonly number[], bandRows: number, size: number, fill: Uint8Array | undefined): void {
  if (!chunk && !fill) return; // the band starts zeroed
  const rank = shape.length;
  const extent = coords.map((c, axis) => (axis === 0 ? bandRows : Math.min(unit[axis]!, shape[axis]! - c * unit[axis]!)));
  const { band: outStrides, chunk: inStrides } = zarrBandAndChunkStrides(shape, unit, bandRows, size);
  const start = coords.map((c, axis) => (axis === 0 ? 0 : c * unit[axis]!));
  const runBytes = extent[rank - 1]! * size;
  const index = new Array<number>(rank).fill(0);
  for (;;) {
    let outAt = 0;
    let inAt = 0;
    for (let axis = 0; axis < rank; axis += 1) {
      outAt += (start[axis]! + index[axis]!) * outStrides[axis]!;
      inAt += index[axis]! * inStrides[axis]!;
    }
    if (chunk) out.set(chunk.subarray(inAt, inAt + runBytes), outAt);
    else for (let at = 0; at < runBytes; at += size) out.set(fill!, outAt + at);
    let axis = rank - 2;
    while (axis >= 0) {
      index[axis]! += 1;
      if (index[axis]! < extent[axis]!) break;
      index[axis] = 0;
      axis -= 1;
    }
    if (axis < 0) return;
  }
}
