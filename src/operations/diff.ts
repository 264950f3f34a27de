/**
 * `diffTensorFiles(a, b)`: what differs between two tensor files of any formats —
 * tensors added or removed, dtype or shape changed, content changed (exactly, or
 * beyond `atol`/`rtol` for floats), with the largest difference and where it is.
 * Both tensors stream side by side chunk by chunk, so memory stays at two chunks.
 */
import type { S3Options } from '../storage/s3-client.js';
import type { DType } from '../core/dtype.js';
import { throwIfAborted, TensioError } from '../core/errors.js';
import { castFloatElements, isCastableFloat } from '../core/float-cast.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import type { Progress, TensorInfo, TensorReader } from '../model/types.js';
import type { SourceInput } from '../storage/source-input.js';
import { openTensorFile, type OpenTensorFileOptions } from './open.js';

/** Options for {@link diffTensorFiles}. */
export interface DiffOptions {
  /**
   * Absolute tolerance for float tensors: elements a, b are equal when
   * `|a − b| <= atol + rtol × |b|` (numpy's `allclose`). Default 0. With both
   * tolerances 0, tensors must be identical byte for byte.
   */
  atol?: number;
  /** Relative tolerance for float tensors (see `atol`). Default 0. */
  rtol?: number;
  /** Options for opening A and B (e.g. `{ format }`). */
  openA?: OpenTensorFileOptions;
  openB?: OpenTensorFileOptions;
  /** For `s3://` inputs (both; `openA`/`openB` may set their own): endpoint, region, profile, credentials, anonymous. */
  s3?: S3Options;
  /** Bytes per streamed chunk of each file, default 8 MiB. */
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Bytes of A compared so far, out of the bytes of tensors both files hold alike. */
  onProgress?: (progress: Progress) => void;
}

/** One side of a diff. */
export interface DiffSide {
  readonly path: string;
  readonly format: string;
  readonly tensors: number;
}

