/**
 * Finding the groups and arrays of a Zarr store: consolidated metadata first (one read:
 * v2 `.zmetadata`, v3 `consolidated_metadata` in the root `zarr.json`), else every
 * metadata key the store lists. A store that cannot list (plain HTTP) and has no
 * consolidated metadata can still be opened when its root is an array.
 */
import { TensioError } from '../../core/errors.js';
import type { ReadOptions } from '../../storage/byte-source.js';
import type { Store } from '../../storage/store.js';
import { zarrParseJson, zarrParseV2Array, zarrParseV3Array } from './read.js';
import type { ZarrArrayMeta, ZarrGroupMeta, ZarrHierarchy, ZarrUnreadable } from './types.js';
import { ZARR_MAX_METADATA_BYTES } from './validate.js';

type Json = Record<string, unknown>;

async function readJson(store: Store, key: string, options: ReadOptions, maxBytes: number): Promise<Json | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.read(key, undefined, options);
  } catch (error) {
    if (error instanceof TensioError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  if (bytes.byteLength > maxBytes) throw new TensioError('LIMIT_EXCEEDED', `zarr: ${store.locate(key)} is ${bytes.byteLength} bytes, more than ${maxBytes} (maxMetadataBytes)`, { format: 'zarr' });
  return zarrParseJson(bytes, store.locate(key));
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function parentOf(key: string, name: string): string {
  return key === name ? '' : key.slice(0, -(name.length + 1));
}

/**
 * Reads the hierarchy of a store.
 *
 * @example
 * ```ts
 * const { arrays } = await zarrReadHierarchy(folderStore('data.zarr'));
 * ```
 */
export async function zarrReadHierarchy(store: Store, options: ReadOptions & { maxMetadataBytes?: number } = {}): Promise<ZarrHierarchy> {
  const maxBytes = options.maxMetadataBytes ?? ZARR_MAX_METADATA_BYTES;
  const readOptions: ReadOptions = options.signal ? { signal: options.signal } : {};
  const groups: ZarrGroupMeta[] = [];
  const arrays: ZarrArrayMeta[] = [];
  const unreadable: ZarrUnreadable[] = [];
  const add = (path: string, parse: () => ZarrArrayMeta | ZarrUnreadable) => {
    let found: ZarrArrayMeta | ZarrUnreadable;
    try {
      found = parse();
    } catch (error) {
      // Valid metadata asking for what tensio does not read (a rectilinear grid, a storage
      // transformer): that array is listed as unsupported, the rest of the store still opens.
      if (!(error instanceof TensioError) || error.code !== 'UNSUPPORTED_FEATURE') throw error;
      found = { path, reason: error.message, code: 'UNSUPPORTED_FEATURE' };
    }
    if ('reason' in found) unreadable.push(found);
    else arrays.push(found);
  };
  const finish = (zarrFormat: 2 | 3, consolidated: boolean): ZarrHierarchy => {
    arrays.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    groups.sort((a, b) => (a.path < b.path ? -1 : 1));
    return { zarrFormat, groups, arrays, unreadable, consolidated };
  };

  // v3
  const root = await readJson(store, 'zarr.json', readOptions, maxBytes);
  if (root) {
    if (root.zarr_format !== 3) throw new TensioError('INVALID_METADATA', `zarr: ${store.locate('zarr.json')} has zarr_format ${JSON.stringify(root.zarr_format)}, expected 3`, { format: 'zarr' });
    if (root.node_type === 'array') {
      add('', () => zarrParseV3Array('', root));
      return finish(3, false);
    }
    if (root.node_type !== 'group') throw new TensioError('INVALID_METADATA', `zarr: ${store.locate('zarr.json')} has node_type ${JSON.stringify(root.node_type)}, expected "group" or "array"`, { format: 'zarr' });
    groups.push({ zarrFormat: 3, path: '', attributes: asObject(root.attributes) });
    const consolidated = asObject(asObject(root.consolidated_metadata).metadata);
    const entries = Object.entries(consolidated);
    if (entries.length > 0) {
      for (const [path, doc] of entries) addV3(path, asObject(doc), groups, add);
      return finish(3, true);
    }
    if (!store.canList) throw cannotList(store);
    for (const key of await store.list('', readOptions)) {
      if (key === 'zarr.json' || !(key.endsWith('/zarr.json'))) continue;
      const doc = await readJson(store, key, readOptions, maxBytes);
      if (doc) addV3(parentOf(key, 'zarr.json'), doc, groups, add);
    }
    return finish(3, false);
  }

  // v2
  const consolidated = await readJson(store, '.zmetadata', readOptions, maxBytes);
  if (consolidated) {
    const metadata = asObject(consolidated.metadata);
    for (const [key, doc] of Object.entries(metadata)) {
      if (key === '.zgroup' || key.endsWith('/.zgroup')) {
        const path = parentOf(key, '.zgroup');
        groups.push({ zarrFormat: 2, path, attributes: asObject(metadata[path === '' ? '.zattrs' : `${path}/.zattrs`]) });
      } else if (key === '.zarray' || key.endsWith('/.zarray')) {
        const path = parentOf(key, '.zarray');
        add(path, () => zarrParseV2Array(path, asObject(doc), asObject(metadata[path === '' ? '.zattrs' : `${path}/.zattrs`])));
      }
    }
    return finish(2, true);
  }
  const rootArray = await readJson(store, '.zarray', readOptions, maxBytes);
  if (rootArray) {
    const attributes = (await readJson(store, '.zattrs', readOptions, maxBytes)) ?? {};
    add('', () => zarrParseV2Array('', rootArray, attributes));
    return finish(2, false);
  }
  const rootGroup = await readJson(store, '.zgroup', readOptions, maxBytes);
  if (!rootGroup) {
    throw new TensioError('NOT_FOUND', `zarr: ${store.name} holds no zarr.json, .zgroup, .zarray or .zmetadata: not a Zarr store`, { format: 'zarr' });
  }
  groups.push({ zarrFormat: 2, path: '', attributes: (await readJson(store, '.zattrs', readOptions, maxBytes)) ?? {} });
  if (!store.canList) throw cannotList(store);
  for (const key of await store.list('', readOptions)) {
    if (key.endsWith('/.zarray')) {
      const path = parentOf(key, '.zarray');
      const zarray = (await readJson(store, key, readOptions, maxBytes))!;
      const attributes = (await readJson(store, `${path}/.zattrs`, readOptions, maxBytes)) ?? {};
      add(path, () => zarrParseV2Array(path, zarray, attributes));
    } else if (key.endsWith('/.zgroup')) {
      const path = parentOf(key, '.zgroup');
      groups.push({ zarrFormat: 2, path, attributes: (await readJson(store, `${path}/.zattrs`, readOptions, maxBytes)) ?? {} });
    }
  }
  return finish(2, false);
}

function addV3(path: string, doc: Json, groups: ZarrGroupMeta[], add: (path: string, parse: () => ZarrArrayMeta | ZarrUnreadable) => void): void {
  if (doc.node_type === 'array') add(path, () => zarrParseV3Array(path, doc));
  else if (doc.node_type === 'group') groups.push({ zarrFormat: 3, path, attributes: asObject(doc.attributes) });
  else throw new TensioError('INVALID_METADATA', `zarr: node ${JSON.stringify(path)} has node_type ${JSON.stringify(doc.node_type)}`, { format: 'zarr' });
}

function cannotList(store: Store): TensioError {
  return new TensioError('UNSUPPORTED_FEATURE', `zarr: ${store.name} is a group without consolidated metadata, and its keys cannot be listed (plain HTTP); open an array's own URL, or consolidate the store (zarr.consolidate_metadata)`, { format: 'zarr' });
}
