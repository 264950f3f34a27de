/**
 * `NumPack`: a folder of raw arrays plus `metadata.npkm`, in NumPack's exact on-disk
 * format, with in-place append/replace, logical deletion and compaction. Better than
 * NumPack: a writer lock, metadata republished atomically after every change, unsafe
 * names refused, corrupt catalogues reported instead of read as empty.
 */
import { allocateUninitialized } from '../core/memory.js';
import { resolve } from 'node:path';
import { TensioError } from '../core/errors.js';
import { tensorByteLength } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { npkWriteArrayFiles } from './array-data.js';
import { NpkBitmap } from './bitmap.js';
import { npkCrashPoint } from './crash-points.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import { LazyArray } from './lazy-array.js';
import { npkGatherRows, npkLogicalChunks, npkReadLogicalRange, npkScatterRows } from './logical-io.js';
import { npkCheckName } from './names.js';
import { NumPackBase, checkCompatible, checkRecord, needRows, type NumPackIterateOptions, type NumPackOpenOptions } from './store-base.js';
import { quoteInput } from '../core/quote.js';

/**
 * A NumPack store. Open with {@link NumPack.open}; close with `close()` or `await using`.
 * Every row index is logical (deleted rows skipped) and may be negative.
 *
 * @example
 * ```ts
 * await using npk = await NumPack.open('data.npk', { dropIfExists: true });
 * await npk.save({ x: createTensor('float32', [3, 2], new Float32Array(6)) });
 * await npk.append({ x: createTensor('float32', [1, 2], new Float32Array([7, 8])) });
 * await npk.drop('x', [0]);
 * (await npk.load('x')).shape; // [3, 2]
 * ```
 */
export class NumPack extends NumPackBase {
  private constructor(path: string, readOnly: boolean, options: NumPackOpenOptions) {
    super(path, readOnly, options);
  }

  /**
   * Opens (creating if needed) the store in folder `path`. Writers take the folder's
   * lock (`LOCKED` if another writer holds it); `readOnly` opens take none.
   *
   * @example
   * ```ts
   * const npk = await NumPack.open('data.npk');
   * const reader = await NumPack.open('data.npk', { readOnly: true });
   * ```
   */
  static async open(path: string, options: NumPackOpenOptions = {}): Promise<NumPack> {
    const store = new NumPack(resolve(path), options.readOnly ?? false, options);
    await NumPackBase.initialize(store, options);
    return store;
  }

  /**
   * The whole array, logical rows only.
   *
   * @example
   * ```ts
   * const x = await npk.load('x');
   * ```
   */
  load(name: string): Promise<Tensor> {
    return this.run(async () => {
      const state = this.state(name);
      const bytes = state.logicalRows * state.rowBytes;
      if (bytes > this.options.maxTensorBytes) {
        throw new TensioError('LIMIT_EXCEEDED', `npk: ${quoteInput(name)} is ${bytes} bytes, above maxTensorBytes ${this.options.maxTensorBytes}; use loadLazy() or iterate()`, { format: 'npk' });
      }
      const data = allocateUninitialized(bytes); // every byte is read into below
      await npkReadLogicalRange(await state.view(this.path, !this.readOnly), 0, state.logicalRows, data);
      return { dtype: state.entry.dtype, shape: state.logicalShape, data };
    });
  }

  /**
   * A {@link LazyArray}: shape and dtype now, rows when asked. (NumPack's
   * `load(name, lazy=True)`; a separate method because an option never changes a
   * return type here.)
   *
   * @example
   * ```ts
   * const lazy = await npk.loadLazy('x');
   * const rows = await lazy.getRows([0, 5]);
   * ```
   */
  loadLazy(name: string): Promise<LazyArray> {
    return this.run(async () => {
      const state = this.state(name);
      const generation = state.generation;
      const shape = state.logicalShape;
      const check = () => {
        if (!this.isOpen || state.generation !== generation || this.arrays.get(name) !== state) {
          throw new TensioError('INVALID_STATE', `npk: lazy array ${quoteInput(name)} is stale (the store was closed or the array changed); call loadLazy() again`, { format: 'npk' });
        }
      };
      return new LazyArray({
        name, dtype: state.entry.dtype, shape, rowBytes: state.rowBytes, check,
        readRange: (start, end) => this.run(async () => {
          check();
          const data = new Uint8Array((end - start) * state.rowBytes);
          await npkReadLogicalRange(await state.view(this.path, !this.readOnly), start, end, data);
          return data;
        }),
        gather: (rows) => this.run(async () => {
          check();
          const data = new Uint8Array(rows.length * state.rowBytes);
          await npkGatherRows(await state.view(this.path, !this.readOnly), rows, data);
          return data;
        }),
      });
    });
  }

