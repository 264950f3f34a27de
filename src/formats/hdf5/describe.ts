/**
 * Describing an open HDF5 file through libhdf5: walk its group tree, describe every
 * numeric dataset as a tensor (named by its path without the leading `/`), list
 * everything else as unsupported with the reason, and read one hyperslab of a dataset.
 * Synchronous and free of I/O of its own: it runs wherever the library runs (the main
 * thread for local paths, a worker for any other source, see `remote.ts`), and its
 * result is plain data that crosses threads.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { HDF5_MAX_ATTRIBUTE_BYTES, HDF5_MAX_OBJECTS } from '../../core/limits.js';
import { itemSize } from '../../core/dtype.js';
import { allocateUninitialized } from '../../core/memory.js';
import { tensorByteLength } from '../../core/sizes.js';
import { UNSUPPORTED_TENSORS_KEY, type TensorInfo, type UnsupportedTensor } from '../../model/types.js';
import { H5T_CLASS, hdf5Dtype } from './dtypes.js';
import { hdf5Call, hdf5Error, type H5File, type H5Module } from './library.js';
import { HDF5_DIRECT_FILTERS, hdf5FilterNames, hdf5UnreadableFilter } from './validate.js';
import type { Hdf5DatasetMetadata, Hdf5OpenOptions, Hdf5TypeMetadata } from './types.js';

/** A link tensio does not follow (soft links would name a dataset twice; external links open other files). */
export interface Hdf5Link {
  readonly path: string;
  readonly kind: 'soft' | 'external';
  readonly target: string;
  readonly file?: string;
}

/** One attribute as typed metadata. */
export interface Hdf5Attribute {
  /** tensio dtype when numeric, else the HDF5 type name (`'vlen string'`, `'string(5)'`, …). */
  readonly dtype: string;
  /** `null` for a null dataspace. */
  readonly shape: readonly number[] | null;
  /** The value as libhdf5 converts it to JSON (numbers, strings, nested arrays); absent when too large or unreadable. */
  readonly value?: unknown;
  /** Why the value is absent. */
  readonly note?: string;
}

/** What a dataset needs to be read: its dataspace and element size. */
export interface Hdf5DatasetPlan {
  readonly path: string;
  /** The pipeline holds Fletcher-32: a failing pipeline most likely means a corrupt chunk. */
  readonly checked: boolean;
  readonly space: readonly number[];
  readonly elementBytes: number;
  readonly chunks: readonly number[] | null;
  /**
   * The file holds the dataset's bytes exactly as tensio returns them (no filter,
   * little-endian or single-byte elements): they may be read straight from the file
   * (`data-location.ts`) instead of through libhdf5.
   */
  readonly rawBytes: boolean;
  /**
   * The pipeline's filter ids, in order, when every filter is one tensio undoes itself
   * (deflate, shuffle, Fletcher-32) and the numbers are stored little-endian: the chunks
   * may then be decoded straight from the file (`filtered-chunks.ts`) instead of by libhdf5.
   */
  readonly directFilters?: readonly number[];
  /**
   * A filter of the pipeline is a plugin (LZF, LZ4, bitshuffle: `plugins.ts`): read it in
   * a worker thread of its own, since a plugin may abort libhdf5 on a corrupt chunk.
   */
  readonly plugin?: boolean;
}

/** True when every number in `type` is stored little-endian (or is one byte): libhdf5 then converts nothing. */
function storedLittleEndian(type: Hdf5TypeMetadata): boolean {
  if (type.type === H5T_CLASS.array) return type.array_type !== undefined && storedLittleEndian(type.array_type);
  return type.size === 1 || type.littleEndian === true;
}

/** Deepest group nesting walked (a hard link to an ancestor group makes a cycle). */
const MAX_GROUP_DEPTH = 256;

function joinPath(group: string, name: string): string {
  return group === '/' ? `/${name}` : `${group}/${name}`;
}

