/**
 * The shared body of every {@link TensorReader}: formats describe where each tensor's
 * bytes are, and this file implements `read`, slices and `stream` once.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES, MAX_TENSOR_BYTES } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';
import { allocateUninitialized } from '../core/memory.js';
import { readIntoFrom, type ByteSource } from '../storage/byte-source.js';
import { chunkedByteLength, readChunkedBytes, streamChunkedBytes, type ByteChunk } from '../storage/chunked-bytes.js';
import { itemSize, type DType } from '../core/dtype.js';
import { elementCount } from '../core/sizes.js';
import { checkMultiPartInfo, tensorPart, type TensorLayout, type TensorPartInfo } from './layouts.js';
import { readTensorSlice, resolveTensorSlice, sliceElementBytes, type SliceByteAccess, type TensorSlice } from './nd-slice.js';
import { UNSUPPORTED_TENSORS_KEY, type Metadata, type ReadPartOptions, type ReadTensorOptions, type StreamTensorOptions, type TensorInfo, type TensorReader, type UnsupportedTensor } from './types.js';
import { quoteInput } from '../core/quote.js';
import { giveBackStreamBuffer, readSpan, streamMapped, streamReadAhead, takeStreamBuffer } from './stream-span.js';
import { NextSpanReadAhead, nextSpanLookup, type SpanPlace } from './next-span-read-ahead.js';
import { NextSpanMapAhead } from './next-span-map-ahead.js';
import { defaultReadPopulate } from './read-populate.js';
import { placeAllInWasmMemory, placeInWasmMemory, type ReadIntoWasmMemoryOptions, type WasmMemoryLike, type WasmTensor } from './wasm-memory.js';

/**
 * Where a tensor's bytes are.
 *
 * - `span`: a contiguous range of a source already in tensio's layout (read and sliced
 *   without copies beyond the destination).
 * - `chunks`: an ordered list of chunks, each with its own stored range and codec
 *   (`src/storage/chunked-bytes.ts`): deflated zip members, zstd frames, Parquet pages,
 *   HDF5/Zarr chunks. The tensor's bytes (tensio's layout) are the concatenation of the
 *   chunks' bytes, so chunks are row bands along axis 0 (or finer runs in C order).
 *   `stream()` and row slices decode one chunk at a time in bounded memory, whatever the
 *   tensor's size; only `read()` of the whole tensor needs one buffer (≤ 4 GiB).
 * - `decode`: anything else (byte-swapped, Fortran order, strided views); the format
 *   produces the whole tensor in tensio's layout and slices are cut from it.
 */
export type TensorLocation =
  | { kind: 'span'; source: ByteSource; offset: number }
  | { kind: 'chunks'; chunks: readonly ByteChunk[]; readRegion?: RegionReader; allocate?: ResultAllocator }
  | { kind: 'decode'; decode(signal?: AbortSignal, options?: DecodeOptions): Promise<Uint8Array> };

/**
 * Where a whole read of a `chunks` location puts the tensor's bytes: a buffer of exactly
 * `length` bytes that nothing else holds, which the read overwrites entirely. A format
 * that knows more reads follow may hand out buffers it allocated together
 * (`model/result-reserve.ts`); default `allocateUninitialized`.
 */
export type ResultAllocator = (length: number) => Uint8Array;

/**
 * Reads the elements of an N-d box (`starts[axis] ≤ i < ends[axis]`, within the shape)
 * into `out` (exactly the box's C-order bytes; every byte written). A `chunks` location
 * whose chunks are an N-d grid (Zarr) gives one, so that N-d slices and row slices fetch
 * and decode only the chunks the box touches instead of whole row bands.
 */
export type RegionReader = (region: { readonly starts: readonly number[]; readonly ends: readonly number[] }, out: Uint8Array, signal?: AbortSignal) => Promise<void>;

/** What a `decode` location is asked for beyond the bytes. */
export interface DecodeOptions {
  /**
   * The caller asked for bytes in fresh memory (`read(name, { copy: true })`): a decode
   * that reads its bytes through another reader must pass it on, so that the result is
   * not a view over a memory mapping.
   */
  readonly copy?: boolean;
}

