/**
 * Opening an HDF5 file: walk its group tree through libhdf5, describe every numeric
 * dataset as a tensor (named by its path without the leading `/`), list everything
 * else as unsupported with the reason, and read datasets as hyperslabs, one band at a
 * time, so a dataset larger than memory streams in bounded memory.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import { HDF5_MAX_ATTRIBUTE_BYTES, HDF5_MAX_OBJECTS, DEFAULT_STREAM_CHUNK_BYTES } from '../../core/limits.js';
import { itemSize } from '../../core/dtype.js';
import { tensorByteLength } from '../../core/sizes.js';
import { createTensorReader } from '../../model/create-reader.js';
import { UNSUPPORTED_TENSORS_KEY, type TensorInfo, type TensorReader, type UnsupportedTensor } from '../../model/types.js';
import { bytesSource, type ByteSource } from '../../storage/byte-source.js';
import type { ChunkCodec } from '../../storage/chunk-codec.js';
import type { ByteChunk } from '../../storage/chunked-bytes.js';
import { localCopyOf } from '../../storage/local-copy.js';
import { localFileSize } from '../../storage/local-paths.js';
import { hdf5Dtype } from './dtypes.js';
import { hdf5Call, hdf5Error, hdf5Library, type H5File, type H5Module } from './library.js';
import { hdf5FilterNames, hdf5UnreadableFilter } from './validate.js';
import type { Hdf5DatasetMetadata, Hdf5OpenOptions } from './types.js';

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
interface DatasetPlan {
  readonly path: string;
  /** The pipeline holds Fletcher-32: a failing pipeline most likely means a corrupt chunk. */
  readonly checked: boolean;
  readonly space: readonly number[];
  readonly elementBytes: number;
  readonly chunks: readonly number[] | null;
}

/** Largest hyperslab read at once (a band): bounds memory whatever the dataset's size. */
const BAND_BYTES = DEFAULT_STREAM_CHUNK_BYTES;

/** Deepest group nesting walked (a hard link to an ancestor group makes a cycle). */
const MAX_GROUP_DEPTH = 256;

const EMPTY_SOURCE: ByteSource = bytesSource(new Uint8Array(0), 'libhdf5');

/**
 * Opens a local HDF5 file (`.h5`, `.hdf5`, netCDF-4 `.nc`). Tensors are the datasets of
 * the whole tree with a numeric type (integers, floats incl. float16, h5py's bool,
 * enums as their base integer, arrays of these), big-endian ones converted; each
 * tensor's `extras` hold its HDF5 path, chunk shape, filters, max shape and typed
 * attributes. The metadata holds the root group's attributes by name, other groups'
 * as `'/group@name'`, `'hdf5.groups'` (every group path) and `'hdf5.links'` (soft and
 * external links, listed, not followed);
 * `metadata.unsupportedTensors` the datasets tensio cannot read, each with its code
 * (`UNSUPPORTED_DTYPE`, `UNSUPPORTED_FILTER`, `UNSUPPORTED_FEATURE`) and reason.
 *
 * @example
 * ```ts
 * await using reader = await hdf5Open('data.h5');
 * const x = await reader.read('group/x');
 * ```
 */
