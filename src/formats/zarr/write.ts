/**
 * Writing Zarr stores: v2 (our own `.zarray`/`.zgroup`/`.zattrs`, readable by
 * zarr-python 2 and 3) or v3 (`zarr.json`, optionally sharded), one array per tensor,
 * tensors named `a/b/c` placed in nested groups. Each tensor's bytes stream in; one band
 * (a row of chunks along axis 0, or of shards when sharded) is held, cut into chunks,
 * compressed and written as keys. The store is built in a temporary folder beside the
 * target and renamed into place at `close()`; `abort()` removes it.
 */
import { basename, dirname, resolve } from 'node:path';
import { itemSize } from '../../core/dtype.js';
import { allocateUninitialized } from '../../core/memory.js';
import { TensioError } from '../../core/errors.js';
import { MAX_TENSOR_BYTES } from '../../core/limits.js';
import { createPlannedWriter } from '../../model/planned-writer.js';
import type { TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { checkStoreKey } from '../../storage/store.js';
import { localFolder } from '../../storage/local-folder.js';
import { localFolderTarget, type WriteTarget } from '../../storage/write-target.js';
import { removeStaleTemporaries, temporaryPathFor } from '../../storage/temporary-names.js';
import { zarrCannotWrite } from './format.js';
import { crc32c, zarrEncodeChunk, ZARR_COMPRESSORS, type ZarrCompressor } from './codecs.js';
import { copyBox } from '../shared/box-copy.js';
import { zarrChunkKey, zarrV2Dtype, zarrV3Dtype } from './read.js';
import { zarrGridShape, zarrNodeNameProblem } from './validate.js';

/** Options of the Zarr writer (`formatOptions` of `createWriter`, `--format-option` in the CLI). */
export interface ZarrWriteOptions {
  /** 3 (default, as zarr-python 3 and so NumPack's `to_zarr` write) or 2 (readable by zarr-python 2 and every v2 reader; no bfloat16). */
  version?: 2 | 3;
  /** `'default'` (NumPack's: Blosc zstd level 3 bitshuffle), `'none'`, `'blosc'` (lz4, byte shuffle), `'zstd'`, `'gzip'`, `'zlib'`, `'lz4'` (v2 only). */
  compressor?: ZarrCompressor;
  /** Compression level of the chosen compressor. */
  level?: number;
  /** Chunk shape for every array of that rank, or a target chunk size in bytes (default 1 MiB, whole trailing axes first). */
  chunks?: readonly number[] | number;
  /** v3 only: shard shape (a multiple of the chunk shape) for every array of that rank, or a number of chunk rows per shard along axis 0. */
  shards?: readonly number[] | number;
}

/** The `formatOptions` keys the writer understands. */
export const ZARR_WRITE_OPTION_NAMES = ['version', 'compressor', 'level', 'chunks', 'shards'] as const;

/** Default chunk size target. */
export const ZARR_DEFAULT_CHUNK_BYTES = 2 ** 20;

/** The chunk shape for a shape: given, or whole trailing axes up to the target bytes. */
export function zarrChooseChunks(shape: readonly number[], size: number, chunks: readonly number[] | number | undefined): number[] {
  if (Array.isArray(chunks)) {
    if (chunks.length !== shape.length) throw new TensioError('INVALID_ARGUMENT', `zarr: chunk shape ${JSON.stringify(chunks)} has rank ${chunks.length}, an array has shape ${JSON.stringify(shape)}`, { format: 'zarr' });
    return chunks.map((side, axis) => {
      if (!Number.isSafeInteger(side) || side < 1) throw new TensioError('INVALID_ARGUMENT', `zarr: chunk side ${side} is not a positive integer`, { format: 'zarr' });
      return Math.min(side, Math.max(1, shape[axis]!));
    });
  }
  const target = typeof chunks === 'number' && chunks > 0 ? chunks : ZARR_DEFAULT_CHUNK_BYTES;
  const out = shape.map((side) => Math.max(1, side));
  // Cut the leading axes until a chunk fits the target.
  for (let axis = 0; axis < out.length; axis += 1) {
    const inner = out.slice(axis + 1).reduce((a, b) => a * b, size);
    if (inner * out[axis]! <= target) break;
    out[axis] = Math.max(1, Math.floor(target / inner));
  }
  return out;
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

/** Metadata values JSON can hold (bigint and typed arrays are turned into plain values). */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : ArrayBuffer.isView(item) ? Array.from(item as unknown as ArrayLike<number>) : item)) ?? 'null');
}

