/**
 * zTensor (`.zt`, container v2): read with the reference's rules and check order,
 * strict deterministic CBOR, XXH3/SHA-256 digests, sparse CSR/COO as multi-part tensors,
 * zstd-seekable parts as chunked locations.
 */
export {
  ZT_MAGIC, ZT_FOOTER_BYTES, ZT_ALIGN_FLOOR, ZT_ALIGN_CANONICAL, ZT_MAX_MANIFEST_BYTES, ZT_LAYOUT_DENSE, ZT_LAYOUT_CSR, ZT_LAYOUT_COO,
  ZT_ENCODING_ZSTD, ZtRejectError,
  type ZtRule, type ZtManifest, type ZtObject, type ZtPart, type ZtBlob, type ZtShard, type ZtFooter,
} from './types.js';
export { CborFloat, CborMap, cborDecodeStrict, cborEncodeCanonical, type CborValue } from './cbor.js';
export { ztParseFrame, ztParseManifest, type ZtReadOptions } from './read.js';
export { ztValidateManifest } from './validate.js';
export { ztXxh3, ztHasher, type ZtDigestAlgorithm } from './digest.js';
export { ztOpen, ztOpenAnyVersion, ztOpenSource, ztReadManifestFrom, ztShardFileName, type ZtReader, type ZtOpenOptions, type ZtCsr } from './reader.js';
export { ztZstdEncode, ztZstdSeekTable } from './zstd-seekable.js';
export { ztFormat, ztSniff } from './format.js';
export { ztCreateWriter, ztAttributesFrom, type ZtWriteOptions } from './write.js';
export { ztStorageOf, ztCannotWrite } from './dtypes.js';
export { ztVerify, ztContentDigest } from './verify.js';
export { ztEditMetadata, ZT_ATTRIBUTE_TYPES } from './edit.js';
export { ztV1Open, ztV1Lineage, type ZtV1Reader, type ZtV1Lineage } from './v1.js';
export { ztCreateShardedWriter, type ZtShardedWriteOptions } from './sharded-write.js';
