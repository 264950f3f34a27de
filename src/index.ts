/**
 * tensio: tensor files for TypeScript. Store, stream, inspect, verify and convert
 * tensors between the formats ML and data people use, with bounded memory, atomic
 * writes and no pickle ever executed.
 *
 * @example
 * ```ts
 * import { openTensorFile, convert } from 'tensio';
 * await using reader = await openTensorFile('model.safetensors');
 * console.log(reader.tensors.map((t) => `${t.name} ${t.dtype} [${t.shape}]`));
 * await convert('model.safetensors', 'model.npz');
 * ```
 *
 * @packageDocumentation
 */

export * from './core/errors.js';
export * from './core/dtype.js';
export * from './core/block-dtypes.js';
export * from './core/tensor.js';
export * from './core/sizes.js';
export * from './core/limits.js';
export * from './core/float-convert.js';
export * from './core/float-cast.js';

export * from './storage/byte-source.js';
export * from './storage/file-source.js';
export * from './storage/cached-source.js';
export * from './storage/byte-sink.js';
export * from './storage/atomic-file-sink.js';
export * from './storage/write-target.js';
export { stagedSink, type StagedSinkOptions } from './storage/staged-sink.js';
export { removeStaleTemporaries } from './storage/temporary-names.js';
export * from './storage/store.js';
export * from './storage/folder-store.js';
export * from './storage/source-input.js';
export type { HttpOptions, HttpStats } from './storage/http-client.js';
export { httpSource, type HttpSource, type HttpSourceOptions } from './storage/http-source.js';
export { httpStore, type HttpStore, type HttpStoreOptions } from './storage/http-store.js';

export * from './model/types.js';
export * from './model/create-reader.js';
export * from './model/nd-slice.js';
export * from './model/layouts.js';
export * from './model/densify.js';
export * from './storage/tensor-bytes.js';
export * from './operations/index.js';
export * from './operations/dtype-cast.js';
export * from './zip/index.js';
export { zipVerifyTensorFile } from './formats/shared/zip-verify.js';
export * from './formats/safetensors/index.js';
export * from './formats/sharded/index.js';
export * from './npk/index.js';
export * from './formats/npy/index.js';
export * from './formats/pytorch/index.js';
export * from './formats/npz/index.js';
export * from './model/verify-by-reading.js';
export * from './core/memory.js';
