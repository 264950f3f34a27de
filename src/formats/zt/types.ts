/**
 * Types of the zTensor v2 container (`.zt`): the frame constants, the rules the
 * reference implementation names when it rejects a file, the manifest as parsed, and
 * the storage dtype table. See `../shared/reference/ztensor.md` §1.
 */
import { TensioError, type TensioErrorCode } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';

/** `89 5A 54 32 0D 0A 1A 0A`: at offset 0 and as the last 8 bytes of every v2 file. */
export const ZT_MAGIC = Uint8Array.of(0x89, 0x5a, 0x54, 0x32, 0x0d, 0x0a, 0x1a, 0x0a);
/** Bytes of the footer at EOF: manifest offset, length, hash, version, reserved, magic. */
export const ZT_FOOTER_BYTES = 40;
/** Smallest file: the magic plus the footer. */
export const ZT_MIN_FILE_BYTES = 48;
/** Container version the footer must carry. */
export const ZT_VERSION = 2;
/** Every blob offset (manifest included) is a multiple of this, and at least this. */
export const ZT_ALIGN_FLOOR = 4096;
/** Canonical placement: blobs and manifest on 64 KiB boundaries, packed from 65536. */
export const ZT_ALIGN_CANONICAL = 65536;
/** Largest manifest the reference accepts, checked before it is read. */
export const ZT_MAX_MANIFEST_BYTES = 2 ** 30;
/** Longest object, part or attribute name in UTF-8 bytes. */
export const ZT_MAX_NAME_BYTES = 1024;
/** Longest shard name in bytes. */
export const ZT_MAX_SHARD_NAME_BYTES = 64;
/** Highest rank of an object's shape. */
export const ZT_MAX_RANK = 64;
/** Deepest CBOR nesting (the root is depth 0). */
export const ZT_MAX_CBOR_DEPTH = 32;
/** Largest decoded frame of `zt.zstd-seekable/1`. */
export const ZT_MAX_ZSTD_FRAME_BYTES = 16 * 2 ** 20;

/** The reference's rejection rules (`Rule` enum of pie-project/ztensor). */
export type ZtRule =
  | 'FileTooSmall' | 'HeaderMagic' | 'FooterMagic' | 'Version' | 'ManifestBounds' | 'ManifestTooLarge' | 'ManifestHash'
  | 'CborSyntax' | 'CborDeterminism' | 'CborDuplicateKey' | 'CborDepth'
  | 'Schema' | 'Name' | 'Shape' | 'BlobAlignment' | 'BlobBounds' | 'BlobOverlap' | 'ShardRef' | 'ShardName'
  | 'LayoutRule' | 'LayoutData' | 'DenseSize' | 'Encoding' | 'Digest' | 'ShardIdentity' | 'NameCollision';

/** The tensio error code each rule is reported under (tests and scripts read `rule` for the exact one). */
const RULE_CODES: Record<ZtRule, TensioErrorCode> = {
  FileTooSmall: 'TRUNCATED', HeaderMagic: 'BAD_MAGIC', FooterMagic: 'BAD_MAGIC', Version: 'UNSUPPORTED_VERSION',
  ManifestBounds: 'INVALID_OFFSET', ManifestTooLarge: 'HEADER_TOO_LARGE', ManifestHash: 'CHECKSUM_MISMATCH',
  CborSyntax: 'INVALID_HEADER', CborDeterminism: 'INVALID_HEADER', CborDuplicateKey: 'DUPLICATE_KEY', CborDepth: 'LIMIT_EXCEEDED',
  Schema: 'INVALID_METADATA', Name: 'INVALID_NAME', Shape: 'INVALID_SHAPE', BlobAlignment: 'INVALID_OFFSET',
  BlobBounds: 'INVALID_OFFSET', BlobOverlap: 'OVERLAPPING_DATA', ShardRef: 'NOT_FOUND', ShardName: 'INVALID_NAME',
  LayoutRule: 'INVALID_LAYOUT', LayoutData: 'INVALID_LAYOUT', DenseSize: 'SIZE_MISMATCH', Encoding: 'INVALID_HEADER',
  Digest: 'CHECKSUM_MISMATCH', ShardIdentity: 'CHECKSUM_MISMATCH', NameCollision: 'DUPLICATE_NAME',
};

/**
 * A rejection under one of zTensor's rules: a {@link TensioError} whose `rule` says
 * exactly which (the conformance corpus asserts it), with the usual tensio `code`.
 */
export class ZtRejectError extends TensioError {
  /** The reference's rule name, e.g. `'CborDeterminism'`. */
  readonly rule: ZtRule;
  constructor(rule: ZtRule, message: string, options: { path?: string; offset?: number; cause?: unknown } = {}) {
    super(RULE_CODES[rule], `zt: ${message} [${rule}]`, { ...options, format: 'zt' });
    this.rule = rule;
  }
}

/**
 * Throws a {@link ZtRejectError}.
 *
 * @example
 * ```ts
 * if (size < ZT_MIN_FILE_BYTES) ztReject('FileTooSmall', `file is ${size} bytes, at least 48 needed`);
 * ```
 */
export function ztReject(rule: ZtRule, message: string, options: { path?: string; offset?: number } = {}): never {
  throw new ZtRejectError(rule, message, options);
}