/** What a format hands to {@link createTensorReader}. */
export interface TensorReaderParts {
  format: string;
  path?: string;
  size: number;
  metadata: Metadata;
  tensors: readonly TensorInfo[];
  /** Where a tensor's bytes are; may be async (e.g. a zip member's local header is read first). */
  locate(info: TensorInfo): TensorLocation | Promise<TensorLocation>;
  /** Where one part of a multi-part tensor is (any location kind); needed when a tensor has `parts`. */
  locatePart?(info: TensorInfo, part: TensorPartInfo): TensorLocation | Promise<TensorLocation>;
  close?(): Promise<void>;
}

/** Resolves a `{start, end}` row slice against `rows`, Python-style (negatives count from the end). */
export function resolveRowSlice(slice: { start: number; end?: number }, rows: number, name: string): [number, number] {
  const clamp = (value: number) => Math.min(rows, Math.max(0, value < 0 ? rows + value : value));
  if (!Number.isInteger(slice.start) || (slice.end !== undefined && !Number.isInteger(slice.end))) {
    throw new TensioError('INVALID_SLICE', `slice of ${name}: start and end must be integers, got ${slice.start}..${String(slice.end)}`);
  }
  const start = clamp(slice.start);
  const end = Math.max(start, slice.end === undefined ? rows : clamp(slice.end));
  return [start, end];
}

/**
 * Builds a {@link TensorReader} from a format's description of its tensors.
 *
 * @example
 * ```ts
 * return createTensorReader({ format: 'npy', size: source.size, metadata: {}, tensors: [info],
 *   locate: () => ({ kind: 'span', source, offset: dataOffset }) });
 * ```
 */
