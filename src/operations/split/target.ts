/**
 * Where a split conversion writes: a store, the checkpoint's folder inside it, the
 * file-name prefix and the shard extension, from a path or a `{ store, key }` naming
 * the index (`out/model.safetensors.index.json`), the one-file form
 * (`out/model.safetensors`) or a folder (`out/`: prefix `model`); an `s3://` URL is a
 * key of an S3 store (credentials and endpoint from the S3 defaults and environment).
 */
import { basename, dirname } from 'node:path';
import { TensioError } from '../../core/errors.js';
import type { TensorFormat } from '../../model/types.js';
import { folderStore } from '../../storage/folder-store.js';
import { keyFolder, type Store } from '../../storage/store.js';
import { isStoreKey, type WriteTarget } from '../../storage/write-target.js';
import { shardIndexFileName } from '../../formats/sharded/names.js';
import { isS3Url } from '../../storage/s3-location.js';
import { s3Store, s3StoreOf } from '../../storage/s3-store.js';

/** A resolved split output. */
export interface SplitTarget {
  readonly store: Store;
  /** `''` or `'sub/folder/'`. */
  readonly folderKey: string;
  readonly prefix: string;
  /** Shard extension with its dot: `.safetensors`. */
  readonly extension: string;
  /** Key of the index the finish writes. */
  readonly indexKey: string;
}

/** The formats of `formats` that can be written in parts, by name. */
export function splitFormatNames(formats: readonly TensorFormat[]): string[] {
  return formats.filter((format) => format.shardedOutput && format.createWriter).map((format) => format.name);
}

/**
 * Resolves `output` for `format`. Throws `UNSUPPORTED_FEATURE` for a format without
 * sharded output (naming those that have one) or a bare sink.
 *
 * @example
 * ```ts
 * resolveSplitTarget('out/model.safetensors.index.json', safetensorsFormat, BUILT_IN_FORMATS); // { folderKey: '', prefix: 'model', … }
 * ```
 */
export function resolveSplitTarget(output: WriteTarget, format: TensorFormat, formats: readonly TensorFormat[]): SplitTarget {
  const layout = format.shardedOutput;
  if (!layout || !format.createWriter) {
    throw new TensioError('UNSUPPORTED_FEATURE', `${format.name} cannot be written in parts: a split conversion writes a sharded checkpoint (shards and an index), which tensio writes for ${splitFormatNames(formats).join(', ') || 'no format'} only`, { format: format.name });
  }
  const { extension, defaultPrefix } = layout;
  const indexSuffix = `${extension}.index.json`;
  const split = (name: string): { prefix: string } | undefined => {
    const lower = name.toLowerCase();
    if (lower.endsWith(indexSuffix) && name.length > indexSuffix.length) return { prefix: name.slice(0, -indexSuffix.length) };
    if (lower.endsWith(extension) && name.length > extension.length) return { prefix: name.slice(0, -extension.length) };
    return undefined;
  };
  let store: Store;
  let folderKey: string;
  let prefix: string;
  if (typeof output === 'string' && isS3Url(output)) {
    // s3://bucket/prefix/model.safetensors.index.json: the prefix is the folder (a URL ending in / is one too).
    return resolveSplitTarget(output.endsWith('/') ? { store: s3Store(output), key: '' } : s3StoreOf(output), format, formats);
  } else if (typeof output === 'string') {
    const named = split(basename(output));
    store = folderStore(named ? dirname(output) : output);
    folderKey = '';
    prefix = named?.prefix ?? defaultPrefix;
  } else if (isStoreKey(output)) {
    store = output.store;
    const { key } = output;
    const named = split(key.slice(keyFolder(key).length));
    folderKey = named ? keyFolder(key) : key === '' || key.endsWith('/') ? key : `${key}/`;
    prefix = named?.prefix ?? defaultPrefix;
  } else {
    throw new TensioError('UNSUPPORTED_FEATURE', `${format.name}: a split conversion writes several files (shards, part manifests, an index) and cannot go to one sink; give a path or { store, key }`, { format: format.name });
  }
  return { store, folderKey, prefix, extension, indexKey: `${folderKey}${shardIndexFileName(prefix, extension)}` };
}
