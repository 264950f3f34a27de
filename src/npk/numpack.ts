/**
 * `NumPack`: a folder of raw arrays plus `metadata.npkm`, in NumPack's exact on-disk
 * format, with in-place append/replace, logical deletion and compaction. Better than
 * NumPack: a writer lock, every change committed atomically when its call returns (a
 * journal record for appends and replaces, a catalogue publish otherwise), unsafe
 * names refused, corrupt catalogues reported instead of read as empty. Each method's
 * work lives in the file of its operation (`store-*.ts`).
 */
import { resolve } from 'node:path';
import type { Tensor } from '../core/tensor.js';
import type { NpkRowIndexes } from './indexes.js';
import type { LazyArray } from './lazy-array.js';
import { npkAppend } from './store-append.js';
import { NumPackBase } from './store-base.js';
import { npkClone, npkCompact } from './store-compact.js';
import { npkDrop } from './store-drop.js';
import { npkGetRows, npkIterate, npkLoad, npkLoadLazy } from './store-read.js';
import { npkReplace } from './store-replace.js';
import type { NumPackIterateOptions, NumPackLoadOptions, NumPackOpenOptions } from './store-types.js';

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
   * The whole array, logical rows only. With the mmap addon in use, an array with no
   * deleted rows in one plain data file (64 KiB or more) comes back as a view of a
   * private mapping of its file: nothing is read until touched, the view stays valid for
   * as long as it is referenced (also after `close()`), writes into it never reach the
   * file, and later `replace`s through this store do not show in it (as with NumPack's
   * eager load). Rows another process rewrites in place may show; pass `copy: true`
   * for a snapshot in fresh memory.
   *
   * @example
   * ```ts
   * const x = await npk.load('x');
   * const snapshot = await npk.load('x', { copy: true });
   * ```
   */
  load(name: string, options: NumPackLoadOptions = {}): Promise<Tensor> {
    return npkLoad(this.core, name, options);
  }

  /**
   * True when rows of `name` are committed in the journal but not yet in its data
   * file (a reader of a live writer's store, or this writer before its fold): the data
   * file alone is then not the array.
   *
   * @internal
   */
  hasPendingRows(name: string): boolean {
    this.core.checkOpen();
    return (this.core.arrays.get(name)?.patches.size ?? 0) > 0;
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
    return npkLoadLazy(this.core, name);
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
    return npkGetRows(this.core, name, indexes);
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
    return npkAppend(this.core, arrays);
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
    return npkReplace(this.core, arrays, indexes);
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
    return npkDrop(this.core, names, indexes);
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
    return npkCompact(this.core, name);
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
    return npkClone(this.core, source, target);
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
    return npkIterate(this.core, name, options);
  }

}