interface ArrayPlan {
  spec: TensorSpec;
  size: number;
  /** The array's own attributes (kept from a Zarr or HDF5 source). */
  attributes?: Record<string, unknown>;
  chunks: number[];
  shards?: number[];
}

/**
 * Creates a writer producing a Zarr store (a folder) at `path`.
 *
 * @example
 * ```ts
 * const writer = await zarrCreateWriter('out.zarr', { tensors: [{ name: 'x', dtype: 'float32', shape: [4] }], formatOptions: { version: 3 } });
 * await writer.add('x', bytes);
 * await writer.close();
 * ```
 */
export async function zarrCreateWriter(output: WriteTarget, options: WriterOptions): Promise<TensorWriter> {
  const target = resolve(localFolderTarget(output, 'zarr'));
  if (/\.zip$/i.test(target)) throw new TensioError('UNSUPPORTED_FEATURE', `zarr: tensio writes Zarr stores as folders, not zip files; name a folder such as ${target.replace(/\.zip$/i, '')}`, { format: 'zarr' });
  const formatOptions = (options.formatOptions ?? {}) as ZarrWriteOptions;
  const version = Number(formatOptions.version ?? 3);
  if (version !== 2 && version !== 3) throw new TensioError('INVALID_ARGUMENT', `zarr: version ${JSON.stringify(formatOptions.version)} is not 2 or 3`, { format: 'zarr' });
  const compressor = (formatOptions.compressor ?? 'default') as ZarrCompressor;
  if (!ZARR_COMPRESSORS.includes(compressor)) throw new TensioError('INVALID_ARGUMENT', `zarr: compressor ${JSON.stringify(compressor)} is not one of ${ZARR_COMPRESSORS.join(', ')}`, { format: 'zarr' });
  if (version === 3 && (compressor === 'zlib' || compressor === 'lz4')) throw new TensioError('INVALID_ARGUMENT', `zarr: compressor ${compressor} has no Zarr v3 codec; use gzip, zstd, blosc or default`, { format: 'zarr' });
  if (formatOptions.shards !== undefined && version !== 3) throw new TensioError('INVALID_ARGUMENT', 'zarr: shards need version 3', { format: 'zarr' });
  const level = formatOptions.level;

  const plans: ArrayPlan[] = [];
  for (const spec of options.tensors) {
    const problem = zarrNodeNameProblem(spec.name);
    if (problem) throw new TensioError('INVALID_NAME', `zarr: tensor name ${JSON.stringify(spec.name)} ${problem}`, { format: 'zarr' });
    const reason = zarrCannotWrite(spec);
    if (reason) throw new TensioError('UNSUPPORTED_DTYPE', `zarr: cannot hold ${JSON.stringify(spec.name)}: ${reason}`, { format: 'zarr' });
    if (version === 2 && !zarrV2Dtype(spec.dtype)) throw new TensioError('UNSUPPORTED_DTYPE', `zarr: v2 has no dtype for ${spec.dtype} (${spec.name}); write version 3`, { format: 'zarr' });
    const size = itemSize(spec.dtype)!;
    // A chunk (shard) shape applies to the arrays of its rank; the others get the default.
    const givenChunks = Array.isArray(formatOptions.chunks) && formatOptions.chunks.length !== spec.shape.length ? undefined : formatOptions.chunks;
    const chunks = zarrChooseChunks(spec.shape, size, givenChunks);
    let shards: number[] | undefined;
    if (formatOptions.shards !== undefined && !(Array.isArray(formatOptions.shards) && formatOptions.shards.length !== spec.shape.length)) {
      const given = formatOptions.shards;
      shards = Array.isArray(given) ? [...given] : chunks.map((side, axis) => (axis === 0 ? side * Math.max(1, Number(given)) : Math.max(1, Math.ceil(Math.max(1, spec.shape[axis]!) / side)) * side));
      if (shards.length !== chunks.length || shards.some((side, axis) => !Number.isSafeInteger(side) || side < 1 || side % chunks[axis]! !== 0)) {
        throw new TensioError('INVALID_ARGUMENT', `zarr: shard shape ${JSON.stringify(shards)} is not a multiple of the chunk shape ${JSON.stringify(chunks)} (${spec.name})`, { format: 'zarr' });
      }
    }
    // The writer holds one row of chunks (or shards) of the whole width while it cuts them: one buffer.
    const outerRows = Math.min((shards ?? chunks)[0] ?? 1, spec.shape[0] ?? 1);
    const heldBytes = outerRows * spec.shape.slice(1).reduce((a, b) => a * b, size);
    if (heldBytes > MAX_TENSOR_BYTES) {
      throw new TensioError('LIMIT_EXCEEDED', `zarr: ${JSON.stringify(spec.name)}: one row of ${shards ? 'shards' : 'chunks'} (${outerRows} rows of the whole width) is ${heldBytes} bytes, more than one buffer holds (${MAX_TENSOR_BYTES}); choose fewer rows per chunk (chunks option, --chunks)`, { format: 'zarr' });
    }
    // A source that carries per-array attributes (Zarr, HDF5) keeps them.
    const sourceAttributes = options.sourceTensors?.find((info) => info.name === spec.name)?.extras?.attributes;
    const attributes = sourceAttributes && typeof sourceAttributes === 'object' && !Array.isArray(sourceAttributes) ? jsonSafe(sourceAttributes) as Record<string, unknown> : undefined;
    plans.push({ spec, size, chunks, ...(shards ? { shards } : {}), ...(attributes ? { attributes } : {}) });
  }
  const names = new Set(plans.map((plan) => plan.spec.name));
  for (const name of names) {
    // An array cannot also be a group of another array (`a` and `a/b`).
    for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) {
      if (names.has(name.slice(0, at))) throw new TensioError('INVALID_NAME', `zarr: ${JSON.stringify(name.slice(0, at))} would be both an array and the group of ${JSON.stringify(name)}`, { format: 'zarr' });
    }
  }

  const existing = await localFolder(dirname(target)).stat(basename(target));
  if (existing && options.overwrite === false) throw new TensioError('ALREADY_EXISTS', `${target} already exists (use --force / overwrite to replace it)`, { format: 'zarr', path: target });
  if (existing && existing.kind !== 'folder') throw new TensioError('ALREADY_EXISTS', `${target} exists and is not a folder; remove it first`, { format: 'zarr', path: target });
  await removeStaleTemporaries(dirname(target));
  const building = temporaryPathFor(target);
  // The whole store is built in a private temporary folder and published by one rename,
  // so keys are written plainly (no per-key temporary file), several at once.
  const put = keyWriter(building);
  // Every metadata document, for the consolidated copy (one read opens the store, over HTTP too).
  const documents: Record<string, unknown> = {};

  // Groups: the root and every folder of a nested name.
  const groups = new Set<string>(['']);
  for (const name of names) for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1)) groups.add(name.slice(0, at));
  // File metadata becomes the root group's attributes; from a Zarr source, its root attributes only
  // (the reader's zarr_format/groups/consolidated entries describe the source, not the data).
  const fileMetadata = options.sourceFormat === 'zarr' ? options.metadata?.attributes as Record<string, unknown> | undefined : options.metadata;
  const rootAttributes = fileMetadata && typeof fileMetadata === 'object' && Object.keys(fileMetadata).length > 0 ? jsonSafe(fileMetadata) : undefined;

  return createPlannedWriter({
    format: 'zarr',
    order: plans.map((plan) => plan.spec),
    async writeTensor(spec, chunks, signal) {
      const plan = plans.find((p) => p.spec.name === spec.name)!;
      const doc = version === 2 ? v2ArrayDoc(plan, compressor, level) : v3ArrayDoc(plan, compressor, level);
      documents[version === 2 ? `${spec.name}/.zarray` : spec.name] = doc;
      await put(version === 2 ? `${spec.name}/.zarray` : `${spec.name}/zarr.json`, encodeJson(doc));
      if (version === 2 && plan.attributes) {
        documents[`${spec.name}/.zattrs`] = plan.attributes;
        await put(`${spec.name}/.zattrs`, encodeJson(plan.attributes));
      }
      await writeArrayChunks(plan, chunks, version, compressor, level, put, signal);
      await put.flush();
    },
    async publish() {
      await put.flush();
      for (const group of [...groups].sort().reverse()) {
        const prefix = group === '' ? '' : `${group}/`;
        if (version === 2) {
          documents[`${prefix}.zgroup`] = { zarr_format: 2 };
          await put(`${prefix}.zgroup`, encodeJson({ zarr_format: 2 }));
          if (group === '' && rootAttributes) {
            documents['.zattrs'] = rootAttributes;
            await put('.zattrs', encodeJson(rootAttributes));
          }
          if (group === '') await put('.zmetadata', encodeJson({ zarr_consolidated_format: 1, metadata: documents }));
        } else {
          const doc = { zarr_format: 3, node_type: 'group', attributes: group === '' && rootAttributes ? rootAttributes : {} };
          if (group !== '') {
            documents[group] = doc;
            await put(`${prefix}zarr.json`, encodeJson(doc));
          } else {
            // zarr-python 3's inline consolidated metadata: every node below the root by path.
            await put('zarr.json', encodeJson({ ...doc, consolidated_metadata: { kind: 'inline', must_understand: false, metadata: documents } }));
          }
        }
      }
      await put.flush();
      await commit(building, target, existing !== undefined);
    },
    async discard() {
      await put.flush().catch(() => undefined);
      await localFolder(dirname(building)).removeTree(basename(building));
    },
  });
}

