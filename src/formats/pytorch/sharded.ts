/**
 * Sharded PyTorch checkpoints, the layout of many older Hub repositories:
 * `pytorch_model-00001-of-00003.bin` (each a `torch.save` of part of the state dict)
 * plus `pytorch_model.bin.index.json` mapping every tensor to its shard. Read as one
 * model from the index, the folder or a shard its index names, through the generic
 * sharded code in `src/formats/sharded/`. A model folder holding one
 * `pytorch_model.bin` opens that file.
 */
import { locationKind } from '../../storage/source-input.js';
import { errorFactory } from '../../core/errors.js';
import { SHARDED_INDEX_MAX_BYTES } from '../../core/limits.js';
import type { VerifyOptions, VerifyReport } from '../../model/types.js';
import { findCheckpointInFolder, findIndexNamingShard } from '../sharded/locate.js';
import type { ShardedLayout } from '../sharded/types.js';
import { pytorchOpen } from './reader.js';
import type { PytorchOpenOptions } from './types.js';

const fail = errorFactory('pytorch');

/** Options of the sharded `.bin` reader on top of {@link PytorchOpenOptions}. */
export interface PytorchShardedOptions extends PytorchOpenOptions {
  /** Largest `pytorch_model.bin.index.json` read (default SHARDED_INDEX_MAX_BYTES). */
  maxIndexBytes?: number;
  /**
   * When given a shard that the index beside it names, open the whole checkpoint.
   * Default true; false opens just that file.
   */
  followIndex?: boolean;
}

/**
 * The `.bin` shard layout for the generic sharded code. `verifyFile` is the
 * single-file verifier (the registry entry's), passed in to keep imports one-way.
 *
 * @example
 * ```ts
 * await openShardedCheckpoint('ckpt/pytorch_model.bin.index.json', pytorchShardLayout({}, verifyOneFile));
 * ```
 */
export function pytorchShardLayout(options: PytorchShardedOptions, verifyFile: (path: string, options: VerifyOptions) => Promise<VerifyReport>): ShardedLayout {
  const { maxIndexBytes, followIndex: _followIndex, ...openOptions } = options;
  return {
    format: 'pytorch',
    extension: '.bin',
    defaultPrefix: 'pytorch_model',
    maxIndexBytes: maxIndexBytes ?? SHARDED_INDEX_MAX_BYTES,
    ...(openOptions.http ? { http: openOptions.http } : {}),
    ...(openOptions.s3 ? { s3: openOptions.s3 } : {}),
    openShard: (path, signal) => pytorchOpen(path, { ...openOptions, ...(signal ? { signal } : {}) }),
    verifyShard: verifyFile,
  };
}

/**
 * What a path given to the PyTorch reader stands for: a `*.bin.index.json`; a folder
 * (its index, else `pytorch_model.bin` or its one `.bin` file); a shard that its index
 * names (that index, unless `followIndex` is false); any other file alone.
 *
 * @example
 * ```ts
 * await resolvePytorchTarget('ckpt/pytorch_model-00001-of-00002.bin', layout); // { kind: 'index', path: 'ckpt/pytorch_model.bin.index.json' }
 * ```
 */
export async function resolvePytorchTarget(path: string, layout: ShardedLayout, followIndex = true): Promise<{ kind: 'index' | 'single'; path: string }> {
  const kind = await locationKind(path);
  if (kind === 'folder') {
    const found = await findCheckpointInFolder(path, layout);
    if (!found) return fail('NOT_FOUND', `pytorch: ${path} holds no *.bin.index.json and no .bin file`, { path });
    return found;
  }
  if (path.toLowerCase().endsWith('.index.json')) return { kind: 'index', path };
  if (followIndex) {
    const index = await findIndexNamingShard(path, layout);
    if (index) return { kind: 'index', path: index };
  }
  return { kind: 'single', path };
}

/** The pytorch reader's `formatOptions` (`openTensorFile`, `verifyTensorFile`, convert's `readOptions`). */
export type PytorchOpenFormatOptions = Omit<PytorchShardedOptions, 'signal' | 'http'>;