/** A tensor present in one file only. */
export interface DiffTensorSummary {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** A tensor whose dtype or shape changed (content is not compared). */
export interface DiffChangedSpec {
  readonly name: string;
  readonly a: { readonly dtype: DType; readonly shape: readonly number[] };
  readonly b: { readonly dtype: DType; readonly shape: readonly number[] };
}

/** Where the largest difference of a tensor is, and the two values there. */
export interface DiffLocation {
  /** Flat (C-order) element index (a byte index for packed sub-byte and opaque types, with no coordinates). */
  readonly index: number;
  /** The same as coordinates, one per dimension. */
  readonly coordinates: readonly number[];
  /** The values in A and B (numbers; 64-bit integers as decimal strings; other types as hex bytes). */
  readonly a: number | string;
  readonly b: number | string;
}

/** A tensor of the same dtype and shape in both files whose content differs. */
export interface DiffChangedContent {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Elements that differ (beyond the tolerance, for floats); bytes for packed sub-byte and opaque types. */
  readonly elementsDiffering: number;
  readonly elements: number;
  /** Largest |a − b| among them (floats and integers); undefined for types without arithmetic here. */
  readonly maxAbsDiff?: number;
  /** The element with the largest difference (the first differing element for other types). */
  readonly at: DiffLocation;
}

/** What {@link diffTensorFiles} found. */
export interface DiffReport {
  /** True when both files hold the same tensor names with equal dtype, shape and content. Metadata is not compared. */
  readonly identical: boolean;
  readonly a: DiffSide;
  readonly b: DiffSide;
  readonly atol: number;
  readonly rtol: number;
  /** In B only. */
  readonly added: readonly DiffTensorSummary[];
  /** In A only. */
  readonly removed: readonly DiffTensorSummary[];
  readonly changedSpec: readonly DiffChangedSpec[];
  readonly changedContent: readonly DiffChangedContent[];
  /** Tensors equal in both. */
  readonly same: number;
}

/**
 * Compares two tensor files of any formats, streaming both side by side.
 *
 * @example
 * ```ts
 * const report = await diffTensorFiles('model.safetensors', 'model.npz', { atol: 1e-6 });
 * if (!report.identical) console.log(report.changedContent.map((c) => `${c.name}: ${c.maxAbsDiff}`));
 * ```
 */
export async function diffTensorFiles(a: SourceInput, b: SourceInput, options: DiffOptions = {}): Promise<DiffReport> {
  const atol = checkTolerance(options.atol, 'atol');
  const rtol = checkTolerance(options.rtol, 'rtol');
  const readerA = await openTensorFile(a, { ...(options.s3 ? { s3: options.s3 } : {}), ...options.openA, ...(options.signal ? { signal: options.signal } : {}) });
  try {
    const readerB = await openTensorFile(b, { ...(options.s3 ? { s3: options.s3 } : {}), ...options.openB, ...(options.signal ? { signal: options.signal } : {}) });
    try {
      return await diffTensorReaders(readerA, readerB, { ...options, atol, rtol });
    } finally {
      await readerB.close();
    }
  } finally {
    await readerA.close();
  }
}

/**
 * {@link diffTensorFiles} over two open readers.
 *
 * @example
 * ```ts
 * const report = await diffTensorReaders(readerA, readerB);
 * ```
 */
export async function diffTensorReaders(a: TensorReader, b: TensorReader, options: DiffOptions = {}): Promise<DiffReport> {
  const atol = checkTolerance(options.atol, 'atol');
  const rtol = checkTolerance(options.rtol, 'rtol');
  const added: DiffTensorSummary[] = b.tensors.filter((info) => !a.has(info.name)).map(summary);
  const removed: DiffTensorSummary[] = a.tensors.filter((info) => !b.has(info.name)).map(summary);
  const changedSpec: DiffChangedSpec[] = [];
  const comparable: [TensorInfo, TensorInfo][] = [];
  for (const infoA of a.tensors) {
    if (!b.has(infoA.name)) continue;
    const infoB = b.info(infoA.name);
    if (infoA.dtype !== infoB.dtype || !sameShape(infoA.shape, infoB.shape)) {
      changedSpec.push({ name: infoA.name, a: { dtype: infoA.dtype, shape: infoA.shape }, b: { dtype: infoB.dtype, shape: infoB.shape } });
    } else comparable.push([infoA, infoB]);
  }
  const total = comparable.reduce((sum, [info]) => sum + info.byteLength, 0);
  let done = 0;
  const changedContent: DiffChangedContent[] = [];
  for (const [infoA, infoB] of comparable) {
    throwIfAborted(options.signal);
    const found = await compareTensor(a, b, infoA, infoB, atol, rtol, options, (bytes) => {
      done += bytes;
      options.onProgress?.({ done, total, item: infoA.name });
    });
    if (found) changedContent.push(found);
  }
  return {
    identical: added.length === 0 && removed.length === 0 && changedSpec.length === 0 && changedContent.length === 0,
    a: side(a),
    b: side(b),
    atol,
    rtol,
    added,
    removed,
    changedSpec,
    changedContent,
    same: comparable.length - changedContent.length,
  };
}

function checkTolerance(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new TensioError('INVALID_ARGUMENT', `diff: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function summary(info: TensorInfo): DiffTensorSummary {
  return { name: info.name, dtype: info.dtype, shape: info.shape };
}

function side(reader: TensorReader): DiffSide {
  return { path: reader.path ?? '(source)', format: reader.format, tensors: reader.tensors.length };
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((size, i) => size === y[i]);
}

/** Bytes per element for element-wise comparison (0: compare bytes only, e.g. opaque or sub-byte types). */
function itemBytesOf(info: TensorInfo): number {
  const count = info.shape.reduce((product, size) => product * size, 1);
  if (count === 0) return 0;
  const bytes = info.byteLength / count;
  return Number.isInteger(bytes) ? bytes : 0;
}

/**
 * Yields the pieces of two equally long byte streams that line up, each a whole number
 * of `unit` bytes (pieces split across chunks are joined in a small carry buffer).
 */
async function* alignedPairs(streamA: AsyncIterable<Uint8Array>, streamB: AsyncIterable<Uint8Array>, unit: number): AsyncGenerator<[Uint8Array, Uint8Array]> {
  const iteratorA = streamA[Symbol.asyncIterator]();
  const iteratorB = streamB[Symbol.asyncIterator]();
  let chunkA: Uint8Array = new Uint8Array(0);
  let chunkB: Uint8Array = new Uint8Array(0);
  const carryA = new Uint8Array(unit);
  const carryB = new Uint8Array(unit);
  try {
    for (;;) {
      if (chunkA.byteLength === 0) {
        const next = await iteratorA.next();
        if (!next.done) chunkA = next.value;
      }
      if (chunkB.byteLength === 0) {
        const next = await iteratorB.next();
        if (!next.done) chunkB = next.value;
      }
      if (chunkA.byteLength === 0 && chunkB.byteLength === 0) return;
      if (chunkA.byteLength === 0 || chunkB.byteLength === 0) {
        throw new TensioError('SIZE_MISMATCH', 'diff: the two tensors streamed different byte counts');
      }
      const common = Math.min(chunkA.byteLength, chunkB.byteLength);
      const whole = common - (common % unit);
      if (whole > 0) {
        yield [chunkA.subarray(0, whole), chunkB.subarray(0, whole)];
        chunkA = chunkA.subarray(whole);
        chunkB = chunkB.subarray(whole);
        continue;
      }
      // Less than one element left in one of the chunks: gather one element on each side.
      const pieceA = await gather(chunkA, iteratorA, carryA);
      const pieceB = await gather(chunkB, iteratorB, carryB);
      chunkA = pieceA.rest;
      chunkB = pieceB.rest;
      yield [carryA, carryB];
    }
  } finally {
    await iteratorA.return?.();
    await iteratorB.return?.();
  }
}

/** Fills `carry` with the next element, starting with `chunk` and pulling more chunks as needed. */
async function gather(chunk: Uint8Array, iterator: AsyncIterator<Uint8Array>, carry: Uint8Array): Promise<{ rest: Uint8Array }> {
  let filled = 0;
  let current = chunk;
  for (;;) {
    const take = Math.min(carry.byteLength - filled, current.byteLength);
    carry.set(current.subarray(0, take), filled);
    filled += take;
    current = current.subarray(take);
    if (filled === carry.byteLength) return { rest: current };
    const next = await iterator.next();
    if (next.done) throw new TensioError('SIZE_MISMATCH', 'diff: a tensor stream ended inside an element');
    current = next.value;
  }
}

/** Float values of a piece as a Float64Array view (float64 as is; other floats widened exactly through float32). */
class FloatDecoder {
  private widened = new Uint8Array(0);

  constructor(private readonly dtype: DType) {}

  values(piece: Uint8Array, count: number): Float64Array {
    if (this.dtype === 'float64') {
      if (piece.byteOffset % 8 === 0) return new Float64Array(piece.buffer, piece.byteOffset, count);
      return new Float64Array(piece.slice(0, count * 8).buffer);
    }
    if (this.widened.byteLength < count * 8) this.widened = new Uint8Array(count * 8);
    // float32 → float64 is exact; narrower floats widen exactly too.
    castFloatElements(piece, this.dtype, this.widened, 'float64', count);
    return new Float64Array(this.widened.buffer, 0, count);
  }
}

/** Reads one element as a number, a decimal string (64-bit integers) or hex bytes. */
function elementValue(piece: Uint8Array, index: number, itemBytes: number, dtype: DType): number | string {
  const bytes = piece.subarray(index * itemBytes, (index + 1) * itemBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'bool': case 'uint8': return view.getUint8(0);
    case 'int8': return view.getInt8(0);
    case 'uint16': return view.getUint16(0, true);
    case 'int16': return view.getInt16(0, true);
    case 'uint32': return view.getUint32(0, true);
    case 'int32': return view.getInt32(0, true);
    case 'uint64': return view.getBigUint64(0, true).toString();
    case 'int64': return view.getBigInt64(0, true).toString();
    default: {
      if (isCastableFloat(dtype)) {
        const out = new Uint8Array(8);
        castFloatElements(bytes, dtype, out, 'float64', 1);
        return new DataView(out.buffer).getFloat64(0, true);
      }
      return Buffer.from(bytes).toString('hex');
    }
  }
}

/** |a − b| of two integer elements, as a number (exact below 2^53). */
function integerDifference(x: number | string, y: number | string): number {
  if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y);
  const difference = BigInt(x) - BigInt(y);
  return Number(difference < 0n ? -difference : difference);
}

/** |a − b| of two float elements; bit-different but equal values (0 and −0, two NaNs) differ by 0. */
function floatDifference(x: number, y: number): number {
  if (x !== x && y !== y) return 0;
  return Math.abs(x - y);
}

function coordinatesOf(index: number, shape: readonly number[]): number[] {
  const coordinates = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis]!;
    coordinates[axis] = size === 0 ? 0 : rest % size;
    rest = size === 0 ? 0 : Math.floor(rest / size);
  }
  return coordinates;
}

async function compareTensor(
  a: TensorReader, b: TensorReader, infoA: TensorInfo, infoB: TensorInfo,
  atol: number, rtol: number, options: DiffOptions, onBytes: (bytes: number) => void,
): Promise<DiffChangedContent | undefined> {
  const itemBytes = itemBytesOf(infoA);
  const unit = Math.max(1, itemBytes);
  const elements = infoA.shape.reduce((product, size) => product * size, 1);
  const chunkBytes = Math.max(unit, (options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES) - ((options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES) % unit));
  const streamOptions = { chunkBytes, reuseBuffer: true, ...(options.signal ? { signal: options.signal } : {}) };
  const float = isCastableFloat(infoA.dtype) && (atol > 0 || rtol > 0);
  const arithmetic = itemBytes > 0 && (isCastableFloat(infoA.dtype) || /int|bool/.test(infoA.dtype));
  const decoderA = new FloatDecoder(infoA.dtype);
  const decoderB = new FloatDecoder(infoA.dtype);
  let differing = 0;
  let maxAbsDiff = -1;
  let worst: { index: number; a: number | string; b: number | string } | undefined;
  let base = 0; // element index of the piece's first element
  for await (const [pieceA, pieceB] of alignedPairs(a.stream(infoA.name, streamOptions), b.stream(infoB.name, streamOptions), unit)) {
    const count = pieceA.byteLength / unit;
    if (float) {
      const valuesA = decoderA.values(pieceA, count);
      const valuesB = decoderB.values(pieceB, count);
      for (let i = 0; i < count; i++) {
        const x = valuesA[i]!;
        const y = valuesB[i]!;
        if (x === y || (x !== x && y !== y)) continue; // equal, or NaN in both
        const difference = Math.abs(x - y);
        if (difference <= atol + rtol * Math.abs(y)) continue;
        differing++;
        // NaN against a number, or infinities of opposite sign, are the largest difference there is.
        const size = difference === difference ? difference : Infinity;
        if (size > maxAbsDiff) {
          maxAbsDiff = size;
          worst = { index: base + i, a: x, b: y };
        }
      }
    } else if (!Buffer.from(pieceA.buffer, pieceA.byteOffset, pieceA.byteLength).equals(Buffer.from(pieceB.buffer, pieceB.byteOffset, pieceB.byteLength))) {
      // Exact comparison: elements whose bytes differ; for numbers, the largest |a − b|.
      for (let i = 0; i < count; i++) {
        let equal = true;
        for (let k = i * unit; k < (i + 1) * unit; k++) if (pieceA[k] !== pieceB[k]) { equal = false; break; }
        if (equal) continue;
        differing++;
        if (!arithmetic) {
          worst ??= { index: base + i, a: elementValue(pieceA, i, unit, infoA.dtype), b: elementValue(pieceB, i, unit, infoA.dtype) };
          continue;
        }
        const x = elementValue(pieceA, i, unit, infoA.dtype);
        const y = elementValue(pieceB, i, unit, infoA.dtype);
        const difference = isCastableFloat(infoA.dtype) ? floatDifference(x as number, y as number) : integerDifference(x, y);
        const size = difference === difference ? difference : Infinity;
        if (size > maxAbsDiff) {
          maxAbsDiff = size;
          worst = { index: base + i, a: x, b: y };
        }
      }
    }
    base += count;
    onBytes(pieceA.byteLength);
  }
  if (differing === 0 || !worst) return undefined;
  return {
    name: infoA.name,
    dtype: infoA.dtype,
    shape: infoA.shape,
    elementsDiffering: differing,
    elements,
    ...(arithmetic ? { maxAbsDiff } : {}),
    at: { index: worst.index, coordinates: itemBytes > 0 ? coordinatesOf(worst.index, infoA.shape) : [], a: worst.a, b: worst.b },
  };
}