/** Keys encoded and written into the building folder, at most this many at once. */
const WRITES_IN_FLIGHT = 8;

/** A key's bytes, or how to make them (run within the key's slot, so compressing runs several at once). */
type KeyBytes = Uint8Array | (() => Promise<Uint8Array>);

/** A key writer: `put` returns once the key is queued (waiting while 8 are in flight); `flush` waits for all and throws the first failure. */
interface KeyWriter {
  (key: string, bytes: KeyBytes): Promise<void>;
  flush(): Promise<void>;
}

function keyWriter(root: string): KeyWriter {
  const local = localFolder(root);
  const folders = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const writeOne = async (key: string, bytes: KeyBytes) => {
    checkStoreKey(key);
    const data = typeof bytes === 'function' ? await bytes() : bytes;
    const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : '';
    if (!folders.has(folder)) {
      await local.makeFolder(folder);
      folders.add(folder);
    }
    // Blocking: a chunk file's open, write and close cost more as thread-pool hops than
    // as system calls (nothing here is fsynced: the folder is published by one rename).
    await local.writeInPlace(key, data, { blocking: true });
  };
  const put = (async (key: string, bytes: KeyBytes) => {
    if (failure !== undefined) throw failure;
    while (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    const promise: Promise<void> = writeOne(key, bytes).catch((error: unknown) => {
      failure ??= error;
    }).finally(() => inFlight.delete(promise));
    inFlight.add(promise);
  }) as KeyWriter;
  put.flush = async () => {
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  };
  return put;
}

/** Renames the built folder into place; an existing store is moved aside first and removed after. */
async function commit(building: string, target: string, replacing: boolean): Promise<void> {
  // building and aside are temporaries beside target: one folder, renames by name.
  const parent = localFolder(dirname(target));
  const [targetKey, buildingKey] = [basename(target), basename(building)];
  const aside = replacing ? basename(temporaryPathFor(target)) : undefined;
  try {
    if (aside) await parent.rename(targetKey, aside);
    await parent.rename(buildingKey, targetKey);
  } catch (error) {
    if (aside) await parent.rename(aside, targetKey).catch(() => undefined);
    await parent.removeTree(buildingKey);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new TensioError('ALREADY_EXISTS', `${target} appeared while the store was being written; not replacing it`, { format: 'zarr', path: target, cause: error });
    throw error;
  }
  if (aside) await parent.removeTree(aside);
}

function v2Compressor(compressor: ZarrCompressor, level: number | undefined): unknown {
  switch (compressor) {
    case 'none': return null;
    case 'default': return { id: 'blosc', cname: 'zstd', clevel: level ?? 3, shuffle: 2, blocksize: 0 };
    case 'blosc': return { id: 'blosc', cname: 'lz4', clevel: level ?? 5, shuffle: 1, blocksize: 0 };
    case 'zstd': return { id: 'zstd', level: level ?? 3 };
    case 'gzip': return { id: 'gzip', level: level ?? 1 };
    case 'zlib': return { id: 'zlib', level: level ?? 1 };
    case 'lz4': return { id: 'lz4', acceleration: 1 };
  }
}

function fillOf(plan: ArrayPlan): unknown {
  return plan.spec.dtype === 'bool' ? false : 0;
}

function v2ArrayDoc(plan: ArrayPlan, compressor: ZarrCompressor, level: number | undefined): unknown {
  return {
    zarr_format: 2, shape: plan.spec.shape, chunks: plan.chunks, dtype: zarrV2Dtype(plan.spec.dtype), compressor: v2Compressor(compressor, level),
    fill_value: fillOf(plan), order: 'C', filters: null, dimension_separator: '.',
  };
}

function v3Compressors(plan: ArrayPlan, compressor: ZarrCompressor, level: number | undefined): unknown[] {
  switch (compressor) {
    case 'none': return [];
    case 'default': return [{ name: 'blosc', configuration: { cname: 'zstd', clevel: level ?? 3, shuffle: 'bitshuffle', typesize: plan.size, blocksize: 0 } }];
    case 'blosc': return [{ name: 'blosc', configuration: { cname: 'lz4', clevel: level ?? 5, shuffle: 'shuffle', typesize: plan.size, blocksize: 0 } }];
    case 'zstd': return [{ name: 'zstd', configuration: { level: level ?? 3, checksum: false } }];
    case 'gzip': return [{ name: 'gzip', configuration: { level: level ?? 1 } }];
    default: return [];
  }
}

function v3ArrayDoc(plan: ArrayPlan, compressor: ZarrCompressor, level: number | undefined): unknown {
  const inner = [{ name: 'bytes', configuration: { endian: 'little' } }, ...v3Compressors(plan, compressor, level)];
  const codecs = plan.shards
    ? [{ name: 'sharding_indexed', configuration: { chunk_shape: plan.chunks, codecs: inner, index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }], index_location: 'end' } }]
    : inner;
  return {
    zarr_format: 3, node_type: 'array', shape: plan.spec.shape, data_type: zarrV3Dtype(plan.spec.dtype),
    chunk_grid: { name: 'regular', configuration: { chunk_shape: plan.shards ?? plan.chunks } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: fillOf(plan), codecs, attributes: plan.attributes ?? {}, storage_transformers: [],
  };
}