/** A file as {@link hdf5DescribeFile} finds it: plain data (it crosses threads). */
export interface Hdf5FileDescription {
  readonly tensors: TensorInfo[];
  /** How to read each tensor, by tensor name. */
  readonly plans: Record<string, Hdf5DatasetPlan>;
  readonly metadata: Record<string, unknown>;
}

/**
 * Walks the whole group tree of an open file and describes it (see `hdf5Open` for what
 * becomes a tensor, an unsupported entry or metadata). `pluginFilters` are the plugin
 * filter ids the library decodes besides its built-in ones (`H5Library.pluginFilters`).
 *
 * @example
 * ```ts
 * const { tensors, plans, metadata } = hdf5DescribeFile(module, file, 'data.h5', {}, library.pluginFilters);
 * ```
 */
export function hdf5DescribeFile(module: H5Module, file: H5File, path: string, options: Pick<Hdf5OpenOptions, 'maxObjects' | 'maxAttributeBytes' | 'signal'>, pluginFilters: ReadonlySet<number> = new Set()): Hdf5FileDescription {
  const fileId = file.file_id;
  const maxObjects = options.maxObjects ?? HDF5_MAX_OBJECTS;
  const maxAttributeBytes = options.maxAttributeBytes ?? HDF5_MAX_ATTRIBUTE_BYTES;
  const tensors: TensorInfo[] = [];
  const plans: Record<string, Hdf5DatasetPlan> = {};
  const unsupported: UnsupportedTensor[] = [];
  const groups: string[] = ['/'];
  const links: Hdf5Link[] = [];
  const groupAttributes: Record<string, Record<string, Hdf5Attribute>> = {};
  let objects = 0;

  const attributesOf = (objectPath: string): Record<string, Hdf5Attribute> => {
    const names = hdf5Call(`listing attributes of ${objectPath}`, () => module.get_attribute_names(fileId, objectPath));
    const result: Record<string, Hdf5Attribute> = {};
    for (const name of names) result[name] = readAttribute(module, file, objectPath, name, maxAttributeBytes);
    return result;
  };

  const walk = (group: string, depth: number): void => {
    throwIfAborted(options.signal);
    if (depth > MAX_GROUP_DEPTH) throw new TensioError('LIMIT_EXCEEDED', `hdf5: groups nest deeper than ${MAX_GROUP_DEPTH} at ${group} (a hard link to an ancestor group?)`, { format: 'hdf5' });
    const names = hdf5Call(`listing group ${group}`, () => module.get_names(fileId, group, false));
    for (const name of names) {
      if (++objects > maxObjects) throw new TensioError('LIMIT_EXCEEDED', `hdf5: more than ${maxObjects} objects in ${path} (raise maxObjects to read it)`, { format: 'hdf5' });
      const child = joinPath(group, name);
      const soft = hdf5Call(`reading link ${child}`, () => module.get_symbolic_link(fileId, child));
      if (typeof soft === 'string') {
        links.push({ path: child, kind: 'soft', target: soft });
        continue;
      }
      const external = hdf5Call(`reading link ${child}`, () => module.get_external_link(fileId, child));
      if (external && typeof external.filename === 'string') {
        links.push({ path: child, kind: 'external', target: external.obj_path ?? '', file: external.filename });
        continue;
      }
      const type = hdf5Call(`reading object ${child}`, () => module.get_type(fileId, child));
      if (type === 0) {
        groups.push(child);
        const attributes = attributesOf(child);
        if (Object.keys(attributes).length > 0) groupAttributes[child] = attributes;
        walk(child, depth + 1);
      } else if (type === 1) {
        describeDataset(child);
      }
      // Named datatypes (2) hold no data; links that resolve to nothing are not objects.
    }
  };

  const describeDataset = (datasetPath: string): void => {
    const name = datasetPath.slice(1);
    const refuse = (code: UnsupportedTensor['code'], formatDtype: string, reason: string) => unsupported.push({ name, formatDtype, code, reason });
    let metadata: Hdf5DatasetMetadata;
    try {
      metadata = hdf5Call(`reading dataset ${datasetPath}`, () => module.get_dataset_metadata(fileId, datasetPath));
    } catch (error) {
      const failure = hdf5Error(`reading dataset ${datasetPath}`, error);
      refuse(failure.code, 'unknown', failure.message);
      return;
    }
    const mapping = hdf5Dtype(metadata);
    if ('refusal' in mapping) return void refuse('UNSUPPORTED_DTYPE', mapping.formatDtype, `dataset /${name}: ${mapping.refusal}`);
    if (metadata.shape === null) return void refuse('UNSUPPORTED_FEATURE', mapping.formatDtype, `dataset /${name} has a null dataspace (h5py.Empty: no shape, no elements)`);
    const filters = hdf5Call(`reading the filters of ${datasetPath}`, () => module.get_dataset_filters(fileId, datasetPath));
    const unreadable = hdf5UnreadableFilter(filters, pluginFilters);
    if (unreadable) return void refuse('UNSUPPORTED_FILTER', mapping.formatDtype, `dataset /${name} is compressed with ${unreadable}, which tensio's libhdf5 does not decode${pluginFilters.size === 0 ? ' here (no filter plugins: the h5wasm-plugins package is missing, or this is a browser)' : ''}`);
    const space = metadata.shape.map(Number);
    const shape = [...space, ...mapping.elementShape];
    const elementBytes = (itemSize(mapping.dtype) ?? 0) * mapping.elementShape.reduce((a, b) => a * b, 1);
    if (elementBytes !== metadata.size) {
      return void refuse('UNSUPPORTED_DTYPE', mapping.formatDtype, `dataset /${name}: ${metadata.size}-byte elements do not match ${mapping.dtype} × [${mapping.elementShape.join(', ')}]`);
    }
    const byteLength = tensorByteLength(mapping.dtype, shape, 'hdf5');
    if (byteLength === undefined) return void refuse('UNSUPPORTED_DTYPE', mapping.formatDtype, `dataset /${name}: no byte length for ${mapping.dtype}`);
    const chunks = metadata.chunks ? metadata.chunks.map(Number) : null;
    const attributes = attributesOf(datasetPath);
    tensors.push({
      name, dtype: mapping.dtype, shape, byteLength, formatDtype: mapping.formatDtype,
      extras: {
        path: datasetPath,
        chunks,
        filters: hdf5FilterNames(filters),
        ...(metadata.maxshape ? { maxshape: metadata.maxshape.map((d) => (d === null || Number(d) < 0 ? null : Number(d))) } : {}),
        ...(metadata.type === 8 && mapping.dtype !== 'bool' && metadata.enum_type ? { enum: metadata.enum_type.members } : {}),
        ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      },
    });
    plans[name] = {
      path: datasetPath, checked: filters.some((filter) => filter.id === 3), space, elementBytes: metadata.size, chunks,
      rawBytes: filters.length === 0 && storedLittleEndian(metadata),
      ...(filters.length > 0 && filters.every((filter) => HDF5_DIRECT_FILTERS.has(filter.id)) && storedLittleEndian(metadata) ? { directFilters: filters.map((filter) => filter.id) } : {}),
      ...(filters.some((filter) => pluginFilters.has(filter.id)) ? { plugin: true } : {}),
    };
  };

  const rootAttributes = attributesOf('/');
  if (Object.keys(rootAttributes).length > 0) groupAttributes['/'] = rootAttributes;
  walk('/', 0);

  return {
    tensors,
    plans,
    metadata: {
      ...plainAttributes(groupAttributes),
      'hdf5.groups': groups,
      ...(links.length > 0 ? { 'hdf5.links': links.map((link) => `${link.path} -> ${link.file ? `${link.file}:` : ''}${link.target} (${link.kind})`) } : {}),
      ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}),
    },
  };
}

