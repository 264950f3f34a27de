/**
 * Verifying a sharded checkpoint: every shard the index names is verified by its
 * format (structure, sizes, its own checksums), the shards' tensor lists must match
 * the `weight_map` exactly (no tensor missing, unlisted, misplaced or stored twice),
 * and shard-named files of the same prefix that the index does not name are reported
 * as warnings (leftovers of an interrupted or older write).
 */
import { basename, dirname } from 'node:path';
import { folderStore } from '../../storage/folder-store.js';
import { isRemoteLocation, siblingLocation, sourceOptionsOf } from '../../storage/source-input.js';
import { isTensioError, throwIfAborted } from '../../core/errors.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from '../../model/types.js';
import { isHiddenFileName, parseShardFileName } from './names.js';
import { compareShardsWithIndex, openShards } from './reader.js';
import type { ShardedLayout } from './types.js';

/**
 * Files in the index's folder that look like shards of the same prefix (or the
 * prefix's single weights file) but that the index does not name. A reader that
 * follows the index never sees them; tools that list the folder may.
 *
 * @example
 * ```ts
 * await findStrayShards('ckpt/model.safetensors.index.json', ['model-00001-of-00002.safetensors', …], layout);
 * ```
 */
export async function findStrayShards(indexPath: string, named: readonly string[], layout: ShardedLayout): Promise<string[]> {
  const indexName = basename(indexPath);
  const suffix = `${layout.extension}.index.json`;
  if (!indexName.toLowerCase().endsWith(suffix)) return [];
  const prefix = indexName.slice(0, -suffix.length);
  const keep = new Set(named);
  if (isRemoteLocation(indexPath)) return []; // remote folders are not listed (HTTP cannot; S3 could, one request more)
  const entries = (await folderStore(dirname(indexPath)).list('', { recursive: false }).catch(() => [] as string[])).map((key) => key.replace(/\/$/, ''));
  return entries.filter((name) => {
    if (isHiddenFileName(name) || keep.has(name)) return false;
    if (name === `${prefix}${layout.extension}`) return true;
    return parseShardFileName(name, layout.extension)?.prefix === prefix;
  }).sort();
}

/**
 * Verifies the checkpoint an index describes. Never throws for a bad checkpoint:
 * problems (and warnings for stray files) come back in the report.
 *
 * @example
 * ```ts
 * const report = await verifyShardedCheckpoint('ckpt/model.safetensors.index.json', layout);
 * ```
 */
export async function verifyShardedCheckpoint(indexPath: string, layout: ShardedLayout, options: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  let tensors = 0;
  let checksumsVerified = 0;
  let withoutChecksum = 0;
  try {
    const opened = await openShards(indexPath, layout, options.signal);
    try {
      for (const mismatch of compareShardsWithIndex(opened, { strict: true })) {
        problems.push({ code: mismatch.code, tensor: mismatch.tensor, message: `${layout.format}: ${mismatch.message}` });
      }
      const total = [...opened.readers.values()].reduce((sum, reader) => sum + reader.tensors.reduce((s, info) => s + info.byteLength, 0), 0);
      // total_size is advisory (huggingface_hub counts a storage shared by tied weights once,
      // transformers once per name): a difference is worth a warning, not a failure.
      const declared = opened.index.metadata.total_size;
      if (typeof declared === 'number' && declared !== total) {
        warnings.push({ code: 'SIZE_MISMATCH', message: `the index declares total_size ${declared}, the tensors its shards hold take ${total} bytes` });
      }
      let before = 0;
      for (const [shard, reader] of opened.readers) {
        throwIfAborted(options.signal);
        const shardBytes = reader.tensors.reduce((s, info) => s + info.byteLength, 0);
        const report = await layout.verifyShard(siblingLocation(indexPath, shard), {
          ...sourceOptionsOf(options),
          ...(options.formatOptions ? { formatOptions: options.formatOptions } : {}),
          onProgress: (progress) => options.onProgress?.({ done: before + progress.done, total, ...(progress.item !== undefined ? { item: progress.item } : {}) }),
        });
        before += shardBytes;
        tensors += report.tensors;
        checksumsVerified += report.checksumsVerified;
        withoutChecksum += report.withoutChecksum;
        for (const problem of report.problems) problems.push({ ...problem, message: `${problem.message} (shard ${shard})` });
      }
    } finally {
      await opened.close();
    }
    for (const stray of await findStrayShards(indexPath, opened.index.shards, layout)) {
      warnings.push({ code: 'INVALID_STATE', message: `${stray} looks like part of this checkpoint but ${basename(indexPath)} does not name it (a leftover of an interrupted or older write; readers of the index ignore it, tools that list the folder may not)` });
    }
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    problems.push({ code: error.code, message: error.message });
  }
  return { ok: problems.length === 0, format: layout.format, path: indexPath, tensors, checksumsVerified, withoutChecksum, problems, ...(warnings.length > 0 ? { warnings } : {}) };
}
