/**
 * `densify(reader, name)`: a sparse tensor (CSR or COO parts) as a dense tensor, checked
 * as it is read: sizes from the infos first, then every pointer, index and cell. Memory:
 * the dense result, a bitmap of one bit per dense element (to refuse a cell given twice)
 * and a window of each part, never a whole part.
 */
import { TensioError, throwIfAborted } from '../core/errors.js';
import { itemSize, type DType } from '../core/dtype.js';
import { MAX_TENSOR_BYTES } from '../core/limits.js';
import { elementCount } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { checkSparseLayout } from './layouts.js';
import type { TensorInfo, TensorReader } from './types.js';
import { quoteInput } from '../core/quote.js';
import { allocateZeroed } from '../core/memory.js';

/** Options for {@link densify}. */
export interface DensifyOptions {
  /** Largest dense result in bytes (default MAX_TENSOR_BYTES, the one-buffer limit). */
  maxTensorBytes?: number;
  /** Elements of each part read at a time (default 65536). */
  windowElements?: number;
  signal?: AbortSignal;
}

/**
 * Reads a sparse tensor (layout `sparse_csr` or `sparse_coo`) as a dense one, zeros
 * where no value is given. Throws `INVALID_LAYOUT` for parts that do not fit the shape
 * (sizes, dtypes), a row pointer that does not start at 0, decreases or does not end at
 * nnz, an index outside the shape or a cell given twice; `LIMIT_EXCEEDED` when the
 * dense tensor would be larger than `maxTensorBytes`.
 *
 * @example
 * ```ts
 * const dense = await densify(reader, 'adjacency'); // dtype of the values, the tensor's shape
 * ```
 */
export async function densify(reader: TensorReader, name: string, options: DensifyOptions = {}): Promise<Tensor> {
  const info = reader.info(name);
  const format = reader.format;
  const { nnz } = checkSparseLayout(info, format);
  const valueBytes = itemSize(info.dtype)!;
  const cells = elementCount(info.shape, format);
  const denseBytes = cells * valueBytes;
  const limit = options.maxTensorBytes ?? MAX_TENSOR_BYTES;
  if (denseBytes > limit) {
    throw new TensioError('LIMIT_EXCEEDED', `${format}: dense form of ${name} is ${denseBytes} bytes, more than the limit ${limit} (raise maxTensorBytes, or read its parts)`, { format });
  }
  const fill: Fill = {
    info, format, valueBytes,
    out: allocateZeroed(denseBytes),
    seen: new Uint8Array(Math.ceil(cells / 8)),
    values: new PartWindow(reader, name, 'values', 0, nnz, options),
  };
  if (info.layout!.kind === 'sparse_csr') await fillCsr(fill, reader, nnz, options);
  else await fillCoo(fill, reader, nnz, options);
  return { dtype: info.dtype, shape: [...info.shape], data: fill.out };
}

interface Fill {
  readonly info: TensorInfo;
  readonly format: string;
  readonly valueBytes: number;
  readonly out: Uint8Array;
  /** One bit per dense cell: set once a value landed there. */
  readonly seen: Uint8Array;
  readonly values: PartWindow;
}

function invalid(fill: Fill, message: string): never {
  throw new TensioError('INVALID_LAYOUT', `${fill.format}: ${fill.info.layout!.kind} tensor ${quoteInput(fill.info.name)}: ${message}`, { format: fill.format });
}

/** Puts value `k` at dense cell `cell`, refusing a cell given twice. */
async function place(fill: Fill, cell: number, k: number, where: () => string): Promise<void> {
  const bit = 1 << (cell & 7);
  if (fill.seen[cell >>> 3]! & bit) invalid(fill, `${where()} is given twice`);
  fill.seen[cell >>> 3]! |= bit;
  const { bytes, at } = await fill.values.bytesOf(k);
  const size = fill.valueBytes;
  const to = cell * size;
  for (let b = 0; b < size; b++) fill.out[to + b] = bytes[at + b]!;
}

