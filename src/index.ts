/**
 * tensio: tensor files for TypeScript. Store, stream, inspect, verify and convert
 * tensors between the formats ML and data people use, with bounded memory, atomic
 * writes and no pickle ever executed.
 *
 * The root entry is small on purpose: the operations over every format (open, convert,
 * verify, diff), tensors, dtypes and float helpers, errors, sources/sinks/stores, and
 * the types of the model seam. Each format's own API is behind its subpath
 * (`tensio/safetensors`, `tensio/pytorch`, `tensio/npy`, `tensio/npz`, …), the
 * NumPack-compatible API behind `tensio/io`, what a format author needs behind
 * `tensio/model`, and the named limits behind `tensio/limits`.
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

// Operations over every format.
export {
  openTensorFile, convert, convertReader, finishSplitConvert, verifyTensorFile, diffTensorFiles, diffTensorReaders, detectFormat, getFormat, BUILT_IN_FORMATS,
  type OpenTensorFileOptions, type ConvertOptions, type ConvertResult, type FinishSplitConvertOptions, type FinishSplitConvertResult, type VerifyTensorFileOptions, type FormatListOption,
  type DiffOptions, type DiffReport, type DiffSide, type DiffTensorSummary, type DiffChangedSpec, type DiffChangedContent, type DiffLocation,
  type BuiltInFormatName, type FormatOptionsByName, type OpenFormatOptions, type WriteFormatOptions,
} from './operations/index.js';
export type { DTypeCast } from './operations/dtype-cast.js';

// Tensors, dtypes and float helpers.
export { createTensor, typedView, isViewAligned, tensorsEqual, type Tensor, type NDArray, type TensorData } from './core/tensor.js';
export { DTYPES, DTYPE_INFO, isDType, dtypeInfo, itemSize, type DType, type DTypeKind, type DTypeInfo, type TypedArray, type TypedArrayConstructor } from './core/dtype.js';
export { BLOCK_DTYPES, BLOCK_DTYPE_INFO, isBlockDType, type BlockDType, type BlockDTypeInfo } from './core/block-dtypes.js';
export { elementCount, tensorByteLength } from './core/sizes.js';
export { float32ToFloat16Bits, float32ToBfloat16Bits, toFloat32Array, fromFloat32Array } from './core/float-convert.js';
export { CASTABLE_FLOAT_DTYPES, isCastableFloat, castFloatElements } from './core/float-cast.js';

// Errors.
export { TensioError, isTensioError, type TensioErrorCode, type TensioErrorOptions } from './core/errors.js';

// Sources, sinks, stores.
export { bytesSource, readRange, toByteSource, type ByteSource, type ByteRange, type ByteInput, type ReadOptions, type MappedBytes } from './storage/byte-source.js';
export { fileSource, type FileSource, type FileSourceOptions } from './storage/file-source.js';
export { memoryMapStatus, isMemoryMapped, memoryMapFaulted, memoryMapPopulateAvailable, memoryMapPopulateError, memoryMapPopulatePending, populateMappedView, type MemoryMapStatus, type PopulateMethod, type PopulateSupport } from './storage/memory-map.js';
export { isHugePageBuffer } from './storage/huge-pages.js';
export { withCache, type CacheOptions, type CacheStats, type CachedSource } from './storage/cached-source.js';
export { openSourceInput, isByteSource, isHttpUrl, type SourceInput, type SourceInputOptions, type OpenedSource } from './storage/source-input.js';
export { httpSource, type HttpSource, type HttpSourceOptions } from './storage/http-source.js';
export { httpStore, type HttpStore, type HttpStoreOptions } from './storage/http-store.js';
export type { HttpOptions, HttpStats } from './storage/http-client.js';
export { memorySink, type ByteSink, type MemorySink } from './storage/byte-sink.js';
export { atomicFileSink, type AtomicFileSink, type AtomicFileSinkOptions } from './storage/atomic-file-sink.js';
export { stagedSink, type StagedSinkOptions } from './storage/staged-sink.js';
export { openWriteSink, type WriteTarget, type StoreKey, type StagingPolicy, type OpenWriteSinkOptions } from './storage/write-target.js';
export { readStoreText, type Store, type StoreWriteOptions, type StoreListOptions } from './storage/store.js';
export { folderStore, type FolderStore } from './storage/folder-store.js';
export { collectBytes, type TensorBytes } from './storage/tensor-bytes.js';

// The model seam: readers, writers, formats, layouts.
export { UNSUPPORTED_TENSORS_KEY } from './model/types.js';
export type * from './model/types.js';
export type { TensorSlice, DimensionSlice } from './model/nd-slice.js';
export { isMultiPart, type TensorPartInfo, type TensorLayout, type SparseCsrLayout, type SparseCooLayout, type QuantGroupLayout, type MxLayout, type OtherLayout } from './model/layouts.js';
export { densify, type DensifyOptions } from './model/densify.js';
export { readEach, READ_EACH_AHEAD_BYTES, READ_EACH_MAX_COPIES, READ_EACH_OFF_THREAD_MIN_BYTES, type ReadEachOptions, type ReadEachItem } from './model/read-each.js';
export { READ_POPULATE_BACKLOG_BYTES } from './model/read-populate.js';