/**
 * Group attributes as plain metadata values (what any writer can hold): the root
 * group's under their own names, another group's as `'/group/path@name'`. Values too
 * large or unreadable are left out (their dataset-level twins in `extras` say why).
 */
function plainAttributes(groups: Record<string, Record<string, Hdf5Attribute>>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [group, attributes] of Object.entries(groups)) {
    for (const [name, attribute] of Object.entries(attributes)) {
      if (attribute.value === undefined || attribute.value === null) continue;
      result[group === '/' ? name : `${group}@${name}`] = attribute.value;
    }
  }
  return result;
}

function readAttribute(module: H5Module, file: H5File, objectPath: string, name: string, maxBytes: number): Hdf5Attribute {
  let metadata: Hdf5DatasetMetadata;
  try {
    metadata = module.get_attribute_metadata(file.file_id, objectPath, name);
  } catch (error) {
    return { dtype: 'unknown', shape: null, note: hdf5Error(`reading attribute ${name} of ${objectPath}`, error).message };
  }
  const mapping = hdf5Dtype(metadata);
  const dtype = 'dtype' in mapping ? mapping.dtype : mapping.formatDtype;
  const shape = metadata.shape ? metadata.shape.map(Number) : null;
  const elements = shape ? shape.reduce((a, b) => a * b, 1) : 0;
  if (elements * metadata.size > maxBytes) return { dtype, shape, note: `value of ${elements * metadata.size} bytes not read (maxAttributeBytes ${maxBytes})` };
  if (shape === null) return { dtype, shape };
  try {
    const value = file.get(objectPath)?.attrs?.[name]?.json_value;
    return { dtype, shape, value };
  } catch (error) {
    return { dtype, shape, note: `value not read: ${hdf5Error(`reading attribute ${name} of ${objectPath}`, error).message}` };
  }
}