async function fillCsr(fill: Fill, reader: TensorReader, nnz: number, options: DensifyOptions): Promise<void> {
  const [rows, columns] = fill.info.shape as [number, number];
  const indptr = new PartWindow(reader, fill.info.name, 'indptr', 0, rows + 1, options);
  const indices = new PartWindow(reader, fill.info.name, 'indices', 0, nnz, options);
  let start = await indptr.indexAt(0);
  if (start !== 0) invalid(fill, `indptr[0] is ${start}, not 0`);
  for (let row = 0; row < rows; row++) {
    const end = await indptr.indexAt(row + 1);
    if (end < start) invalid(fill, `indptr decreases at row ${row} (${start} then ${end})`);
    if (end > nnz) invalid(fill, `indptr[${row + 1}] is ${end}, past nnz ${nnz}`);
    for (let k = start; k < end; k++) {
      const column = await indices.indexAt(k);
      if (column >= columns) invalid(fill, `column index ${column} of value ${k} (row ${row}) is outside ${columns} columns`);
      await place(fill, row * columns + column, k, () => `cell (${row}, ${column})`);
    }
    start = end;
  }
  if (start !== nnz) invalid(fill, `indptr[${rows}] is ${start}, not nnz ${nnz}`);
}

async function fillCoo(fill: Fill, reader: TensorReader, nnz: number, options: DensifyOptions): Promise<void> {
  const shape = fill.info.shape;
  // Structure of arrays: dimension d's coordinates are elements d·nnz … d·nnz + nnz − 1.
  const coords = shape.map((_, d) => new PartWindow(reader, fill.info.name, 'coords', d * nnz, nnz, options));
  const point = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < nnz; k++) {
    let cell = 0;
    for (let d = 0; d < shape.length; d++) {
      const coordinate = await coords[d]!.indexAt(k);
      if (coordinate >= shape[d]!) invalid(fill, `coordinate ${coordinate} of value ${k} on axis ${d} is outside its ${shape[d]}`);
      point[d] = coordinate;
      cell = cell * shape[d]! + coordinate;
    }
    await place(fill, cell, k, () => `cell (${point.join(', ')})`);
  }
}

/**
 * Sequential access to a run of one part's elements (`first` … `first + length − 1`),
 * one window at a time, read with `readPart(…, { elements })`.
 */
class PartWindow {
  private bytes: Uint8Array = new Uint8Array(0);
  private numbers: ArrayLike<number | bigint> = [];
  private start = 0;
  private end = 0;
  private readonly size: number;
  private readonly dtype: DType;
  private readonly window: number;

  constructor(
    private readonly reader: TensorReader,
    private readonly name: string,
    private readonly part: string,
    private readonly first: number,
    private readonly length: number,
    private readonly options: DensifyOptions,
  ) {
    const info = reader.info(name).parts!.find((candidate) => candidate.name === part)!;
    this.dtype = info.dtype;
    this.size = itemSize(info.dtype)!;
    this.window = Math.max(1, options.windowElements ?? 65536);
  }

  private async load(index: number): Promise<void> {
    throwIfAborted(this.options.signal);
    this.start = index;
    this.end = Math.min(this.length, index + this.window);
    const tensor = await this.reader.readPart(this.name, this.part, {
      elements: { start: this.first + this.start, end: this.first + this.end },
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    // Typed views need aligned bytes; parts read into fresh buffers are, but be sure.
    this.bytes = tensor.data.byteOffset % this.size === 0 ? tensor.data : tensor.data.slice();
    this.numbers = indexView(this.bytes, this.dtype);
  }

  /** Element `index` (of the run) of an integer part, as a non-negative safe integer. */
  async indexAt(index: number): Promise<number> {
    if (index < this.start || index >= this.end) await this.load(index);
    const value = this.numbers[index - this.start]!;
    const number = typeof value === 'bigint' ? (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n ? Number(value) : -1) : value;
    if (number < 0) {
      throw new TensioError('INVALID_LAYOUT', `tensor ${quoteInput(this.name)}: ${this.part}[${this.first + index}] is ${String(value)}, not a valid index`);
    }
    return number;
  }

  /** The bytes of element `index` (of the run): a buffer and the offset of the element in it. */
  async bytesOf(index: number): Promise<{ bytes: Uint8Array; at: number }> {
    if (index < this.start || index >= this.end) await this.load(index);
    return { bytes: this.bytes, at: (index - this.start) * this.size };
  }
}

function indexView(bytes: Uint8Array, dtype: DType): ArrayLike<number | bigint> {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'int8': return new Int8Array(buffer, byteOffset, byteLength);
    case 'uint8': return bytes;
    case 'int16': return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'uint16': return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'int32': return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'uint32': return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'int64': return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    default: return [];
  }
}
