/**
 * Slices along any dimensions (`read(name, { slice: [[0, 8], null, [128, 256]] })`), as
 * safetensors' `get_slice(name)[0:8, :, 128:256]` and numpy's basic slicing give them.
 * A slice is cut into the contiguous byte runs of the tensor it covers (runs that touch
 * are coalesced); spans read exactly those bytes, other locations read bounded windows.
 */
import { itemSize, type DType } from '../core/dtype.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { quoteValue } from '../core/quote.js';

/** One dimension of an N-d slice: `[start, end)` (Python-style, negatives from the end), `[start]` to the end, or `null` for all of it. */
export type DimensionSlice = readonly [number, number] | readonly [number] | null;

/** An N-d slice: one entry per leading dimension; dimensions left out are taken whole. */
export type TensorSlice = readonly DimensionSlice[];

/** A slice resolved against a shape: per dimension `[start, end)` within bounds, and the result's shape. */
export interface ResolvedSlice {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly shape: readonly number[];
}

/** Largest window read at once from a location that cannot read exact runs cheaply (compressed chunks). */
const SLICE_WINDOW_BYTES = 8 * 2 ** 20;

/**
 * Resolves an N-d slice against a shape, clamping as Python does (`x[5:100]` of 10 rows
 * is rows 5..10; an end before the start is empty).
 *
 * @example
 * ```ts
 * resolveTensorSlice([[0, 8], null, [-2]], [16, 3, 10], 'w'); // starts [0,0,8], ends [8,3,10], shape [8,3,2]
 * ```
 */
export function resolveTensorSlice(slice: TensorSlice, shape: readonly number[], name: string, format = 'tensio'): ResolvedSlice {
  if (slice.length > shape.length) {
    throw new TensioError('INVALID_SLICE', `${format}: slice of ${name} has ${slice.length} dimensions, the tensor ${shape.length}`, { format });
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const out: number[] = [];
  shape.forEach((size, axis) => {
    const entry = slice[axis];
    if (entry === null || entry === undefined) {
      starts.push(0);
      ends.push(size);
      out.push(size);
      return;
    }
    if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2 || !entry.every((value) => Number.isSafeInteger(value))) {
      throw new TensioError('INVALID_SLICE', `${format}: slice of ${name}, dimension ${axis}: expected [start, end], [start] or null, got ${quoteValue(entry)}`, { format });
    }
    const clamp = (value: number) => Math.min(size, Math.max(0, value < 0 ? size + value : value));
    const start = clamp(entry[0]!);
    const end = Math.max(start, entry.length === 2 ? clamp(entry[1]!) : size);
    starts.push(start);
    ends.push(end);
    out.push(end - start);
  });
  return { starts, ends, shape: out };
}

/**
 * The contiguous byte runs `[offset, length]` (relative to the tensor's first byte) that
 * a resolved slice covers, in C order; runs that touch are joined.
 *
 * @example
 * ```ts
 * [...tensorSliceRuns([4, 6], 4, { starts: [1, 2], ends: [3, 4], shape: [2, 2] })]; // [[32, 8], [56, 8]]
 * ```
 */
export function* tensorSliceRuns(shape: readonly number[], elementBytes: number, resolved: ResolvedSlice): Generator<[number, number]> {
  const rank = shape.length;
  if (resolved.shape.some((size) => size === 0)) return;
  if (rank === 0) {
    yield [0, elementBytes];
    return;
  }
  // Strides in bytes, and the innermost axes the slice takes whole: they fold into one run.
  const strides = new Array<number>(rank);
  let stride = elementBytes;
  for (let axis = rank - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  let inner = rank - 1;
  while (inner > 0 && resolved.starts[inner] === 0 && resolved.ends[inner] === shape[inner]) inner--;
  const runLength = (resolved.ends[inner]! - resolved.starts[inner]!) * strides[inner]!;
  // Odometer over the axes outside the run.
  const index = resolved.starts.slice(0, inner);
  let pending: [number, number] | undefined;
  for (;;) {
    let offset = resolved.starts[inner]! * strides[inner]!;
    for (let axis = 0; axis < inner; axis++) offset += index[axis]! * strides[axis]!;
    if (pending && pending[0] + pending[1] === offset) pending[1] += runLength;
    else {
      if (pending) yield pending;
      pending = [offset, runLength];
    }
    let axis = inner - 1;
    while (axis >= 0) {
      index[axis]! += 1;
      if (index[axis]! < resolved.ends[axis]!) break;
      index[axis] = resolved.starts[axis]!;
      axis--;
    }
    if (axis < 0) break;
  }
  if (pending) yield pending;
}

/** How {@link readTensorSlice} gets bytes: exactly into a buffer (spans), or as a range it copies from. */
export type SliceByteAccess =
  | { kind: 'exact'; readInto(target: Uint8Array, offset: number, signal?: AbortSignal): Promise<void> }
  | { kind: 'range'; readRange(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> };

/**
 * Reads the bytes of an N-d slice into one new buffer: exact runs from a span, bounded
 * windows (at most 8 MiB, or one run) from other locations.
 *
 * @example
 * ```ts
 * const data = await readTensorSlice(view, resolved, { kind: 'exact', readInto: (t, at) => readIntoFrom(source, t, base + at) });
 * ```
 */
export async function readTensorSlice(
  view: { readonly name: string; readonly dtype: DType; readonly shape: readonly number[] },
  resolved: ResolvedSlice,
  access: SliceByteAccess,
  format = 'tensio',
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const elementBytes = sliceElementBytes(view, format);
  const total = resolved.shape.reduce((product, size) => product * size, elementBytes);
  const out = allocateUninitialized(total);
  let written = 0;
  if (access.kind === 'exact') {
    for (const [offset, length] of tensorSliceRuns(view.shape, elementBytes, resolved)) {
      throwIfAborted(signal);
      await access.readInto(out.subarray(written, written + length), offset, signal);
      written += length;
    }
    return out;
  }
  // Group runs into windows so a compressed location is not decoded once per run.
  let window: [number, number][] = [];
  const flush = async (): Promise<void> => {
    if (window.length === 0) return;
    throwIfAborted(signal);
    const start = window[0]![0];
    const end = window[window.length - 1]![0] + window[window.length - 1]![1];
    const bytes = await access.readRange(start, end, signal);
    for (const [offset, length] of window) {
      out.set(bytes.subarray(offset - start, offset - start + length), written);
      written += length;
    }
    window = [];
  };
  for (const run of tensorSliceRuns(view.shape, elementBytes, resolved)) {
    if (window.length > 0 && run[0] + run[1] - window[0]![0] > SLICE_WINDOW_BYTES) await flush();
    window.push(run);
  }
  await flush();
  return out;
}

/** Bytes per element for slicing; types packed below a byte (or in blocks) slice by rows only. */
export function sliceElementBytes(view: { readonly name: string; readonly dtype: DType }, format = 'tensio'): number {
  const bytes = itemSize(view.dtype);
  if (bytes === undefined) {
    throw new TensioError('INVALID_SLICE', `${format}: elements of ${view.name} (${view.dtype}) do not start on byte boundaries; slice its rows ({ start, end }) instead`, { format });
  }
  return bytes;
}
