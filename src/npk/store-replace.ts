/** `replace`: rows overwritten in place at the physical rows their logical indexes map to. */
import { TensioError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import { npkScatterRows } from './logical-io.js';
import { checkCompatible, checkRecord } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';
import { quoteInput } from '../core/quote.js';

/** Overwrites logical rows of arrays; every input is checked before any is written. */
export async function npkReplace(store: NpkStoreCore, arrays: Readonly<Record<string, Tensor>>, indexes: NpkRowIndexes): Promise<void> {
  const entries = checkRecord(arrays);
  return store.run(async () => {
    const plans = entries.map(([name, tensor]) => {
      const state = store.state(name);
      checkCompatible(state, name, tensor, 'replace');
      const rows = npkResolveIndexes(indexes, state.logicalRows, 'strict', name);
      if (rows.length !== tensor.shape[0]) {
        throw new TensioError('SIZE_MISMATCH', `npk: replace of ${quoteInput(name)} got ${tensor.shape[0]} rows for ${rows.length} indexes`, { format: 'npk' });
      }
      return { state, tensor, rows };
    });
    for (const { state, tensor, rows } of plans) {
      const view = await state.view(store.path, true);
      await npkScatterRows(view, rows, tensor.data);
      await view.data.sync(store.options.durable);
      store.touch(state);
    }
    // Shapes are unchanged: only modification times moved, written at close().
    store.catalogueTimesStale = true;
  }, true);
}