/**
 * Cuts one tensor's streamed bytes into bands (chunk rows, or shard rows) and writes
 * every chunk (or shard) of each band as it completes.
 */
async function writeArrayChunks(plan: ArrayPlan, chunks: AsyncIterable<Uint8Array>, version: 2 | 3, compressor: ZarrCompressor, level: number | undefined, put: KeyWriter, signal?: AbortSignal): Promise<void> {
  const { spec, size } = plan;
  const shape = spec.shape;
  const keyMeta = version === 2 ? { chunkKeyPrefix: false, chunkKeySeparator: '.' as const } : { chunkKeyPrefix: true, chunkKeySeparator: '/' as const };
  const outer = plan.shards ?? plan.chunks;
  const encode = (bytes: Uint8Array) => zarrEncodeChunk(compressor, bytes, level);
  if (shape.length === 0) {
    const parts: Uint8Array[] = [];
    for await (const piece of chunks) parts.push(piece.slice());
    const element = concat(parts, size);
    const key = `${spec.name}/${zarrChunkKey(keyMeta, [])}`;
    await put(key, plan.shards ? await encodeShard([element], [true], encode) : await encode(element));
    return;
  }
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) {
    for await (const _piece of chunks) { /* nothing to store */ }
    return;
  }
  const rowBytes = (total / shape[0]!) * size;
  const bandRows = outer[0]!;
  let bandIndex = 0;
  // A band gathered from pieces that do not hold it whole (a fresh buffer per band: the
  // keys queued from it are written after it is handed on).
  let band: Uint8Array | undefined;
  let filled = 0;
  for await (const piece of chunks) {
    let at = 0;
    let viewsQueued = false;
    while (at < piece.byteLength) {
      const bandBytes = Math.min(bandRows, shape[0]! - bandIndex * bandRows) * rowBytes;
      if (bandBytes <= 0) throw new TensioError('SIZE_MISMATCH', `zarr: ${spec.name} received more than its ${total * size} bytes`, { format: 'zarr' });
      if (filled === 0 && piece.byteLength - at >= bandBytes) {
        // The whole band is inside the piece: its chunks are cut from the piece itself.
        await writeBand(plan, piece.subarray(at, at + bandBytes), bandBytes / rowBytes, bandIndex, keyMeta, encode, put, signal);
        viewsQueued = true;
        bandIndex += 1;
        at += bandBytes;
        continue;
      }
      band ??= allocateUninitialized(bandBytes);
      const take = Math.min(piece.byteLength - at, bandBytes - filled);
      band.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === bandBytes) {
        await writeBand(plan, band, bandBytes / rowBytes, bandIndex, keyMeta, encode, put, signal);
        band = undefined;
        filled = 0;
        bandIndex += 1;
      }
    }
    // A stream may reuse its buffer once the next piece is asked for (convert's streams
    // do): every key cut from this piece is written first.
    if (viewsQueued) await put.flush();
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part.subarray(0, length - at), at);
    at += part.byteLength;
  }
  return out;
}