export function createTensorReader(parts: TensorReaderParts): TensorReader {
  const byName = new Map<string, TensorInfo>();
  for (const info of parts.tensors) {
    // A multi-part tensor's info must add up before anything is read (sizes, sparse shapes).
    checkMultiPartInfo(info, parts.format);
    byName.set(info.name, info);
  }
  let closed = false;
  // Read-ahead across tensors for this reader's read-ahead streams; the tensor table is located on first use.
  let nextSpan: ((source: ByteSource, end: number) => SpanPlace | undefined) | undefined;
  const lookupNextSpan = (source: ByteSource, end: number) => (nextSpan ??= nextSpanLookup(spanPlaces()))(source, end);
  const acrossTensors = new NextSpanReadAhead(lookupNextSpan);
  // read() in file order: the next tensor mapped and populated ahead (next-span-map-ahead.ts).
  const mapAhead = new NextSpanMapAhead(lookupNextSpan, defaultReadPopulate);

  /**
   * Where every dense tensor's span is, per source, from locations the format gives at
   * once. A format that locates by reading (a zip member's local header: a promise) or
   * builds chunk lists (tables, compressed members) would pay for locating every tensor
   * ahead, so the first such location ends the listing with nothing listed (its streams
   * then read ahead within each tensor only); a `decode` location is cheap and skipped.
   */
  function spanPlaces(): Map<ByteSource, SpanPlace[]> {
    const places = new Map<ByteSource, SpanPlace[]>();
    for (const tensorInfo of parts.tensors) {
      if (tensorInfo.layout) continue;
      let location: TensorLocation | Promise<TensorLocation>;
      try {
        location = parts.locate(tensorInfo);
      } catch {
        continue; // Reported when that tensor is asked for.
      }
      if (location instanceof Promise) {
        location.catch(() => undefined);
        return new Map();
      }
      if (location.kind === 'chunks') return new Map();
      if (location.kind !== 'span') continue;
      const list = places.get(location.source) ?? [];
      list.push({ offset: location.offset, byteLength: tensorInfo.byteLength });
      places.set(location.source, list);
    }
    return places;
  }

  function info(name: string): TensorInfo {
    const found = byName.get(name);
    if (!found) {
      // A name the format listed as unsupported (a string array, a filter it lacks) says why, with the entry's own code.
      const listed = parts.metadata[UNSUPPORTED_TENSORS_KEY];
      const entry = Array.isArray(listed) ? (listed as UnsupportedTensor[]).find((candidate) => candidate.name === name) : undefined;
      if (entry) throw new TensioError(entry.code, `${parts.format}: ${quoteInput(name)} is not readable as a tensor: ${entry.reason}`, { format: parts.format, ...(parts.path ? { path: parts.path } : {}) });
      throw new TensioError('NOT_FOUND', `${parts.format}: no tensor named ${quoteInput(name)}${parts.path ? ` in ${parts.path}` : ''}`, { format: parts.format, ...(parts.path ? { path: parts.path } : {}) });
    }
    return found;
  }

  // Node cannot allocate more than MAX_TENSOR_BYTES in one buffer (a RangeError otherwise).
  function checkOneBuffer(name: string, byteLength: number): void {
    if (byteLength > MAX_TENSOR_BYTES) {
      throw new TensioError('LIMIT_EXCEEDED', `${parts.format}: ${name} is ${byteLength} bytes, more than one buffer holds (${MAX_TENSOR_BYTES}); read a slice or stream it`, { format: parts.format });
    }
  }

  function checkOpen(): void {
    if (closed) throw new TensioError('INVALID_STATE', `${parts.format}: reader is closed`, { format: parts.format });
  }

  /** A stream asked for its next chunk after close(): its file handle is gone. */
  function checkStillOpen(): void {
    if (closed) throw new TensioError('INVALID_STATE', `${parts.format}: the reader was closed during a stream`, { format: parts.format });
  }

  /** A multi-part tensor has no bytes of its own: its parts are read one by one. */
  function checkDense(tensorInfo: TensorInfo): void {
    if (tensorInfo.layout) {
      const partNames = (tensorInfo.parts ?? []).map((part) => part.name).join(', ');
      throw new TensioError('UNSUPPORTED_FEATURE', `${parts.format}: ${tensorInfo.name} is a ${layoutName(tensorInfo.layout)} tensor made of parts (${partNames}): read them with readPart(), or densify() it`, { format: parts.format });
    }
  }

  async function read(name: string, options: ReadTensorOptions = {}): Promise<Tensor> {
    checkOpen();
    throwIfAborted(options.signal);
    const tensorInfo = info(name);
    checkDense(tensorInfo);
    return readArray(tensorInfo, await locateChecked(tensorInfo, tensorInfo, () => parts.locate(tensorInfo)), options, true);
  }

  async function* stream(name: string, options: StreamTensorOptions = {}): AsyncGenerator<Uint8Array> {
    checkOpen();
    const tensorInfo = info(name);
    checkDense(tensorInfo);
    yield* streamArray(tensorInfo, await locateChecked(tensorInfo, tensorInfo, () => parts.locate(tensorInfo)), options);
  }

  async function locatePart(name: string, part: string): Promise<{ view: ArrayView; location: TensorLocation }> {
    checkOpen();
    const tensorInfo = info(name);
    const partInfo = tensorPart(tensorInfo, part, parts.format);
    const view: ArrayView = { name: `${tensorInfo.name}/${partInfo.name}`, dtype: partInfo.dtype, shape: partInfo.shape, byteLength: partInfo.byteLength };
    if (!parts.locatePart) throw new TensioError('UNSUPPORTED_FEATURE', `${parts.format}: this reader cannot locate the parts of ${tensorInfo.name}`, { format: parts.format });
    const locator = parts.locatePart;
    return { view, location: await locateChecked(tensorInfo, view, () => locator(tensorInfo, partInfo)) };
  }

  async function readPart(name: string, part: string, options: ReadPartOptions = {}): Promise<Tensor> {
    throwIfAborted(options.signal);
    const { view, location } = await locatePart(name, part);
    return readArray(view, location, options);
  }

  async function readIntoWasmMemory(name: string, memory: WasmMemoryLike, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor> {
    checkOpen();
    throwIfAborted(options.signal);
    const tensorInfo = info(name);
    checkDense(tensorInfo);
    checkOneBuffer(name, tensorInfo.byteLength);
    const location = await locateChecked(tensorInfo, tensorInfo, () => parts.locate(tensorInfo));
    const readOptions = options.signal ? { signal: options.signal } : {};
    return placeInWasmMemory(tensorInfo, location, memory, async () => (await readArray(tensorInfo, location, readOptions)).data, options);
  }

  async function readAllIntoWasmMemory(names: readonly string[], memory: WasmMemoryLike, options: ReadIntoWasmMemoryOptions = {}): Promise<WasmTensor[]> {
    checkOpen();
    throwIfAborted(options.signal);
    const readOptions = options.signal ? { signal: options.signal } : {};
    const items = [];
    for (const name of names) {
      const tensorInfo = info(name);
      checkDense(tensorInfo);
      checkOneBuffer(name, tensorInfo.byteLength);
      const location = await locateChecked(tensorInfo, tensorInfo, () => parts.locate(tensorInfo));
      items.push({ info: tensorInfo, location, readBytes: async () => (await readArray(tensorInfo, location, readOptions)).data });
    }
    return placeAllInWasmMemory(items, memory, options);
  }

  async function* streamPart(name: string, part: string, options: StreamTensorOptions = {}): AsyncGenerator<Uint8Array> {
    const { view, location } = await locatePart(name, part);
    yield* streamArray(view, location, options);
  }

  /** The format's location, with a chunk list checked against the array's byte length. */
  async function locateChecked(tensorInfo: TensorInfo, view: ArrayView, locate: () => TensorLocation | Promise<TensorLocation>): Promise<TensorLocation> {
    const location = await locate();
    if (location.kind === 'chunks') {
      const total = chunkedByteLength(location.chunks);
      if (total !== view.byteLength) {
        throw new TensioError('SIZE_MISMATCH', `${parts.format}: the chunks of ${view.name} hold ${total} bytes, ${tensorInfo === view ? 'the tensor' : 'the part'} needs ${view.byteLength}`, { format: parts.format });
      }
    }
    return location;
  }

  /**
   * Bytes `[start, end)` of an array, wherever they are. A span of a source that maps
   * (a local file with the native addon) comes back as a view of a mapping unless the
   * caller asked for a copy or the bytes are not aligned for the dtype's typed array.
   */
  async function readRange(location: TensorLocation, start: number, end: number, signal?: AbortSignal, mapping?: SpanMapping): Promise<Uint8Array> {
    if (location.kind === 'span') {
      const offset = location.offset + start;
      if (mapping && !mapping.copy && location.source.map && offset % mapping.alignment === 0) {
        throwIfAborted(signal);
        const populate = mapping.populate ?? defaultReadPopulate();
        // A whole tensor read in file order may have been mapped (and its populate job queued) by the read before.
        const ahead = mapping.mapAhead === true && populate;
        const taken = ahead ? mapAhead.take(location.source, offset, end - start) : undefined;
        const mapped = taken ?? location.source.map(offset, end - start);
        if (mapped) {
          // Fire and forget: a truncation shows as faulted() of the view (and memoryMapPopulateError), as for any mapping.
          if (!taken && populate) mapped.populate?.()?.catch(() => undefined);
          if (ahead) mapAhead.afterRead(location.source, offset, end - start);
          return mapped.bytes;
        }
      }
      return readSpan(location.source, offset, end - start, signal, mapping?.offThread === true);
    }
    if (location.kind === 'chunks') return readChunkedBytes(location.chunks, start, end, signal, start === 0 ? location.allocate : undefined);
    const whole = await location.decode(signal, mapping?.copy ? { copy: true } : undefined);
    return start === 0 && end === whole.byteLength ? whole : whole.slice(start, end);
  }

  /** `fromRead`: called by `read()`, whose whole-tensor reads may take and give a mapping made ahead (next-span-map-ahead.ts). */
  async function readArray(view: ArrayView, location: TensorLocation, options: ReadPartOptions, fromRead = false): Promise<Tensor> {
    const mapping: SpanMapping = { copy: options.copy === true, alignment: viewAlignment(view.dtype), ...(options.populate !== undefined ? { populate: options.populate } : {}), offThread: options.offThread === true, mapAhead: fromRead && !options.slice && !options.elements };
    // A decode always builds the whole array, even for a slice.
    if ((!options.slice && !options.elements) || location.kind === 'decode') checkOneBuffer(view.name, view.byteLength);
    if (options.elements) {
      if (options.slice) throw new TensioError('INVALID_SLICE', `${parts.format}: ${view.name}: give a row slice or an element range, not both`, { format: parts.format });
      const size = itemSize(view.dtype);
      const count = elementCount(view.shape, parts.format);
      const { start, end } = options.elements;
      if (size === undefined) throw new TensioError('INVALID_SLICE', `${parts.format}: elements of ${view.name} (${view.dtype}) do not start on byte boundaries`, { format: parts.format });
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > count) {
        throw new TensioError('INVALID_SLICE', `${parts.format}: element range ${start}..${end} is outside ${view.name} (${count} elements)`, { format: parts.format });
      }
      checkOneBuffer(view.name, (end - start) * size);
      return { dtype: view.dtype, shape: [end - start], data: await readRange(location, start * size, end * size, options.signal, mapping) };
    }
    if (!options.slice && location.kind === 'chunks' && location.readRegion && view.shape.length > 0) {
      // A grid format reads the whole array as one box: its chunks concurrently, straight into the result.
      const data = allocateUninitialized(view.byteLength);
      await location.readRegion({ starts: view.shape.map(() => 0), ends: view.shape }, data, options.signal);
      return { dtype: view.dtype, shape: [...view.shape], data };
    }
    if (!options.slice) return { dtype: view.dtype, shape: [...view.shape], data: await readRange(location, 0, view.byteLength, options.signal, mapping) };
    if (Array.isArray(options.slice)) return readSliced(view, location, options.slice as TensorSlice, options.signal);
    if (view.shape.length === 0) {
      throw new TensioError('INVALID_SLICE', `${parts.format}: cannot slice the 0-d tensor ${view.name}`, { format: parts.format });
    }
    const rows = view.shape[0]!;
    const [start, end] = resolveRowSlice(options.slice as { start: number; end?: number }, rows, view.name);
    const rowBytes = rows === 0 ? 0 : view.byteLength / rows;
    if (!Number.isInteger(rowBytes)) {
      throw new TensioError('INVALID_SLICE', `${parts.format}: rows of ${view.name} (${view.dtype}) do not start on byte boundaries`, { format: parts.format });
    }
    const shape = [end - start, ...view.shape.slice(1)];
    checkOneBuffer(view.name, (end - start) * rowBytes);
    if (location.kind === 'chunks' && location.readRegion) {
      const data = allocateUninitialized((end - start) * rowBytes);
      await location.readRegion({ starts: [start, ...view.shape.slice(1).map(() => 0)], ends: [end, ...view.shape.slice(1)] }, data, options.signal);
      return { dtype: view.dtype, shape, data };
    }
    return { dtype: view.dtype, shape, data: await readRange(location, start * rowBytes, end * rowBytes, options.signal, mapping) };
  }

  /** An N-d slice (`src/model/nd-slice.ts`): exact runs from a span, bounded windows otherwise. */
  async function readSliced(view: ArrayView, location: TensorLocation, slice: TensorSlice, signal?: AbortSignal): Promise<Tensor> {
    const resolved = resolveTensorSlice(slice, view.shape, view.name, parts.format);
    checkOneBuffer(view.name, resolved.shape.reduce((product, size) => product * size, sliceElementBytes(view, parts.format)));
    if (location.kind === 'chunks' && location.readRegion) {
      const data = allocateUninitialized(resolved.shape.reduce((product, size) => product * size, sliceElementBytes(view, parts.format)));
      await location.readRegion(resolved, data, signal);
      return { dtype: view.dtype, shape: [...resolved.shape], data };
    }
    let access: SliceByteAccess;
    if (location.kind === 'span') {
      access = { kind: 'exact', readInto: (target, at, abort) => readIntoFrom(location.source, target, location.offset + at, abort ? { signal: abort } : undefined) };
    } else if (location.kind === 'chunks') {
      access = { kind: 'range', readRange: (start, end, abort) => readChunkedBytes(location.chunks, start, end, abort) };
    } else {
      const whole = await location.decode(signal);
      access = { kind: 'range', readRange: async (start, end) => whole.subarray(start, end) };
    }
    return { dtype: view.dtype, shape: [...resolved.shape], data: await readTensorSlice(view, resolved, access, parts.format, signal) };
  }

  async function* streamArray(view: ArrayView, location: TensorLocation, options: StreamTensorOptions): AsyncGenerator<Uint8Array> {
    const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES);
    if (location.kind === 'chunks') {
      // One chunk decoded at a time; pieces are fresh buffers, so reuseBuffer has nothing to reuse.
      yield* streamChunkedBytes(location.chunks, { pieceBytes: chunkBytes, ...(options.signal ? { signal: options.signal } : {}) });
      return;
    }
    if (location.kind === 'decode') {
      checkOneBuffer(view.name, view.byteLength);
      const whole = await location.decode(options.signal);
      for (let at = 0; at < whole.byteLength; at += chunkBytes) yield whole.subarray(at, at + chunkBytes);
      return;
    }
    const total = view.byteLength;
    // The rule of StreamTensorOptions.copy: a reused buffer is filled by reads unless views were asked for.
    if (location.source.map && (options.copy === false || (options.copy === undefined && !options.reuseBuffer))) {
      // Views of mapping windows: no copy at all, and no buffer to reuse.
      yield* streamMapped(location.source, location.offset, total, chunkBytes, options.signal);
      return;
    }
    if (options.reuseBuffer && options.readAhead !== false && location.source.readsOffThread && location.source.readInto && total > 0) {
      yield* streamReadAhead(location.source, location.offset, total, chunkBytes, () => closed, options.signal, acrossTensors);
      return;
    }
    const reused = options.reuseBuffer && total > 0 ? takeStreamBuffer(Math.min(chunkBytes, total)) : undefined;
    try {
      for (let at = 0; at < total; at += chunkBytes) {
        throwIfAborted(options.signal);
        checkStillOpen();
        const length = Math.min(chunkBytes, total - at);
        const chunk = reused ? reused.subarray(0, length) : allocateUninitialized(length);
        // The hint lets a remote source fetch the rest of the tensor with one streamed request.
        await readIntoFrom(location.source, chunk, location.offset + at, { sequentialUntil: location.offset + total, ...(options.signal ? { signal: options.signal } : {}) });
        yield chunk;
      }
    } finally {
      if (reused) giveBackStreamBuffer(reused);
    }
  }

  const reader: TensorReader = {
    format: parts.format,
    ...(parts.path !== undefined ? { path: parts.path } : {}),
    size: parts.size,
    metadata: parts.metadata,
    tensors: parts.tensors,
    info,
    has: (name) => byName.has(name),
    read,
    stream,
    readPart,
    readIntoWasmMemory,
    readAllIntoWasmMemory,
    streamPart,
    async close() {
      if (closed) return;
      closed = true;
      mapAhead.close();
      // A speculative read of the next tensor settles before the file handle goes.
      await acrossTensors.close();
      await parts.close?.();
    },
    async [Symbol.asyncDispose]() {
      await reader.close();
    },
  };
  return reader;
}

/** How a span read may use a mapping: not when a copy was asked for, and only at an offset the dtype's typed array can view. */
interface SpanMapping {
  readonly copy: boolean;
  readonly alignment: number;
  /** Populate a mapped view's page tables ahead of the caller (`ReadTensorOptions.populate`; undefined: `defaultReadPopulate` in read-populate.ts). */
  readonly populate?: boolean;
  /** Read copies on a worker thread (`ReadTensorOptions.offThread`). */
  readonly offThread?: boolean;
  /** A `read()` of a whole tensor: it may take and give a mapping made ahead (`next-span-map-ahead.ts`). */
  readonly mapAhead?: boolean;
}


/**
 * The alignment a mapped view needs so that `typedView` works on it without a copy:
 * the element size, up to 8 (complex types are viewed as pairs of floats). Raw-byte
 * dtypes (bf16, f8, blocks) need none beyond their element size.
 */
function viewAlignment(dtype: DType): number {
  const size = itemSize(dtype);
  if (size === undefined) return 1;
  return Math.min(size, 8);
}

/** What reading needs to know of a tensor or of one part of it. */
interface ArrayView {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

function layoutName(layout: TensorLayout): string {
  return layout.kind === 'other' ? layout.name : layout.kind;
}