export async function hdf5Open(input: string | ByteSource, options: Hdf5OpenOptions = {}): Promise<TensorReader> {
  if (typeof input !== 'string') return openLocalCopy(input, options);
  const size = await localFileSize(input);
  if (size === undefined) throw new TensioError('NOT_FOUND', `hdf5: no file at ${input}`, { format: 'hdf5', path: input });
  throwIfAborted(options.signal);
  const library = await hdf5Library();
  const file = hdf5Call(`opening ${input}`, () => library.openFile(input));
  try {
    return describeFile(library.module, file, input, size, options);
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * libhdf5 opens files by path: bytes in memory and URLs are copied to a temporary local
 * file first (streamed; removed when the reader closes, or at once if opening fails).
 */
async function openLocalCopy(source: ByteSource, options: Hdf5OpenOptions): Promise<TensorReader> {
  const copy = await localCopyOf(source, { suffix: '.h5', ...(options.signal ? { signal: options.signal } : {}) });
  let reader: TensorReader;
  try {
    reader = await hdf5Open(copy.path, options);
  } catch (error) {
    await copy.remove();
    throw error;
  }
  const shownPath = source.name;
  return new Proxy(reader, {
    get(target, property, receiver) {
      if (property === 'close' || property === Symbol.asyncDispose) {
        return async () => {
          try {
            await target.close();
          } finally {
            await copy.remove();
          }
        };
      }
      if (property === 'path' && shownPath !== undefined) return shownPath;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function joinPath(group: string, name: string): string {
  return group === '/' ? `/${name}` : `${group}/${name}`;
}

function describeFile(module: H5Module, file: H5File, path: string, size: number, options: Hdf5OpenOptions): TensorReader {
  const fileId = file.file_id;
  const maxObjects = options.maxObjects ?? HDF5_MAX_OBJECTS;
  const maxAttributeBytes = options.maxAttributeBytes ?? HDF5_MAX_ATTRIBUTE_BYTES;
  const tensors: TensorInfo[] = [];
  const plans = new Map<string, DatasetPlan>();
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
    const unreadable = hdf5UnreadableFilter(filters);
    if (unreadable) return void refuse('UNSUPPORTED_FILTER', mapping.formatDtype, `dataset /${name} is compressed with ${unreadable}, which tensio's libhdf5 does not decode`);
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
    plans.set(name, { path: datasetPath, checked: filters.some((filter) => filter.id === 3), space, elementBytes: metadata.size, chunks });
  };

  const rootAttributes = attributesOf('/');
  if (Object.keys(rootAttributes).length > 0) groupAttributes['/'] = rootAttributes;
  walk('/', 0);

  let closed = false;
  return createTensorReader({
    format: 'hdf5',
    path,
    size,
    metadata: {
      ...plainAttributes(groupAttributes),
      'hdf5.groups': groups,
      ...(links.length > 0 ? { 'hdf5.links': links.map((link) => `${link.path} -> ${link.file ? `${link.file}:` : ''}${link.target} (${link.kind})`) } : {}),
      ...(unsupported.length > 0 ? { [UNSUPPORTED_TENSORS_KEY]: unsupported } : {}),
    },
    tensors,
    locate: (info) => {
      const plan = plans.get(info.name)!;
      const read = (offset: number[] | null, count: number[] | null, bytes: number): Uint8Array => {
        if (closed) throw new TensioError('INVALID_STATE', `hdf5: ${path} is closed`, { format: 'hdf5' });
        try {
          return readHyperslab(module, fileId, plan.path, offset, count, bytes);
        } catch (error) {
          // libhdf5 reports a failed Fletcher-32 check only as "filter returned failure".
          if (plan.checked && error instanceof TensioError && /filter returned failure/.test(error.message)) {
            throw new TensioError('CHECKSUM_MISMATCH', `${error.message}; the dataset's chunks carry Fletcher-32 checksums, so a chunk in this range is corrupt`, { format: 'hdf5', cause: error });
          }
          throw error;
        }
      };
      return { kind: 'chunks', chunks: bandsOf(plan, read) };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      hdf5Call(`closing ${path}`, () => file.close());
    },
  });
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
    return module.HEAPU8.slice(pointer, pointer + bytes);
  } finally {
    module._free(pointer);
  }
}

/**
 * Splits a dataset into bands that follow each other in C order, each at most
 * {@link BAND_BYTES} when possible: along axis 0 when a row fits, else one index of the
 * outer axes at a time along the first axis whose sub-blocks fit. Bands along a chunked
 * axis cover whole chunks, so no chunk is decoded twice.
 */
function bandsOf(plan: DatasetPlan, read: (offset: number[] | null, count: number[] | null, bytes: number) => Uint8Array): ByteChunk[] {
  const { space, elementBytes, chunks } = plan;
  const label = (what: string) => `dataset ${plan.path} ${what}`;
  const chunkOf = (offset: number[] | null, count: number[] | null, bytes: number, what: string): ByteChunk => {
    const codec: ChunkCodec = {
      name: 'libhdf5',
      // eslint-disable-next-line require-yield
      async *decode(_stored, decodeOptions) {
        throwIfAborted(decodeOptions.signal);
        yield read(offset, count, bytes);
      },
    };
    return { source: EMPTY_SOURCE, offset: 0, storedLength: 0, codec, decodedLength: bytes, byteLength: bytes, format: 'hdf5', label: label(what), corruptCode: 'INVALID_HEADER' };
  };
  if (space.length === 0) return [chunkOf(null, null, elementBytes, '(scalar)')];
  if (space.some((d) => d === 0)) return [];
  // Bytes of one index of axis k (the sub-block of the axes after k).
  const blockBytes = (k: number) => space.slice(k + 1).reduce((a, b) => a * b, elementBytes);
  let axis = 0;
  while (axis < space.length - 1 && blockBytes(axis) > BAND_BYTES) axis++;
  const step0 = Math.max(1, Math.floor(BAND_BYTES / blockBytes(axis)));
  const chunkAlong = chunks?.[axis];
  const step = chunkAlong && chunkAlong * blockBytes(axis) <= 4 * BAND_BYTES ? Math.max(chunkAlong, Math.floor(step0 / chunkAlong) * chunkAlong) : step0;
  const outer = space.slice(0, axis);
  const outerCount = outer.reduce((a, b) => a * b, 1);
  const result: ByteChunk[] = [];
  const index = new Array<number>(axis).fill(0);
  for (let o = 0; o < outerCount; o++) {
    for (let start = 0; start < space[axis]!; start += step) {
      const rows = Math.min(step, space[axis]! - start);
      const offset = [...index, start, ...space.slice(axis + 1).map(() => 0)];
      const count = [...index.map(() => 1), rows, ...space.slice(axis + 1)];
      result.push(chunkOf(offset, count, rows * blockBytes(axis), `[${offset.join(', ')}] + [${count.join(', ')}]`));
    }
    for (let k = axis - 1; k >= 0; k--) {
      if (++index[k]! < space[k]!) break;
      index[k] = 0;
    }
  }
  return result;
}