  /**
   * Rows by logical index: an integer (result shape (1, …), as NumPack), a list, a
   * typed array, or `{ start, end }`.
   *
   * @example
   * ```ts
   * const picked = await npk.getRows('x', [0, -1]);
   * ```
   */
  getRows(name: string, indexes: NpkRowIndexes): Promise<Tensor> {
    return this.run(async () => {
      const state = this.state(name);
      needRows(state);
      const rows = npkResolveIndexes(indexes, state.logicalRows, 'strict', name);
      const data = new Uint8Array(rows.length * state.rowBytes);
      await npkGatherRows(await state.view(this.path, !this.readOnly), rows, data);
      return { dtype: state.entry.dtype, shape: [rows.length, ...state.entry.shape.slice(1)], data };
    });
  }

  /**
   * Adds rows at the end of existing arrays (positional writes; nothing is rewritten).
   * Every input is checked before any is written.
   *
   * @example
   * ```ts
   * await npk.append({ x: moreRows });
   * ```
   */
  async append(arrays: Readonly<Record<string, Tensor>>): Promise<void> {
    const entries = checkRecord(arrays);
    return this.run(async () => {
      for (const [name, tensor] of entries) checkCompatible(this.state(name), name, tensor, 'append');
      for (const [name, tensor] of entries) {
        const state = this.state(name);
        const added = tensor.shape[0]!;
        if (added === 0) continue;
        const data = await state.data(this.path, true);
        await data.appendRows(tensor.data, this.options.segmentTargetBytes, this.options.durable);
        await data.sync(this.options.durable);
        npkCrashPoint(`rows of ${name} appended past the catalogue's count`);
        const rows = state.physicalRows + added;
        // Rows past the catalogue's count are invisible until it is published: a crash
        // leaves the old array. The grown bitmap is published with the catalogue.
        if (state.bitmap) {
          state.bitmap = state.bitmap.clone(); // the snapshot keeps the old one
          state.bitmap.resize(rows);
          await this.stageBitmap(state);
        }
        this.touch(state, [rows, ...state.entry.shape.slice(1)]);
      }
      await this.commit();
    }, true);
  }

  /**
   * Overwrites rows in place. `indexes` are logical; the tensor's row count must match.
   *
   * @example
   * ```ts
   * await npk.replace({ x: twoRows }, [0, -1]);
   * ```
   */
  async replace(arrays: Readonly<Record<string, Tensor>>, indexes: NpkRowIndexes): Promise<void> {
    const entries = checkRecord(arrays);
    return this.run(async () => {
      const plans = entries.map(([name, tensor]) => {
        const state = this.state(name);
        checkCompatible(state, name, tensor, 'replace');
        const rows = npkResolveIndexes(indexes, state.logicalRows, 'strict', name);
        if (rows.length !== tensor.shape[0]) {
          throw new TensioError('SIZE_MISMATCH', `npk: replace of ${quoteInput(name)} got ${tensor.shape[0]} rows for ${rows.length} indexes`, { format: 'npk' });
        }
        return { state, tensor, rows };
      });
      for (const { state, tensor, rows } of plans) {
        const view = await state.view(this.path, true);
        await npkScatterRows(view, rows, tensor.data);
        await view.data.sync(this.options.durable);
        this.touch(state);
      }
      // Shapes are unchanged: only modification times moved, written at close().
      this.catalogueTimesStale = true;
    }, true);
  }

