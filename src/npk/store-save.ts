/**
 * Whole-array writes: `save` (a record, one publish), `saveStream` (one array from
 * streamed bytes), and `reset` (every array gone, atomically).
 */
import { TensioError } from '../core/errors.js';
import { tensorByteLength } from '../core/sizes.js';
import type { Tensor } from '../core/tensor.js';
import { chunksOf, type TensorBytes } from '../storage/tensor-bytes.js';
import { npkWriteArrayFiles } from './array-write.js';
import { npkRowBytesOf } from './array-state.js';
import { npkDtypeCode } from './dtype-codes.js';
import { npkCheckName } from './names.js';
import { checkRecord, checkTensorBytes } from './store-checks.js';
import type { NpkStoreCore } from './store-core.js';
import type { NumPackArraySpec } from './store-types.js';
import { quoteInput } from '../core/quote.js';

/**
 * Creates or overwrites arrays. All tensors are checked (names, dtypes, sizes) before
 * anything is written; the new data is written beside the old and published in one
 * commit, so after a crash the store holds all of the record or none of it.
 */
export async function npkSave(store: NpkStoreCore, arrays: Readonly<Record<string, Tensor>>): Promise<void> {
  const entries = checkRecord(arrays);
  for (const [name, tensor] of entries) {
    npkCheckName(name);
    npkDtypeCode(tensor.dtype);
    checkTensorBytes(name, tensor);
  }
  return store.run(async () => {
    // One publish for the whole record: after a crash, all of it or none of it.
    for (const [name, tensor] of entries) await npkSaveOne(store, name, tensor, tensor.data, undefined, false);
    await store.commit();
  }, true);
}

/** Creates or overwrites one array from streamed bytes (C order, little-endian). */
export async function npkSaveStream(store: NpkStoreCore, name: string, spec: NumPackArraySpec, data: TensorBytes, signal?: AbortSignal): Promise<void> {
  npkCheckName(name);
  npkDtypeCode(spec.dtype);
  return store.run(() => npkSaveOne(store, name, spec, data, signal), true);
}

/**
 * Writes one array's data beside the old (which stays readable until the publish) and
 * sets its new entry; publishes unless `publish` is false (the caller publishes several).
 * Runs inside `store.run`.
 */
export async function npkSaveOne(store: NpkStoreCore, name: string, spec: NumPackArraySpec, data: TensorBytes, signal?: AbortSignal, publish = true): Promise<void> {
  const old = store.arrays.get(name);
  if (!old) {
    const clash = [...store.arrays.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
    if (clash) throw new TensioError('DUPLICATE_NAME', `npk: ${quoteInput(name)} differs from the existing ${quoteInput(clash)} only in case; their files would collide on case-insensitive disks`, { format: 'npk' });
  }
  const totalBytes = tensorByteLength(spec.dtype, spec.shape, 'npk')!;
  const dataFile = await npkWriteArrayFiles(store.path, name, chunksOf(data, signal), {
    rowBytes: npkRowBytesOf(spec), totalBytes, segmentTargetBytes: store.options.segmentTargetBytes, durable: store.options.durable,
    stage: (final) => store.staging.stage(final), ...(signal ? { signal } : {}),
  });
  await store.setArray({ name, shape: [...spec.shape], dataFile, lastModified: Date.now() * 1000, sizeBytes: totalBytes, dtype: spec.dtype }, undefined, true);
  if (publish) await store.commit();
}

/** Deletes every array and its files, atomically: the old store stays whole until the empty catalogue is published. */
export function npkReset(store: NpkStoreCore): Promise<void> {
  return store.run(async () => {
    for (const state of store.arrays.values()) {
      await state.closeData();
      state.generation++;
    }
    store.arrays.clear();
    store.staging.markReset();
    await store.staging.dropStagedFiles();
    await store.commit();
  }, true);
}