/** Copies the region of chunk `coords` (chunk shape `unit`) out of a band, padding past the array's edge with zeros. */
function extractChunk(band: Uint8Array, bandRows: number, shape: readonly number[], unit: readonly number[], coords: readonly number[], size: number, bandStartRow: number): Uint8Array {
  const out = new Uint8Array(unit.reduce((a, b) => a * b, size));
  const start = coords.map((c, axis) => c * unit[axis]! - (axis === 0 ? bandStartRow : 0));
  const extent = coords.map((c, axis) => Math.max(0, Math.min(unit[axis]!, (axis === 0 ? bandStartRow + bandRows : shape[axis]!) - c * unit[axis]!)));
  const bandShape = shape.map((side, axis) => (axis === 0 ? bandRows : side));
  copyBox({ bytes: out, shape: unit, start: unit.map(() => 0) }, { bytes: band, shape: bandShape, start }, extent, size);
  return out;
}

/** Every coordinate of a grid (C order). */
function gridCoords(grid: readonly number[]): number[][] {
  let all: number[][] = [[]];
  for (const side of grid) {
    const next: number[][] = [];
    for (const prefix of all) for (let c = 0; c < side; c += 1) next.push([...prefix, c]);
    all = next;
  }
  return all;
}

/**
 * Queues every chunk (or shard) of one band, each encoded in its writer slot. The band
 * (and any chunk that is a view of it) must stay unchanged until the keys are written.
 */
