/**
 * Sharded checkpoints for any shard format (safetensors, PyTorch `.bin`): the index
 * file, shard names, finding the parts on disk, reading as one model, verifying the
 * set, and publishing a new set atomically.
 */
export { parseShardFileName, shardFileName, shardIndexFileName, isHiddenFileName } from './names.js';
export type { ShardFileName } from './names.js';
export { parseShardIndex, formatShardIndex } from './index-file.js';
export type { ShardIndex } from './index-file.js';
export { readShardIndexFile, findIndexNamingShard, findCheckpointInFolder, folderHasCheckpoint } from './locate.js';
export type { FolderCheckpoint } from './locate.js';
export { openShardedCheckpoint, openShardedCheckpointWith, openShards, compareShardsWithIndex } from './reader.js';
export type { OpenedShards, ShardMismatch, ShardOpener } from './reader.js';
export { verifyShardedCheckpoint, findStrayShards } from './verify.js';
export { SHARDED_PUBLISH_OPERATION, chooseShardNames, checkShardSetTarget, publishShardSet } from './publish.js';
export type { ShardSetPlan, StagedShardFile } from './publish.js';
export type { ShardedLayout } from './types.js';
