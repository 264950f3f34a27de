/**
 * safetensors: read (single files and sharded checkpoints), write (in memory, to a
 * file, streamed block by block, sharded), CRC32 checksums in `__metadata__`, verify.
 */
export {
  SAFETENSORS_DTYPES,
  SAFETENSORS_CRC32_KEY_PREFIX,
  SAFETENSORS_METADATA_KEY,
  safetensorsDtypeToTensio,
  safetensorsDtypeName,
  safetensorsDtypeRank,
} from './types.js';
export type { SafetensorsDtypeName, SafetensorsTensorEntry, SafetensorsHeader, SafetensorsReadOptions } from './types.js';
export { safetensorsReadHeader, safetensorsReadHeaderLength, safetensorsParseHeaderJson } from './read.js';
export { safetensorsValidateEntries, safetensorsCheckFileSize } from './validate.js';
export { safetensorsReadHeaderFrom, safetensorsTensorInfos, safetensorsOpenSource, safetensorsOpen } from './reader.js';
export type { SafetensorsOpenOptions } from './reader.js';
export { safetensorsPlanLayout, safetensorsSerialize, safetensorsWrite } from './write.js';
export type { SafetensorsLayout, SafetensorsLayoutEntry, SafetensorsLayoutOptions, SafetensorsTensors, SafetensorsWriteOptions } from './write.js';
export { SafetensorsStreamWriter, safetensorsStreamWriter } from './stream-writer.js';
export type { SafetensorsStreamWriterOptions, PatchableByteSink } from './stream-writer.js';
export { safetensorsCrc32Key, safetensorsIsCrc32Key, safetensorsFormatCrc32, safetensorsCrc32Update, SAFETENSORS_CRC32_PLACEHOLDER } from './checksum.js';
export { safetensorsVerify, safetensorsVerifyFile } from './verify.js';
export { safetensorsParseIndex, safetensorsParseShardName, safetensorsShardName, safetensorsFormatIndex } from './sharded-index.js';
export type { SafetensorsIndex } from './sharded-index.js';
export { safetensorsFindIndex, safetensorsFindIndexInFolder, safetensorsReadIndexFile, safetensorsOpenSharded, safetensorsVerifySharded, safetensorsShardLayout, safetensorsResolveTarget } from './sharded.js';
export type { SafetensorsTarget } from './sharded.js';
export {
  SAFETENSORS_DEFAULT_MAX_SHARD_BYTES,
  SafetensorsShardedWriter,
  safetensorsShardedWriter,
  safetensorsWriteSharded,
  safetensorsSplitShards,
  safetensorsResolveShardTarget,
} from './sharded-writer.js';
export type { SafetensorsShardedWriterOptions } from './sharded-writer.js';
export { safetensorsFormat, safetensorsSniff, safetensorsMetadataFrom, safetensorsCannotWrite } from './format.js';
export { safetensorsEditMetadata } from './edit.js';
