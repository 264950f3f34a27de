/** `drop`: logical deletion of rows or whole arrays through the deletion bitmap. */
import { NpkBitmap } from './bitmap.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import { needRows } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';

/**
 * Deletes rows logically; without `indexes`, every row (the array stays listed with 0
 * rows). Unknown names and out-of-range rows are ignored, as in NumPack.
 */
export async function npkDrop(store: NpkStoreCore, names: string | readonly string[], indexes?: NpkRowIndexes): Promise<void> {
  const list = typeof names === 'string' ? [names] : [...names];
  return store.run(async () => {
    let changed = false;
    for (const name of list) {
      const state = store.arrays.get(name);
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
      await store.stageBitmap(state);
      store.touch(state);
      changed = true;
    }
    if (changed) await store.commit();
  }, true);
}
