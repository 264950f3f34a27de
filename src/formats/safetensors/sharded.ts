/**
 * Sharded checkpoints read as ONE {@link TensorReader}: the index plus every shard it
 * names, each shard validated like a single file, and the index checked against them.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorFactory, TensioError } from '../../core/errors.js';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../../core/limits.js';
import { createTensorReader } from '../../model/create-reader.js';
import type { TensorInfo, TensorReader } from '../../model/types.js';
import { fileSource, type FileSource } from '../../storage/file-source.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { safetensorsReadHeaderFrom, safetensorsTensorInfos } from './reader.js';
import { parseSafetensorsShardName, safetensorsParseIndex, type SafetensorsIndex } from './sharded-index.js';
import type { SafetensorsReadOptions } from './types.js';

const fail = errorFactory('safetensors');
const INDEX_SUFFIX = '.safetensors.index.json';

/**
 * The index next to a shard path (`model-00002-of-00003.safetensors` →
 * `model.safetensors.index.json`), when it exists.
 *
 * @example
 * ```ts
 * await findSafetensorsIndex('ckpt/model-00001-of-00002.safetensors'); // 'ckpt/model.safetensors.index.json'
 * ```
 */
export async function findSafetensorsIndex(shardPath: string): Promise<string | undefined> {
  const parsed = parseSafetensorsShardName(basename(shardPath));
  if (!parsed) return undefined;
  const candidate = join(dirname(shardPath), `${parsed.prefix}${INDEX_SUFFIX}`);
  return (await stat(candidate).then((s) => s.isFile(), () => false)) ? candidate : undefined;
}

/**
 * The index file of a folder: its only `*.safetensors.index.json`, or
 * `model.safetensors.index.json` when there are several. Undefined when there is none.
 *
 * @example
 * ```ts
 * await findSafetensorsIndexInFolder('checkpoints/llama');
 * ```
 */
export async function findSafetensorsIndexInFolder(folder: string): Promise<string | undefined> {
  const names = (await readdir(folder).catch(() => [] as string[])).filter((name) => name.toLowerCase().endsWith(INDEX_SUFFIX)).sort();
  if (names.length === 0) return undefined;
  if (names.length === 1) return join(folder, names[0]!);
  const preferred = names.find((name) => name === `model${INDEX_SUFFIX}`);
  if (preferred) return join(folder, preferred);
  return fail('INVALID_ARGUMENT', `safetensors: ${folder} holds ${names.length} index files (${names.join(', ')}); open one of them`, { path: folder });
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
  const source = await fileSource(path);
  try {
    const limit = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
    if (source.size > limit) fail('HEADER_TOO_LARGE', `safetensors: index ${path} has ${source.size} bytes, over the limit ${limit} (maxHeaderBytes)`, { path });
    try {
      return safetensorsParseIndex(await source.read(0, source.size));
    } catch (error) {
      if (error instanceof TensioError && error.path === undefined) throw new TensioError(error.code, `${error.message} (${path})`, { format: 'safetensors', path, cause: error });
      throw error;
    }
  } finally {
    await source.close();
  }
}

/**
 * Opens a sharded checkpoint (an index file or a folder holding one) as one reader.
 * Throws `NOT_FOUND` for a missing shard or a tensor missing from its shard, and
 * `DUPLICATE_NAME` for a tensor stored in two shards.
 *
 * @example
 * ```ts
 * await using reader = await openSafetensorsSharded('checkpoints/llama');
 * ```
 */
export async function openSafetensorsSharded(indexOrFolder: string, options: SafetensorsReadOptions & { signal?: AbortSignal } = {}): Promise<TensorReader> {
  const isFolder = await stat(indexOrFolder).then((s) => s.isDirectory(), () => false);
  const indexPath = isFolder ? await findSafetensorsIndexInFolder(indexOrFolder) : indexOrFolder;
  if (!indexPath) return fail('NOT_FOUND', `safetensors: no *${INDEX_SUFFIX} in ${indexOrFolder}`, { path: indexOrFolder });
  const index = await safetensorsReadIndexFile(indexPath, options);
  const folder = dirname(indexPath);
  const sources: FileSource[] = [];
  try {
    const tensors: TensorInfo[] = [];
    const sourceOf = new Map<string, ByteSource>();
    const metadata: Record<string, string> = {};
    let size = 0;
    for (const shard of index.shards) {
      const shardPath = join(folder, shard);
      const source = await fileSource(shardPath).catch((cause: unknown) => {
        if (cause instanceof TensioError && cause.code === 'NOT_FOUND') fail('NOT_FOUND', `safetensors: shard ${shard} named by ${indexPath} does not exist`, { path: shardPath, cause });
        throw cause;
      });
      sources.push(source);
      size += source.size;
      const header = await safetensorsReadHeaderFrom(source, options).catch((cause: unknown) => {
        if (cause instanceof TensioError) throw new TensioError(cause.code, `${cause.message} (shard ${shardPath})`, { format: 'safetensors', path: shardPath, cause });
        throw cause;
      });
      Object.assign(metadata, header.metadata);
      for (const info of safetensorsTensorInfos(header, { shard })) {
        if (sourceOf.has(info.name)) fail('DUPLICATE_NAME', `safetensors: tensor ${JSON.stringify(info.name)} is stored in two shards (the second is ${shard})`, { path: shardPath });
        const mapped = Object.hasOwn(index.weightMap, info.name) ? index.weightMap[info.name] : undefined;
        if (mapped !== undefined && mapped !== shard) {
          fail('DUPLICATE_NAME', `safetensors: tensor ${JSON.stringify(info.name)} is in ${shard} but the index maps it to ${mapped}`, { path: shardPath });
        }
        sourceOf.set(info.name, source);
        tensors.push(info);
      }
    }
    for (const [name, shard] of Object.entries(index.weightMap)) {
      if (!sourceOf.has(name)) fail('NOT_FOUND', `safetensors: the index maps tensor ${JSON.stringify(name)} to ${shard}, which does not hold it`, { path: join(folder, shard) });
    }
    return createTensorReader({
      format: 'safetensors',
      path: indexPath,
      size,
      metadata,
      tensors,
      locate: (info) => ({ kind: 'span', source: sourceOf.get(info.name)!, offset: info.extras!.dataOffset as number }),
      close: async () => {
        await Promise.all(sources.map((source) => source.close()));
      },
    });
  } catch (error) {
    await Promise.all(sources.map((source) => source.close()));
    throw error;
  }
}

