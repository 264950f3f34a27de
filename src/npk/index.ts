/**
 * The NumPack store: `NumPack`, `LazyArray`, the registry entry and the byte-level
 * helpers for `metadata.npkm`, deletion bitmaps and segment manifests.
 *
 * @example
 * ```ts
 * import { NumPack } from 'tensio';
 * await using npk = await NumPack.open('data.npk');
 * ```
 */
export { NumPack } from './numpack.js';
export { NumPackBase } from './store-base.js';
export type { NumPackOpenOptions, NumPackIterateOptions, NumPackLoadOptions, NumPackMetadata, NumPackArrayMetadata, NumPackArraySpec } from './store-types.js';
export { LazyArray } from './lazy-array.js';
export type { LazyArrayBackend } from './lazy-array.js';
export type { NpkRowIndexes, NpkRowSlice } from './indexes.js';
export { npkResolveIndexes } from './indexes.js';
export { npkFormat, npkOpenReader, npkCreateWriter, npkIsStore, npkCannotWrite } from './format.js';
export type { NpkWriterOptions } from './format.js';
export { npkDecodeMetadata, npkEncodeMetadata, NPK_METADATA_MAGIC, NPK_METADATA_VERSION, NPK_METADATA_FILE } from './metadata.js';
export type { NpkArrayEntry, NpkMetadata } from './metadata.js';
export { NpkBitmap } from './bitmap.js';
export { npkDecodeManifest, npkEncodeManifest, npkRowsPerSegment, NPK_SEGMENT_TARGET_BYTES } from './segments.js';
export type { NpkSegment } from './segments.js';
export { npkDtypeCode, npkDtypeFromCode, npkDtypeName, npkSupportsDtype, NPK_DTYPES } from './dtype-codes.js';
export { npkCheckName, NPK_MAX_NAME_BYTES } from './names.js';
export { npkAcquireLock, NPK_LOCK_FILE } from './lock.js';
export type { NpkLock } from './lock.js';
