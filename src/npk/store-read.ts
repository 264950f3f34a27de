/**
 * Reads of logical rows: `load` (the whole array), `loadLazy`, `getRows` (any rows) and
 * `iterate` (batches). Deleted rows are skipped.
 *
 * With the mmap addon (`storage/memory-map.ts`), a whole array or a row range of an
 * array with no deleted rows in one plain file is returned as a private mapping of its
 * rows (tensio's lifetime rule: valid while referenced; copy-on-write; this store's own
 * later replaces do not show in it), and random rows are copied out of a mapping of the
 * file in one pass. Without it, or with `copy: true`, rows are read: ranges with one
 * positional read per run of rows, scattered rows coalesced into a few reads of a
 * reused buffer.
 */
import { allocateUninitialized, allocateZeroed } from '../core/memory.js';
import { TensioError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import { LazyArray } from './lazy-array.js';
import { npkGatherRows, npkReadLogicalRange, npkToPhysical } from './logical-io.js';
import type { NpkArrayState } from './array-state.js';
import { needRows } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';
import type { NumPackIterateOptions, NumPackLoadOptions } from './store-types.js';
import { quoteInput } from '../core/quote.js';

/**
 * Logical rows `[start, end)`: a mapped view when the array has no deleted rows and the
 * data allows it (see `NpkArrayData.mapRows`), else a fresh buffer read into.
 */
async function readLogicalRows(store: NpkStoreCore, state: NpkArrayState, start: number, end: number, copy: boolean): Promise<Uint8Array> {
  const view = await state.view(store.path, !store.readOnly);
  if (!copy && !view.bitmap) {
    const mapped = await view.data.mapRows(start, end - start);
    if (mapped) return mapped;
  }
  const data = allocateUninitialized((end - start) * state.rowBytes); // every byte is read into below
  await npkReadLogicalRange(view, start, end, data);
  return data;
}

/** The whole array, logical rows only; `LIMIT_EXCEEDED` above `maxTensorBytes`. */
export function npkLoad(store: NpkStoreCore, name: string, options: NumPackLoadOptions = {}): Promise<Tensor> {
  return store.run(async () => {
    const state = store.state(name);
    const bytes = state.logicalRows * state.rowBytes;
    if (bytes > store.options.maxTensorBytes) {
      throw new TensioError('LIMIT_EXCEEDED', `npk: ${quoteInput(name)} is ${bytes} bytes, above maxTensorBytes ${store.options.maxTensorBytes}; use loadLazy() or iterate()`, { format: 'npk' });
    }
    const data = await readLogicalRows(store, state, 0, state.logicalRows, options.copy ?? false);
    return { dtype: state.entry.dtype, shape: state.logicalShape, data };
  });
}

/** Rows by logical index into `target`: copied out of a mapping when possible, else coalesced reads into the store's reused buffer. */
async function gatherInto(store: NpkStoreCore, state: NpkArrayState, rows: readonly number[], target: Uint8Array): Promise<void> {
  const view = await state.view(store.path, !store.readOnly);
  if (rows.length > 0 && state.rowBytes > 0 && await view.data.gatherMapped(npkToPhysical(view, rows), target)) return;
  await npkGatherRows(view, rows, target, undefined, store.gatherScratch);
}

/** A {@link LazyArray} over an array: valid until the array changes or the store closes. */
export function npkLoadLazy(store: NpkStoreCore, name: string): Promise<LazyArray> {
  return store.run(async () => {
    const state = store.state(name);
    const generation = state.generation;
    const shape = state.logicalShape;
    const check = () => {
      if (!store.isOpen || state.generation !== generation || store.arrays.get(name) !== state) {
        throw new TensioError('INVALID_STATE', `npk: lazy array ${quoteInput(name)} is stale (the store was closed or the array changed); call loadLazy() again`, { format: 'npk' });
      }
    };
    return new LazyArray({
      name, dtype: state.entry.dtype, shape, rowBytes: state.rowBytes, check,
      readRange: (start, end) => store.run(async () => {
        check();
        return readLogicalRows(store, state, start, end, false);
      }),
      gather: (rows) => store.run(async () => {
        check();
        const data = allocateZeroed(rows.length * state.rowBytes);
        await gatherInto(store, state, rows, data);
        return data;
      }),
    });
  });
}

/** Rows by logical index (an integer gives shape (1, …), as NumPack). */
export function npkGetRows(store: NpkStoreCore, name: string, indexes: NpkRowIndexes): Promise<Tensor> {
  return store.run(async () => {
    const state = store.state(name);
    needRows(state);
    const rows = npkResolveIndexes(indexes, state.logicalRows, 'strict', name);
    const data = allocateZeroed(rows.length * state.rowBytes);
    await gatherInto(store, state, rows, data);
    return { dtype: state.entry.dtype, shape: [rows.length, ...state.entry.shape.slice(1)], data };
  });
}

/**
 * An array's logical rows in batches (NumPack's `stream_load`). Throws
 * `INVALID_ARGUMENT` at once for a non-positive batch size, `NOT_FOUND` for a missing array.
 */
export function npkIterate(store: NpkStoreCore, name: string, options: NumPackIterateOptions = {}): AsyncIterable<Tensor> {
  const batchRows = options.batchRows ?? 1;
  if (!Number.isInteger(batchRows) || batchRows <= 0) {
    throw new TensioError('INVALID_ARGUMENT', `npk: batchRows must be a positive integer, got ${batchRows}`, { format: 'npk' });
  }
  store.checkOpen();
  const state = store.state(name);
  needRows(state);
  const generation = state.generation;
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
