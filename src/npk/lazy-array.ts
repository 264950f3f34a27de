/**
 * `LazyArray`: an array of a NumPack store described without reading it. Rows are
 * read on request — one, a range or a list — honouring deletions, so a 10 GB array
 * costs nothing until rows are asked for.
 */
import type { DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { MAX_TENSOR_BYTES } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import { quoteInput } from '../core/quote.js';

/** What a {@link LazyArray} reads through (provided by the store). */
export interface LazyArrayBackend {
  readonly name: string;
  readonly dtype: DType;
  /** Logical shape when the lazy array was made. */
  readonly shape: readonly number[];
  readonly rowBytes: number;
  /** Throws `INVALID_STATE` when the store was closed or the array changed since. */
  check(): void;
  readRange(start: number, end: number): Promise<Uint8Array>;
  gather(logicalRows: readonly number[]): Promise<Uint8Array>;
}

/**
 * A lazily read array. Made by {@link NumPack.loadLazy}; it describes the array as it
 * was then, and its reads throw `INVALID_STATE` once that array is changed (save,
 * append, replace, drop, compact) or the store is closed — make a new one then.
 *
 * @example
 * ```ts
 * const lazy = await npk.loadLazy('embeddings');
 * lazy.shape;                     // [1000000, 128]
 * const row = await lazy.at(-1);  // shape [128]
 * const some = await lazy.getRows([0, 10, 20]);
 * const first = await lazy.slice(0, 100);
 * ```
 */
export class LazyArray {
  readonly #backend: LazyArrayBackend;

  /** @internal Use {@link NumPack.loadLazy}. */
  constructor(backend: LazyArrayBackend) {
    this.#backend = backend;
  }

  /** Array name in the store. */
  get name(): string { return this.#backend.name; }
  get dtype(): DType { return this.#backend.dtype; }
  /** Logical shape (deleted rows excluded). */
  get shape(): readonly number[] { return this.#backend.shape; }
  /** Number of dimensions. */
  get ndim(): number { return this.#backend.shape.length; }
  /** Logical rows (first dimension); 1 for a 0-d array. */
  get length(): number { return this.#backend.shape.length === 0 ? 1 : this.#backend.shape[0]!; }
  /** Bytes of one row. */
  get rowBytes(): number { return this.#backend.rowBytes; }
  /** Bytes of the whole logical array. */
  get nbytes(): number { return this.length * this.#backend.rowBytes; }

  #rowShape(rows: number): number[] {
    return [rows, ...this.#backend.shape.slice(1)];
  }

  /**
   * One row (negative counts from the end); its shape drops the first dimension.
   *
   * @example
   * ```ts
   * const last = await lazy.at(-1);
   * ```
   */
  async at(index: number): Promise<Tensor> {
    this.#backend.check();
    this.#needRows();
    const [row] = npkResolveIndexes(index, this.length, 'strict', this.name);
    const data = await this.#backend.readRange(row!, row! + 1);
    return { dtype: this.dtype, shape: this.#backend.shape.slice(1), data };
  }

  /**
   * Rows `[start, end)` (negatives count from the end; bounds clamp like Python slices).
   *
   * @example
   * ```ts
   * const head = await lazy.slice(0, 10);
   * ```
   */
  async slice(start = 0, end?: number): Promise<Tensor> {
    this.#backend.check();
    this.#needRows();
    const rows = npkResolveIndexes({ start, ...(end !== undefined ? { end } : {}) }, this.length, 'strict', this.name);
    const first = rows.length ? rows[0]! : 0;
    const data = await this.#backend.readRange(first, first + rows.length);
    return { dtype: this.dtype, shape: this.#rowShape(rows.length), data };
  }

  /**
   * Rows by index list (any order, repeats, negatives), an integer (shape (1, …) as in
   * NumPack) or a slice.
   *
   * @example
   * ```ts
   * const picked = await lazy.getRows([3, 1, -1]);
   * ```
   */
  async getRows(indexes: NpkRowIndexes): Promise<Tensor> {
    this.#backend.check();
    this.#needRows();
    const rows = npkResolveIndexes(indexes, this.length, 'strict', this.name);
    const data = await this.#backend.gather(rows);
    return { dtype: this.dtype, shape: this.#rowShape(rows.length), data };
  }

  /**
   * Reads everything into memory.
   *
   * @example
   * ```ts
   * const whole = await lazy.toTensor();
   * ```
   */
  async toTensor(): Promise<Tensor> {
    this.#backend.check();
    if (this.nbytes > MAX_TENSOR_BYTES) {
      throw new TensioError('LIMIT_EXCEEDED', `npk: the whole array is ${this.nbytes} bytes, above the ${MAX_TENSOR_BYTES}-byte limit of one buffer; read rows or batches() instead`, { format: 'npk' });
    }
    const data = await this.#backend.readRange(0, this.length);
    return { dtype: this.dtype, shape: [...this.#backend.shape], data };
  }

  /**
   * Iterates rows in batches of `batchRows` (default 1).
   *
   * @example
   * ```ts
   * for await (const batch of lazy.batches(1024)) consume(batch);
   * ```
   */
  async *batches(batchRows = 1): AsyncGenerator<Tensor> {
    if (!Number.isInteger(batchRows) || batchRows <= 0) {
      throw new TensioError('INVALID_ARGUMENT', `npk: batchRows must be a positive integer, got ${batchRows}`, { format: 'npk' });
    }
    for (let row = 0; row < this.length; row += batchRows) yield this.slice(row, row + batchRows);
  }

  #needRows(): void {
    if (this.#backend.shape.length === 0) {
      throw new TensioError('INVALID_SHAPE', `npk: ${quoteInput(this.name)} is 0-d and has no rows`, { format: 'npk' });
    }
  }
}
