/**
 * `tensio/io`: NumPack-style conversions between NumPack stores and other formats —
 * `fromX(data, npkPath)` / `toX(npkPath)` in memory, `fromXFile(xPath, npkPath)` /
 * `toXFile(npkPath, xPath)` streaming through the model seam — plus file-size helpers
 * and zero-copy views.
 *
 * @example
 * ```ts
 * import { fromSafetensorsFile, toNumpy } from 'tensio/io';
 * await fromSafetensorsFile('model.safetensors', 'model.npk', { dropIfExists: true });
 * await toNumpy('model.npk', 'model.npz');
 * ```
 *
 * @packageDocumentation
 */

export { LARGE_FILE_THRESHOLD, DEFAULT_CHUNK_SIZE, DEFAULT_BATCH_ROWS, MAX_CHUNK_ROWS } from './constants.js';
export { getFileSize, isLargeFile, estimateChunkRows } from './file-utils.js';
export { copyIntoStore, exportStore } from './store-transfer.js';
export type { IntoStoreOptions, ExportStoreOptions } from './store-transfer.js';
export { fromSafetensors, toSafetensors, fromSafetensorsFile, toSafetensorsFile, getSafetensorsMetadata, iterSafetensors } from './safetensors-io.js';
export { fromGgufFile, toGgufFile } from './gguf-io.js';
export type { FromGgufFileOptions, ToGgufFileOptions } from './gguf-io.js';
export type { FromSafetensorsOptions, ToSafetensorsOptions, FromSafetensorsFileOptions, ToSafetensorsFileOptions, SafetensorsFileSummary, IterSafetensorsOptions } from './safetensors-io.js';
export { fromNumpy, toNumpy } from './numpy-io.js';
export type { FromNumpyOptions, ToNumpyOptions } from './numpy-io.js';
export { fromTensor, toTensor, toTensioTensor } from './tensor-io.js';
export { fromZarr, toZarr } from './zarr-io.js';
export { fromCsv, toCsv, fromTxt, toTxt } from './csv-io.js';
export { fromParquetFile, toParquetFile, fromFeatherFile, toFeatherFile, fromTable, toTable, fromParquetTable, toParquetTable, fromParquet, toParquet, fromFeather, toFeather } from './table-io.js';
export type { FromTableOptions, ToTableFileOptions, TableInput } from './table-io.js';
export type { FromCsvOptions, ToCsvOptions } from './csv-io.js';
export { fromDataFrame, toDataFrame, openDataFrame, tensorToDataFrame } from './dataframe-io.js';
export type { DataFrameLike, FromDataFrameOptions, ToDataFrameOptions } from './dataframe-io.js';
export { toDlpack, fromDlpack, kDLCPU, kDLCUDA, kDLInt, kDLUInt, kDLFloat, kDLBfloat, kDLComplex, kDLBool } from './dlpack.js';
export type { DLPackTensor, DLPackDType } from './dlpack.js';
export { fromHdf5, toHdf5 } from './hdf5-io.js';
export { fromS3, toS3 } from './s3-io.js';
export type { FromS3Options, ToS3Options, S3TransferFormat } from './s3-io.js';
export { fromZtFile, toZtFile } from './zt-io.js';
export type { FromZtFileOptions, ToZtFileOptions } from './zt-io.js';
export type { FromHdf5Options, ToHdf5Options } from './hdf5-io.js';
export type { FromZarrOptions, ToZarrOptions } from './zarr-io.js';
export { fromTorchFile, toTorchFile, fromTorch, toTorch } from './torch-io.js';
export type { FromTorchFileOptions, ToTorchFileOptions, FromTorchOptions, ToTorchOptions } from './torch-io.js';
export type { FromTensorOptions, ToTensorOptions, TensorLike, OnnxTensorLike, TfjsTensorLike } from './tensor-io.js';
export { tensorToTypedArray, typedArrayToTensor, tensorToArrow, arrowToTensor, ZeroCopyArray, wrapForZeroCopy } from './zero-copy.js';
export type { ZeroCopyOptions, ZeroCopyResult } from './zero-copy.js';
export { readAllIntoWasmMemory, readIntoWasmMemory, wasmMappingUnavailableReason } from './wasm-io.js';
export type { ReadIntoWasmMemoryOptions, WasmMemoryLike, WasmTensor } from './wasm-io.js';
export { NumPack, LazyArray } from '../npk/index.js';
export type { NumPackOpenOptions, NumPackIterateOptions, NumPackLoadOptions } from '../npk/index.js';