/** Throws the reference's `Unsupported` (a valid file, a capability tensio lacks) as `UNSUPPORTED_FEATURE`. */
export function ztUnsupported(message: string): never {
  throw new TensioError('UNSUPPORTED_FEATURE', `zt: ${message}`, { format: 'zt' });
}

/** The 12 storage dtypes (closed set) with their widths and tensio's dtype. */
export const ZT_STORAGE_DTYPES: Readonly<Record<string, { width: number; dtype: DType }>> = Object.freeze({
  f64: { width: 8, dtype: 'float64' }, f32: { width: 4, dtype: 'float32' }, f16: { width: 2, dtype: 'float16' }, bf16: { width: 2, dtype: 'bfloat16' },
  i64: { width: 8, dtype: 'int64' }, i32: { width: 4, dtype: 'int32' }, i16: { width: 2, dtype: 'int16' }, i8: { width: 1, dtype: 'int8' },
  u64: { width: 8, dtype: 'uint64' }, u32: { width: 4, dtype: 'uint32' }, u16: { width: 2, dtype: 'uint16' }, u8: { width: 1, dtype: 'uint8' },
});

/** A registered logical type: the storage dtype it pins, its size function and tensio's dtype. */
export interface ZtLogicalType {
  readonly storage: string;
  readonly dtype: DType;
  /** Decoded bytes of `n` elements. */
  size(n: bigint): bigint;
}

/** The logical types the reference registers (Appendix A). Unregistered ones stay structural. */
export const ZT_LOGICAL_TYPES: Readonly<Record<string, ZtLogicalType>> = Object.freeze({
  bool: { storage: 'u8', dtype: 'bool', size: (n) => n },
  f8_e4m3fn: { storage: 'u8', dtype: 'float8_e4m3fn', size: (n) => n },
  f8_e5m2: { storage: 'u8', dtype: 'float8_e5m2', size: (n) => n },
  f8_e4m3fnuz: { storage: 'u8', dtype: 'float8_e4m3fnuz', size: (n) => n },
  f8_e5m2fnuz: { storage: 'u8', dtype: 'float8_e5m2fnuz', size: (n) => n },
  f8_e8m0: { storage: 'u8', dtype: 'float8_e8m0', size: (n) => n },
  f4_e2m1: { storage: 'u8', dtype: 'float4_e2m1', size: (n) => (n + 1n) / 2n },
  complex64: { storage: 'f32', dtype: 'complex64', size: (n) => n * 8n },
  complex128: { storage: 'f64', dtype: 'complex128', size: (n) => n * 16n },
});

/** Layout ids. */
export const ZT_LAYOUT_DENSE = 'dense';
export const ZT_LAYOUT_CSR = 'zt.sparse_csr/1';
export const ZT_LAYOUT_COO = 'zt.sparse_coo/1';
export const ZT_LAYOUT_QUANT_GROUP = 'zt.quant_group/1';
export const ZT_LAYOUT_MX = 'zt.mx/1';
/** The one encoding besides raw that tensio decodes. */
export const ZT_ENCODING_ZSTD = 'zt.zstd-seekable/1';

/** Where a part's bytes are: `[offset, length]` in this file or in a named shard. */
export interface ZtBlob {
  readonly offset: bigint;
  readonly length: bigint;
  /** Absent: this file. */
  readonly shard?: string;
}

/** One part of an object, as the manifest says. */
export interface ZtPart {
  /** Storage dtype name (`'f32'`, `'u8'`, …). */
  readonly dtype: string;
  /** Logical type id, absent when it is the dtype itself. */
  readonly type?: string;
  readonly blob: ZtBlob;
  /** Encoding id, absent for raw. */
  readonly encoding?: string;
  readonly decodedLength?: bigint;
  /** `'<algo>:<lowercase hex>'` over the decoded bytes. */
  readonly digest?: string;
}

/** One object (a tensor) of the manifest. */
export interface ZtObject {
  readonly shape: readonly bigint[];
  readonly layout: string;
  /** The object's attributes as plain values (see `cbor.ts` `cborToPlain`). */
  readonly attributes?: unknown;
  /** The attributes as decoded CBOR (floats kept as floats), for the content digest. */
  readonly attributesCbor?: unknown;
  /** Parts by name, in bytewise name order. */
  readonly parts: ReadonlyMap<string, ZtPart>;
}

/** One entry of the shard table. */
export interface ZtShard {
  readonly size: bigint;
  readonly digest: string;
}

/** A parsed manifest. Objects and shards are in bytewise name order (the reference's BTreeMap order). */
export interface ZtManifest {
  readonly objects: ReadonlyMap<string, ZtObject>;
  readonly shards: ReadonlyMap<string, ZtShard>;
  readonly attributes?: unknown;
  /** The file attributes as decoded CBOR (floats kept as floats), for their float marks. */
  readonly attributesCbor?: unknown;
}

/** What the footer at EOF says. */
export type ZtFooter =
  | { readonly kind: 'data-shard' }
  | { readonly kind: 'manifest'; readonly offset: bigint; readonly length: bigint; readonly hash: bigint; readonly reserved: number };

/** Decoded size of a part: its blob length when raw, else `decoded_length`. */
export function ztDecodedSize(part: ZtPart): bigint {
  return part.encoding === undefined ? part.blob.length : part.decodedLength ?? 0n;
}

/** Bytewise (UTF-8) order of two names, as Rust's `BTreeMap<String, _>` sorts them. */
export function ztCompareNames(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

const utf8 = new TextEncoder();
