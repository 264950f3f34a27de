/**
 * `compact` (NumPack's `update`: an array rewritten without its deleted rows) and
 * `clone` (an array's logical rows copied under a new name). Both stream.
 */
import { TensioError } from '../core/errors.js';
import { tensorByteLength } from '../core/sizes.js';
import { npkWriteArrayFiles } from './array-write.js';
import { npkLogicalChunks } from './logical-io.js';
import { npkCheckName } from './names.js';
import type { NpkStoreCore } from './store-core.js';
import { npkSaveOne } from './store-save.js';
import { quoteInput } from '../core/quote.js';

/** Rewrites an array without its deleted rows and removes its bitmap. */
export function npkCompact(store: NpkStoreCore, name: string): Promise<void> {
  return store.run(async () => {
    const state = store.state(name);
    if (!state.bitmap) return;
    let entry = state.entry;
    if (state.bitmap.deletedCount > 0) {
      // The compacted data is written beside the old, which stays in use until the
      // catalogue, the new data and the bitmap's removal are published together.
      const view = await state.view(store.path, true);
      const shape = state.logicalShape;
      const totalBytes = tensorByteLength(entry.dtype, shape, 'npk')!;
      const dataFile = await npkWriteArrayFiles(store.path, name, npkLogicalChunks(view, 0, state.logicalRows), {
        rowBytes: state.rowBytes, totalBytes, segmentTargetBytes: store.options.segmentTargetBytes, durable: store.options.durable, stage: (final) => store.staging.stage(final),
      });
      entry = { ...entry, dataFile, shape, sizeBytes: totalBytes };
    }
    await store.setArray({ ...entry, lastModified: Date.now() * 1000 }, undefined, entry !== state.entry);
    await store.commit();
  }, true);
}

/** Copies an array (its logical rows, compacted) under a new name. */
export async function npkClone(store: NpkStoreCore, source: string, target: string): Promise<void> {
  npkCheckName(target);
  return store.run(async () => {
    const state = store.state(source);
    if (store.arrays.has(target)) throw new TensioError('ALREADY_EXISTS', `npk: an array named ${quoteInput(target)} already exists`, { format: 'npk' });
    const view = await state.view(store.path, true);
    const chunks = state.entry.shape.length === 0 ? npkLogicalChunks(view, 0, 1) : npkLogicalChunks(view, 0, state.logicalRows);
    await npkSaveOne(store, target, { dtype: state.entry.dtype, shape: state.logicalShape }, chunks);
  }, true);
}
