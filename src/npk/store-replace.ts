/**
 * `replace`: rows overwritten at the physical rows their logical indexes map to.
 *
 * When the store can journal (`store-journal.ts`) and the rows are small
 * ({@link NPK_JOURNAL_INLINE_BYTES}), the new rows and the catalogue (new modification
 * times) are committed as one journal record, and that is all: one write and, when
 * durable, one fsync, however scattered the rows. They reach the data files at the next
 * fold (close, a structural change, or the journal's checkpoint size), all at once and
 * one write per run of rows; until then reads lay them over the files
 * (`row-patches.ts`). A crash leaves all of the call's rows or none (a replay redoes
 * them). Otherwise the rows are written in place and synced, and the times reach the
 * catalogue at the next publish.
 */
import { TensioError } from '../core/errors.js';
import { NPK_JOURNAL_INLINE_BYTES } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';
import type { NpkArrayState } from './array-state.js';
import { npkResolveIndexes, type NpkRowIndexes } from './indexes.js';
import type { NpkJournalWrite } from './journal.js';
import { npkScatterRows, npkToPhysical } from './logical-io.js';
import { checkCompatible, checkRecord } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';
import { quoteInput } from '../core/quote.js';

interface Plan {
  state: NpkArrayState;
  tensor: Tensor;
  rows: number[];
}

/** Overwrites logical rows of arrays; every input is checked before any is written. */
export async function npkReplace(store: NpkStoreCore, arrays: Readonly<Record<string, Tensor>>, indexes: NpkRowIndexes): Promise<void> {
  const entries = checkRecord(arrays);
  return store.run(async () => {
    const plans: Plan[] = entries.map(([name, tensor]) => {
      const state = store.state(name);
      checkCompatible(state, name, tensor, 'replace');
      const rows = npkResolveIndexes(indexes, state.logicalRows, 'strict', name);
      if (rows.length !== tensor.shape[0]) {
        throw new TensioError('SIZE_MISMATCH', `npk: replace of ${quoteInput(name)} got ${tensor.shape[0]} rows for ${rows.length} indexes`, { format: 'npk' });
      }
      return { state, tensor, rows };
    });
    const bytes = plans.reduce((sum, plan) => sum + plan.tensor.data.byteLength, 0);
    if (store.canJournal() && bytes <= NPK_JOURNAL_INLINE_BYTES) await replaceJournaled(store, plans);
    else await replaceInPlace(store, plans);
  }, 'journal');
}

/** Commits a journal record with the rows; they are written in place at the next fold. */
async function replaceJournaled(store: NpkStoreCore, plans: readonly Plan[]): Promise<void> {
  const perArray: NpkJournalWrite[][] = [];
  for (const { state, tensor, rows } of plans) {
    // One copy of the caller's rows: the record and the pending rows both refer to it.
    const own = tensor.data.slice();
    const data = await state.data(store.path, true);
    const rowBytes = state.rowBytes;
    const physical = npkToPhysical({ data, bitmap: state.bitmap, rowBytes }, rows);
    const writes: NpkJournalWrite[] = [];
    // Runs of consecutive physical rows become one write.
    for (let first = 0; first < physical.length;) {
      let last = first;
      while (last + 1 < physical.length && physical[last + 1] === physical[last]! + 1) last++;
      let at = first * rowBytes;
      for (const piece of data.locate(physical[first]!, (last - first + 1) * rowBytes)) {
        writes.push({ file: piece.file, position: piece.position, bytes: own.subarray(at, at + piece.length) });
        at += piece.length;
      }
      first = last + 1;
    }
    perArray.push(writes);
    store.touch(state);
  }
  // From the commit on, reads of these arrays see the new rows through their patches.
  await store.commitJournaled(perArray.flat(), [], () => {
    plans.forEach(({ state }, i) => { for (const write of perArray[i]!) state.patches.add(write.file, write.position, write.bytes, false); });
  });
}

/** Write in place and sync; the new modification times are written at the next publish. */
async function replaceInPlace(store: NpkStoreCore, plans: readonly Plan[]): Promise<void> {
  await store.flushPatches(); // rows pending from journaled replaces go first: these may overwrite them
  for (const { state, tensor, rows } of plans) {
    const view = await state.view(store.path, true);
    await npkScatterRows(view, rows, tensor.data);
    await view.data.sync(store.options.durable);
    store.touch(state);
  }
  // Shapes are unchanged: only modification times moved, written at close().
  store.catalogueTimesStale = true;
}
