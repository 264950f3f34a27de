/**
 * safetensors types and the dtype table (names as in the reference `Dtype` enum of
 * safetensors 0.8 `tensor.rs`, in its alignment order).
 */
import type { S3Options } from '../../storage/s3-client.js';
import type { DType } from '../../core/dtype.js';
import type { HttpSourceOptions } from '../../storage/http-source.js';

/** A safetensors dtype name (`'F32'`, `'BF16'`, …). */
export type SafetensorsDtypeName =
  | 'BOOL' | 'F4' | 'F6_E2M3' | 'F6_E3M2' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'F8_E8M0'
  | 'F8_E4M3FNUZ' | 'F8_E5M2FNUZ' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32'
  | 'C64' | 'F64' | 'I64' | 'U64';

/**
 * Every safetensors dtype with its tensio dtype, in the reference enum order. The
 * writer sorts tensors by the position in this list, descending (largest alignment first).
 */
export const SAFETENSORS_DTYPES: readonly (readonly [SafetensorsDtypeName, DType])[] = [
  ['BOOL', 'bool'],
  ['F4', 'float4_e2m1'],
  ['F6_E2M3', 'float6_e2m3'],
  ['F6_E3M2', 'float6_e3m2'],
  ['U8', 'uint8'],
  ['I8', 'int8'],
  ['F8_E5M2', 'float8_e5m2'],
  ['F8_E4M3', 'float8_e4m3fn'],
  ['F8_E8M0', 'float8_e8m0'],
  ['F8_E4M3FNUZ', 'float8_e4m3fnuz'],
  ['F8_E5M2FNUZ', 'float8_e5m2fnuz'],
  ['I16', 'int16'],
  ['U16', 'uint16'],
  ['F16', 'float16'],
  ['BF16', 'bfloat16'],
  ['I32', 'int32'],
  ['U32', 'uint32'],
  ['F32', 'float32'],
  ['C64', 'complex64'],
  ['F64', 'float64'],
  ['I64', 'int64'],
  ['U64', 'uint64'],
];

const TO_TENSIO = new Map<string, DType>(SAFETENSORS_DTYPES);
const TO_SAFETENSORS = new Map<DType, SafetensorsDtypeName>(SAFETENSORS_DTYPES.map(([name, dtype]) => [dtype, name]));
const RANK = new Map<DType, number>(SAFETENSORS_DTYPES.map(([, dtype], index) => [dtype, index]));

/**
 * The tensio dtype of a safetensors dtype name, or `undefined` for a name tensio does not know.
 *
 * @example
 * ```ts
 * safetensorsDtypeToTensio('BF16'); // 'bfloat16'
 * ```
 */
export function safetensorsDtypeToTensio(name: string): DType | undefined {
  return TO_TENSIO.get(name);
}

/**
 * The safetensors name of a tensio dtype, or `undefined` when safetensors cannot hold it
 * (`complex128`, `opaque`).
 *
 * @example
 * ```ts
 * safetensorsDtypeName('float8_e4m3fn'); // 'F8_E4M3'
 * ```
 */
export function safetensorsDtypeName(dtype: DType): SafetensorsDtypeName | undefined {
  return TO_SAFETENSORS.get(dtype);
}

/** Position of a dtype in the reference enum (its sort key for writing); -1 if unknown. */
export function safetensorsDtypeRank(dtype: DType): number {
  return RANK.get(dtype) ?? -1;
}

/** One tensor entry of a safetensors header, validated. */
export interface SafetensorsTensorEntry {
  readonly name: string;
  /** tensio dtype; `'opaque'` for a dtype name tensio does not know. */
  readonly dtype: DType;
  /** The dtype exactly as the file spells it. */
  readonly formatDtype: string;
  readonly shape: readonly number[];
  /** `[begin, end)` relative to the start of the data buffer. */
  readonly dataOffsets: readonly [number, number];
  readonly byteLength: number;
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** `N`: byte length of the JSON header (including padding). */
  readonly headerLength: number;
  /** Absolute offset of the data buffer: `8 + N`. */
  readonly dataStart: number;
  /** The `__metadata__` map; `{}` when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** True when the header has a `__metadata__` entry. */
  readonly hasMetadata: boolean;
  /** Tensors in data order (sorted by offsets, as the reference reader sorts them). */
  readonly tensors: readonly SafetensorsTensorEntry[];
}

/** Options for reading a safetensors header. */
export interface SafetensorsReadOptions {
  /** Largest JSON header accepted; default {@link SAFETENSORS_MAX_HEADER_BYTES} (100 MB, as the reference). */
  maxHeaderBytes?: number;
  /** For `http(s)://` inputs (a remote file, index or shards): headers, retries, timeouts. */
  http?: HttpSourceOptions;
  /** For `s3://` locations: endpoint, region, profile, credentials, anonymous, part size, concurrency. */
  s3?: S3Options;
}

/** Metadata key prefix tensio uses for per-tensor CRC32s: `crc32:<tensor name>` → 8 lower-case hex digits. */
export const SAFETENSORS_CRC32_KEY_PREFIX = 'crc32:';

/** The reserved header key holding file metadata; never a tensor name. */
export const SAFETENSORS_METADATA_KEY = '__metadata__';

/** The safetensors reader's `formatOptions` (`openTensorFile`, `verifyTensorFile`, convert's `readOptions`). */
export type SafetensorsOpenFormatOptions = {
  /** Largest JSON header accepted (default 100 MB, as the reference reader). */
  maxHeaderBytes?: number;
  /** Given a shard its index names, open the whole checkpoint (default true); false opens the file alone. */
  followIndex?: boolean;
};

/** The safetensors writer's `formatOptions` (convert's `writeOptions`). */
export type SafetensorsWriteFormatOptions = {
  /** Record each tensor's CRC-32 in `__metadata__` as `crc32:<name>`. */
  crc32?: boolean;
  /** Write a sharded checkpoint, shards of at most this many data bytes. */
  maxShardBytes?: number;
  /** Spaces reserved in each header so `tensio edit` can grow `__metadata__` in place later. */
  headerReserve?: number;
};