/**
 * Reads one hyperslab (`offset`/`count` per axis of the dataspace; `null` for all of
 * it) into a new buffer, in C order, little-endian. libhdf5's status is checked: a
 * failed read never hands back the uninitialised buffer.
 */
function readHyperslab(module: H5Module, fileId: bigint, path: string, offset: number[] | null, count: number[] | null, bytes: number): Uint8Array {
  if (bytes === 0) return new Uint8Array(0);
  const pointer = module._malloc(bytes);
  if (!pointer) throw new TensioError('LIMIT_EXCEEDED', `hdf5: cannot allocate ${bytes} bytes in libhdf5's memory to read ${path}`, { format: 'hdf5' });
  try {
    const what = `reading ${path}${offset ? ` at [${offset.join(', ')}] count [${count!.join(', ')}]` : ''}`;
    const status = hdf5Call(what, () => module.get_dataset_data(fileId, path, count ? count.map(BigInt) : null, offset ? offset.map(BigInt) : null, count ? count.map(() => 1n) : null, BigInt(pointer)));
    if (status < 0) throw new TensioError('INVALID_HEADER', `hdf5: ${what}: libhdf5 returned status ${status}`, { format: 'hdf5' });
    // Not zero-filled first (slice() would): every byte is overwritten by the copy.
    const band = allocateUninitialized(bytes);
    band.set(module.HEAPU8.subarray(pointer, pointer + bytes));
    return band;
  } finally {
    module._free(pointer);
  }
}

/**
 * Reads one hyperslab of a planned dataset (`offset`/`count` per axis of its dataspace,
 * `null` for all of it). A failing pipeline of a dataset with Fletcher-32 is reported as
 * `CHECKSUM_MISMATCH` (libhdf5 says only "filter returned failure").
 *
 * @example
 * ```ts
 * const band = hdf5ReadPlanned(module, file.file_id, plans['x'], [0, 0], [64, 128], 64 * 128 * 4);
 * ```
 */
export function hdf5ReadPlanned(module: H5Module, fileId: bigint, plan: Hdf5DatasetPlan, offset: number[] | null, count: number[] | null, bytes: number): Uint8Array {
  try {
    return readHyperslab(module, fileId, plan.path, offset, count, bytes);
  } catch (error) {
    if (plan.checked && error instanceof TensioError && /filter returned failure/.test(error.message)) {
      throw new TensioError('CHECKSUM_MISMATCH', `${error.message}; the dataset's chunks carry Fletcher-32 checksums, so a chunk in this range is corrupt`, { format: 'hdf5', cause: error });
    }
    throw error;
  }
}
