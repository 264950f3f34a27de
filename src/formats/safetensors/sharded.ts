/**
 * Sharded safetensors checkpoints read as ONE {@link TensorReader} (the index plus every
 * shard it names, each shard validated like a single file, the index checked against
 * them), through the generic sharded code in `src/formats/sharded/`.
 */
import { errorFactory } from '../../core/errors.js';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import type { TensorReader, VerifyOptions, VerifyReport } from '../../model/types.js';
import { locationKind, openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { findCheckpointInFolder, findIndexNamingShard, readShardIndexFile } from '../sharded/locate.js';
import { openShardedCheckpoint } from '../sharded/reader.js';
import type { ShardedLayout } from '../sharded/types.js';
import { verifyShardedCheckpoint } from '../sharded/verify.js';
import { safetensorsOpenSource } from './reader.js';
import type { SafetensorsIndex } from './sharded-index.js';
import type { SafetensorsReadOptions } from './types.js';
import { safetensorsVerifyFile } from './verify.js';

const fail = errorFactory('safetensors');
const INDEX_SUFFIX = '.safetensors.index.json';

/**
 * The safetensors shard layout for the generic sharded code, with these read limits.
 *
 * @example
 * ```ts
 * await openShardedCheckpoint(indexPath, safetensorsShardLayout({ maxHeaderBytes: 2e8 }));
 * ```
 */
export function safetensorsShardLayout(options: SafetensorsReadOptions = {}): ShardedLayout {
  const maxHeaderBytes = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  return {
    format: 'safetensors',
    extension: '.safetensors',
    defaultPrefix: 'model',
    maxIndexBytes: maxHeaderBytes,
    ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}),
    openShard: async (path, signal) => {
      const { source } = await openSourceInput(path, sourceOptionsOf(options, signal));
      return safetensorsOpenSource(source, { ...options, ownsSource: true, ...(signal ? { signal } : {}) });
    },
    verifyShard: (path, verifyOptions: VerifyOptions) => safetensorsVerifyFile(path, { ...verifyOptions, maxHeaderBytes }),
  };
}

/**
 * The index that names this shard (`model-00002-of-00003.safetensors` →
 * `model.safetensors.index.json`), only when that index's `weight_map` lists the
 * file. A file named like a shard that the index beside it does not list is not part
 * of that model: undefined (open it alone).
 *
 * @example
 * ```ts
 * await safetensorsFindIndex('ckpt/model-00001-of-00002.safetensors'); // 'ckpt/model.safetensors.index.json'
 * ```
 */
export async function safetensorsFindIndex(shardPath: string, options: SafetensorsReadOptions = {}): Promise<string | undefined> {
  return findIndexNamingShard(shardPath, safetensorsShardLayout(options));
}

/**
 * The index file of a folder: its only `*.safetensors.index.json`, or
 * `model.safetensors.index.json` when there are several. Undefined when there is none.
 *
 * @example
 * ```ts
 * await safetensorsFindIndexInFolder('checkpoints/llama');
 * ```
 */
export async function safetensorsFindIndexInFolder(folder: string): Promise<string | undefined> {
  const found = await findCheckpointInFolder(folder, safetensorsShardLayout());
  return found?.kind === 'index' ? found.path : undefined;
}

/**
 * Reads and parses an index file (capped at the header limit: an index is JSON like a header).
 *
 * @example
 * ```ts
 * const index = await safetensorsReadIndexFile('model.safetensors.index.json');
 * ```
 */
export async function safetensorsReadIndexFile(path: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsIndex> {
  return readShardIndexFile(path, options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES, options);
}

/** What a path given to a safetensors reader or verifier stands for. */
export type SafetensorsTarget = { kind: 'index'; path: string } | { kind: 'single'; path: string };

/**
 * Resolves a path: an index file; a folder (its index, else its one `.safetensors`
 * file); a shard that an index names (that index, unless `followIndex` is false); any
 * other file alone.
 */
export async function safetensorsResolveTarget(path: string, options: SafetensorsReadOptions & { followIndex?: boolean } = {}): Promise<SafetensorsTarget> {
  const layout = safetensorsShardLayout(options);
  const kind = await locationKind(path);
  if (kind === 'folder' || (kind === 'remote' && new URL(path).pathname.endsWith('/'))) {
    if (kind === 'remote') return fail('UNSUPPORTED_FEATURE', `safetensors: ${path} names a remote folder, which HTTP cannot list; give the URL of its *${INDEX_SUFFIX} or .safetensors file`, { path });
    const found = await findCheckpointInFolder(path, layout);
    if (!found) return fail('NOT_FOUND', `safetensors: ${path} holds no *${INDEX_SUFFIX} and no .safetensors file`, { path });
    return found;
  }
  if (path.toLowerCase().endsWith('.index.json')) return { kind: 'index', path };
  if (options.followIndex ?? true) {
    const index = await findIndexNamingShard(path, layout);
    if (index) return { kind: 'index', path: index };
  }
  return { kind: 'single', path };
}

/**
 * Opens a sharded checkpoint (an index file, a folder holding one, or a shard it
 * names) as one reader. Throws `NOT_FOUND` for a missing shard or a tensor missing
 * from its shard, and `DUPLICATE_NAME` for a tensor stored in two shards.
 *
 * @example
 * ```ts
 * await using reader = await safetensorsOpenSharded('checkpoints/llama');
 * ```
 */
export async function safetensorsOpenSharded(indexOrFolder: string, options: SafetensorsReadOptions & { signal?: AbortSignal } = {}): Promise<TensorReader> {
  const target = await safetensorsResolveTarget(indexOrFolder, options);
  if (target.kind !== 'index') return fail('NOT_FOUND', `safetensors: no *${INDEX_SUFFIX} for ${indexOrFolder}`, { path: indexOrFolder });
  return openShardedCheckpoint(target.path, safetensorsShardLayout(options), options.signal);
}

/**
 * Verifies a sharded safetensors checkpoint: every shard (structure and CRC32s), the
 * index against the shards, and stray shard files of the same prefix (warnings).
 *
 * @example
 * ```ts
 * const report = await safetensorsVerifySharded('ckpt/model.safetensors.index.json');
 * ```
 */
export function safetensorsVerifySharded(indexPath: string, options: VerifyOptions & SafetensorsReadOptions = {}): Promise<VerifyReport> {
  return verifyShardedCheckpoint(indexPath, safetensorsShardLayout(options), options);
}