  /**
   * Deletes rows logically (the deletion bitmap); without `indexes`, every row — the
   * array stays listed with 0 rows. Unknown names and out-of-range rows are ignored, as
   * in NumPack. `compact()` reclaims the space.
   *
   * @example
   * ```ts
   * await npk.drop('x', [0, 5]);
   * await npk.drop(['a', 'b']);
   * ```
   */
  async drop(names: string | readonly string[], indexes?: NpkRowIndexes): Promise<void> {
    const list = typeof names === 'string' ? [names] : [...names];
    return this.run(async () => {
      let changed = false;
      for (const name of list) {
        const state = this.arrays.get(name);
        if (!state) continue;
        needRows(state);
        // A copy: the old bitmap stays as it was for the rollback of a failed change.
        const bitmap = state.bitmap?.clone() ?? NpkBitmap.allActive(state.physicalRows);
        if (indexes === undefined) bitmap.deleteAll();
        else {
          const rows = npkResolveIndexes(indexes, state.logicalRows, 'lenient', name);
          const current = state.bitmap;
          bitmap.deletePhysical(current ? rows.map((row) => current.logicalToPhysical(row)) : rows);
        }
        state.bitmap = bitmap;
        await this.stageBitmap(state);
        this.touch(state);
        changed = true;
      }
      if (changed) await this.commit();
    }, true);
  }

  /**
   * Rewrites an array without its deleted rows and removes its bitmap (NumPack's
   * `update`). Streams, so memory stays bounded.
   *
   * @example
   * ```ts
   * await npk.compact('x');
   * ```
   */
  compact(name: string): Promise<void> {
    return this.run(async () => {
      const state = this.state(name);
      if (!state.bitmap) return;
      let entry = state.entry;
      if (state.bitmap.deletedCount > 0) {
        // The compacted data is written beside the old, which stays in use until the
        // catalogue, the new data and the bitmap's removal are published together.
        const view = await state.view(this.path, true);
        const shape = state.logicalShape;
        const totalBytes = tensorByteLength(entry.dtype, shape, 'npk')!;
        const dataFile = await npkWriteArrayFiles(this.path, name, npkLogicalChunks(view, 0, state.logicalRows), {
          rowBytes: state.rowBytes, totalBytes, segmentTargetBytes: this.options.segmentTargetBytes, durable: this.options.durable, stage: (final) => this.stage(final),
        });
        entry = { ...entry, dataFile, shape, sizeBytes: totalBytes };
      }
      await this.setArray({ ...entry, lastModified: Date.now() * 1000 }, undefined, entry !== state.entry);
      await this.commit();
    }, true);
  }

  /**
   * Copies an array (its logical rows, compacted) under a new name.
   *
   * @example
   * ```ts
   * await npk.clone('x', 'x_backup');
   * ```
   */
  async clone(source: string, target: string): Promise<void> {
    npkCheckName(target);
    return this.run(async () => {
      const state = this.state(source);
      if (this.arrays.has(target)) throw new TensioError('ALREADY_EXISTS', `npk: an array named ${quoteInput(target)} already exists`, { format: 'npk' });
      const view = await state.view(this.path, true);
      const chunks = state.entry.shape.length === 0 ? npkLogicalChunks(view, 0, 1) : npkLogicalChunks(view, 0, state.logicalRows);
      await this.saveOne(target, { dtype: state.entry.dtype, shape: state.logicalShape }, chunks);
    }, true);
  }

  /**
   * Streams an array's logical rows in batches (NumPack's `stream_load`). Throws
   * `INVALID_ARGUMENT` at once for a non-positive batch size, `NOT_FOUND` for a missing array.
   *
   * @example
   * ```ts
   * for await (const batch of npk.iterate('x', { batchRows: 1000 })) process(batch);
   * ```
   */
  iterate(name: string, options: NumPackIterateOptions = {}): AsyncIterable<Tensor> {
    const batchRows = options.batchRows ?? 1;
    if (!Number.isInteger(batchRows) || batchRows <= 0) {
      throw new TensioError('INVALID_ARGUMENT', `npk: batchRows must be a positive integer, got ${batchRows}`, { format: 'npk' });
    }
    this.checkOpen();
    const state = this.state(name);
    needRows(state);
    const generation = state.generation;
    const store = this;
    return (async function* () {
      for (let row = 0; ; row += batchRows) {
        const batch = await store.run(async () => {
          if (state.generation !== generation) throw new TensioError('INVALID_STATE', `npk: ${quoteInput(name)} changed during iterate()`, { format: 'npk' });
          if (row >= state.logicalRows) return undefined;
          const end = Math.min(state.logicalRows, row + batchRows);
          const data = new Uint8Array((end - row) * state.rowBytes);
          await npkReadLogicalRange(await state.view(store.path, !store.readOnly), row, end, data, options.signal);
          return { dtype: state.entry.dtype, shape: [end - row, ...state.entry.shape.slice(1)], data } satisfies Tensor;
        });
        if (!batch) return;
        yield batch;
      }
    })();
  }

}
