/**
 * Types of the Arrow IPC formats: the file format (= Feather v2, `ARROW1` magic and a
 * footer), the stream format (encapsulated messages to an end-of-stream marker), Tensor
 * and SparseTensor messages, and Feather v1.
 */
import type { DType } from '../../core/dtype.js';
import type { TableReadOptions, TableWriteOptions } from '../../model/table.js';

/** Arrow's `Type` union tags (Schema.fbs). */
export const ARROW_TYPE = {
  NONE: 0, Null: 1, Int: 2, FloatingPoint: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9,
  Timestamp: 10, Interval: 11, List: 12, Struct_: 13, Union: 14, FixedSizeBinary: 15, FixedSizeList: 16, Map: 17,
  Duration: 18, LargeBinary: 19, LargeUtf8: 20, LargeList: 21, RunEndEncoded: 22, BinaryView: 23, Utf8View: 24,
  ListView: 25, LargeListView: 26,
} as const;

/** Message header tags (Message.fbs). */
export const ARROW_MESSAGE = { NONE: 0, Schema: 1, DictionaryBatch: 2, RecordBatch: 3, Tensor: 4, SparseTensor: 5 } as const;

/** One field of a schema, as far as tensio needs it. */
export interface ArrowField {
  readonly name: string;
  readonly nullable: boolean;
  /** `ARROW_TYPE` tag. */
  readonly typeId: number;
  /** Readable type, e.g. `int32`, `float`, `utf8`, `fixed_size_list<float>[3]`, `timestamp[ms]`. */
  readonly typeName: string;
  /** The element dtype of a numeric (Int, FloatingPoint, Bool) type. */
  readonly dtype?: DType;
  /** FixedSizeList size. */
  readonly listSize?: number;
  /** Union mode (0 sparse, 1 dense). */
  readonly unionMode?: number;
  /** Dictionary-encoded: the index type's dtype (the field's buffers are the indices). */
  readonly dictionaryIndex?: DType;
  readonly children: readonly ArrowField[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** A schema message. */
export interface ArrowSchema {
  readonly bigEndian: boolean;
  readonly fields: readonly ArrowField[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** A byte range in a record batch body. */
export interface ArrowBufferRef {
  readonly offset: number;
  readonly length: number;
}

/** A record batch message header. */
export interface ArrowRecordBatchHeader {
  readonly length: number;
  readonly nodes: readonly { readonly length: number; readonly nullCount: number }[];
  readonly buffers: readonly ArrowBufferRef[];
  /** Body compression codec: 0 LZ4_FRAME, 1 ZSTD; undefined = uncompressed. */
  readonly codec?: number;
  readonly variadicBufferCounts: readonly number[];
}

/** A dense Tensor message header (pyarrow `write_tensor`). */
export interface ArrowTensorHeader {
  readonly dtype?: DType;
  readonly typeName: string;
  readonly shape: readonly number[];
  readonly dimNames: readonly string[];
  readonly strides: readonly number[];
  readonly data: ArrowBufferRef;
}

/** A SparseTensor message header (COO or CSR/CSC). */
export interface ArrowSparseTensorHeader {
  readonly dtype?: DType;
  readonly typeName: string;
  readonly shape: readonly number[];
  readonly nonZeroLength: number;
  readonly index:
    | { kind: 'coo'; indicesDtype?: DType; indicesStrides: readonly number[]; indices: ArrowBufferRef }
    | { kind: 'csx'; axis: 'row' | 'column'; indptrDtype?: DType; indptr: ArrowBufferRef; indicesDtype?: DType; indices: ArrowBufferRef }
    | { kind: 'csf' };
  readonly data: ArrowBufferRef;
}

/** One message: where its metadata and body are in the file. */
export interface ArrowMessage {
  readonly headerType: number;
  /** Absolute offset of the flatbuffer metadata. */
  readonly metadataOffset: number;
  readonly metadataLength: number;
  /** Absolute offset and length of the body. */
  readonly bodyOffset: number;
  readonly bodyLength: number;
}

/** Options of the Arrow reader (`formatOptions` of `open`). */
export interface ArrowOpenOptions extends TableReadOptions {
  /** Largest metadata flatbuffer accepted (default `ARROW_MAX_METADATA_BYTES`). */
  maxMetadataBytes?: number;
}

/** Options of the Arrow writer (`formatOptions` of `createWriter`). */
export interface ArrowWriteOptions extends TableWriteOptions {
  /** `'file'` (Feather v2, default) or `'stream'`. */
  ipc?: 'file' | 'stream';
  /** Body compression: `'lz4'`, `'zstd'` or `'none'` (default). */
  compression?: 'lz4' | 'zstd' | 'none';
  /** zstd level, -7 to 22 (default 1, Arrow C++'s and pyarrow's); zstd only. */
  compressionLevel?: number;
  /** Rows per record batch (default 65536). */
  batchRows?: number;
}