async function writeBand(plan: ArrayPlan, band: Uint8Array, rows: number, bandIndex: number, keyMeta: { chunkKeyPrefix: boolean; chunkKeySeparator: '/' | '.' }, encode: (bytes: Uint8Array) => Promise<Uint8Array>, put: KeyWriter, signal?: AbortSignal): Promise<void> {
  const { spec, size, chunks } = plan;
  const shape = spec.shape;
  const outer = plan.shards ?? chunks;
  const bandStartRow = bandIndex * outer[0]!;
  const otherGrid = zarrGridShape(shape.slice(1), outer.slice(1));
  for (const rest of gridCoords(otherGrid)) {
    if (signal?.aborted) throw new TensioError('ABORTED', 'operation aborted', { cause: signal.reason });
    const coords = [bandIndex, ...rest];
    const key = `${spec.name}/${zarrChunkKey(keyMeta, coords)}`;
    if (!plan.shards) {
      // A chunk of whole rows that fills its band is the band itself (no copy).
      const wholeBand = rows === chunks[0] && chunks.every((side, axis) => axis === 0 || side === shape[axis]);
      const chunk = wholeBand ? band : extractChunk(band, rows, shape, chunks, coords, size, bandStartRow);
      await put(key, () => encode(chunk));
      continue;
    }
    // A shard: its inner chunks in C order, those wholly past the array's edge left out.
    const perShard = outer.map((side, axis) => side / chunks[axis]!);
    const inner: Uint8Array[] = [];
    const present: boolean[] = [];
    for (const local of gridCoords(perShard)) {
      const global = local.map((l, axis) => coords[axis]! * perShard[axis]! + l);
      const inside = global.every((g, axis) => g * chunks[axis]! < shape[axis]!);
      present.push(inside);
      inner.push(inside ? extractChunk(band, rows, shape, chunks, global, size, bandStartRow) : new Uint8Array(0));
    }
    await put(key, () => encodeShard(inner, present, encode));
  }
}

