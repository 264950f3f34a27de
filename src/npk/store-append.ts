/**
 * `append`: rows added at the end of existing arrays by positional writes past the
 * catalogue's row count (nothing is rewritten); the new count is published after them.
 */
import type { Tensor } from '../core/tensor.js';
import { npkCrashPoint } from './crash-points.js';
import { checkCompatible, checkRecord } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';

/** Appends rows to existing arrays; every input is checked before any is written. */
export async function npkAppend(store: NpkStoreCore, arrays: Readonly<Record<string, Tensor>>): Promise<void> {
  const entries = checkRecord(arrays);
  return store.run(async () => {
    for (const [name, tensor] of entries) checkCompatible(store.state(name), name, tensor, 'append');
    for (const [name, tensor] of entries) {
      const state = store.state(name);
      const added = tensor.shape[0]!;
      if (added === 0) continue;
      const data = await state.data(store.path, true);
      await data.appendRows(tensor.data, store.options.segmentTargetBytes, store.options.durable);
      await data.sync(store.options.durable);
      npkCrashPoint(`rows of ${name} appended past the catalogue's count`);
      const rows = state.physicalRows + added;
      // Rows past the catalogue's count are invisible until it is published: a crash
      // leaves the old array. The grown bitmap is published with the catalogue.
      if (state.bitmap) {
        state.bitmap = state.bitmap.clone(); // the snapshot keeps the old one
        state.bitmap.resize(rows);
        await store.stageBitmap(state);
      }
      store.touch(state, [rows, ...state.entry.shape.slice(1)]);
    }
    await store.commit();
  }, true);
}
