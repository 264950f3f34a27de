/**
 * `append`: rows added at the end of existing arrays by positional writes past the
 * catalogue's row count (nothing is rewritten); the new count is committed after them.
 *
 * The commit is a journal record (`store-journal.ts`) when nothing else is staged and no
 * array has deleted rows: one small write, one fsync when durable, instead of a
 * catalogue republish. The record carries the rows themselves when they are small
 * ({@link NPK_JOURNAL_INLINE_BYTES}), so their in-place write needs no fsync of its own
 * (a replay redoes it); bigger appends are synced in place first. An array with a
 * deletion bitmap publishes the grown bitmap with the catalogue (`publish.ts`).
 */
import { NPK_JOURNAL_INLINE_BYTES } from '../core/limits.js';
import type { Tensor } from '../core/tensor.js';
import { npkCrashPoint } from './crash-points.js';
import type { NpkJournalWrite } from './journal.js';
import { checkCompatible, checkRecord } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';

/** Appends rows to existing arrays; every input is checked before any is written. */
export async function npkAppend(store: NpkStoreCore, arrays: Readonly<Record<string, Tensor>>): Promise<void> {
  const entries = checkRecord(arrays);
  return store.run(async () => {
    for (const [name, tensor] of entries) checkCompatible(store.state(name), name, tensor, 'append');
    const journaled = store.canJournal() && entries.every(([name, tensor]) => tensor.shape[0] === 0 || !store.state(name).bitmap);
    const writes: NpkJournalWrite[] = [];
    const touched: string[] = [];
    let inlineBytes = 0;
    for (const [name, tensor] of entries) {
      const state = store.state(name);
      const added = tensor.shape[0]!;
      if (added === 0) continue;
      const data = await state.data(store.path, true);
      const end = data.rows;
      await data.appendRows(tensor.data, store.options.segmentTargetBytes, store.options.durable);
      const inline = journaled && !data.segmented && inlineBytes + tensor.data.byteLength <= NPK_JOURNAL_INLINE_BYTES;
      if (inline) {
        // The record redoes these rows after a crash: no fsync of the data file now.
        writes.push({ file: state.entry.dataFile, position: end * state.rowBytes, bytes: tensor.data });
        inlineBytes += tensor.data.byteLength;
      } else {
        await data.sync(store.options.durable);
        touched.push(state.entry.dataFile);
      }
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
    if (journaled) await store.commitJournaled(writes, touched);
    else await store.commit();
  }, 'journal');
}