/** A shard: encoded inner chunks back to back, then the index (offset, length as uint64 LE; missing = 2^64-1) and its crc32c. */
async function encodeShard(inner: readonly Uint8Array[], present: readonly boolean[], encode: (bytes: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array> {
  const encoded = await Promise.all(inner.map((bytes, i) => (present[i] ? encode(bytes) : Promise.resolve(undefined))));
  const dataBytes = encoded.reduce((sum, bytes) => sum + (bytes?.byteLength ?? 0), 0);
  const indexBytes = inner.length * 16;
  const out = new Uint8Array(dataBytes + indexBytes + 4);
  const view = new DataView(out.buffer);
  let at = 0;
  encoded.forEach((bytes, i) => {
    if (!bytes) {
      view.setBigUint64(dataBytes + i * 16, 0xffffffffffffffffn, true);
      view.setBigUint64(dataBytes + i * 16 + 8, 0xffffffffffffffffn, true);
      return;
    }
    out.set(bytes, at);
    view.setBigUint64(dataBytes + i * 16, BigInt(at), true);
    view.setBigUint64(dataBytes + i * 16 + 8, BigInt(bytes.byteLength), true);
    at += bytes.byteLength;
  });
  view.setUint32(dataBytes + indexBytes, await crc32c(out.subarray(dataBytes, dataBytes + indexBytes)), true);
  return out;
}

