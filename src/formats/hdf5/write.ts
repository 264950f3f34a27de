/**
 * tensio's own HDF5 writer: streams each dataset's bytes straight into the sink
 * (contiguous, or in chunks along axis 0 through shuffle, deflate and Fletcher-32),
 * then writes the metadata after the data (dataset and group object headers,
 * fixed-array chunk indexes) and patches the 48-byte superblock at offset 0. Memory:
 * one chunk. The file is superblock version 2 with version-2 object headers and layout
 * version 4 for chunked datasets, which HDF5 1.10 and later (h5py ≥ 2.8) read.
 */
import { deflateSync } from 'node:zlib';
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import { shuffleBytes } from '../../core/byte-shuffle.js';
import { itemSize, type DType } from '../../core/dtype.js';
import { tensorByteLength } from '../../core/sizes.js';
import { createPlannedWriter, plannedWriterCheckPlan } from '../../model/planned-writer.js';
import { UNSUPPORTED_TENSORS_KEY, type Metadata, type TensorSpec, type TensorWriter, type WriterOptions } from '../../model/types.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { hdf5Fletcher32 } from './checksums.js';
import { HDF5_WRITABLE_DTYPES } from './format.js';
import {
  encodeAttribute, encodeChunkedLayout, encodeContiguousLayout, encodeDataspace, encodeDatatype, encodeFillValue,
  encodeFilterPipeline, encodeFixedArray, encodeGroupInfo, encodeHardLink, encodeLinkInfo, encodeObjectHeader,
  encodeStringType, encodeSuperblock, fixedArrayPageBits, MESSAGE, SUPERBLOCK_BYTES, UNDEFINED_ADDRESS,
  type ChunkRecord, type HeaderMessage, type PipelineFilter,
} from './messages.js';
import type { Hdf5WriteOptions } from './types.js';

const fail = errorFactory('hdf5');

/** Target bytes of one chunk when the caller gives no `chunkRows` (the benchmark's 1 MiB). */
const DEFAULT_CHUNK_BYTES = 2 ** 20;

/** Largest chunk libhdf5 accepts (chunk sizes are 32-bit). */
const MAX_CHUNK_BYTES = 2 ** 32 - 1;

/** Largest message body of a version-2 object header (16-bit size field). */
const MAX_MESSAGE_BYTES = 65535;

/** Where one dataset's bytes went. */
type Stored =
  | { readonly kind: 'contiguous'; readonly address: number | bigint; readonly size: number }
  | { readonly kind: 'chunked'; readonly chunkRows: number; readonly chunkBytes: number; readonly records: ChunkRecord[] };

/** A group of the tree being written: its child groups and datasets by name. */
interface GroupNode {
  readonly path: string;
  readonly groups: Map<string, GroupNode>;
  readonly datasets: Map<string, TensorSpec>;
}

/** The components of a dataset or group path (`'a/b/c'` or `'/a/b/c'`), checked. */
function pathParts(path: string, what: string): string[] {
  const parts = path.replace(/^\/+/, '').split('/');
  if (path.replace(/^\/+/, '') === '') return [];
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('\0')) {
      fail('INVALID_NAME', `hdf5: ${what} ${JSON.stringify(path)} has an empty, "." or ".." component (names are group paths like "group/dataset")`);
    }
  }
  return parts;
}

/** Builds the group tree of the plan; a name that is both a dataset and a group is refused. */
function groupTree(plan: readonly TensorSpec[]): GroupNode {
  const root: GroupNode = { path: '/', groups: new Map(), datasets: new Map() };
  for (const spec of plan) {
    const parts = pathParts(spec.name, 'tensor name');
    if (parts.length === 0) fail('INVALID_NAME', `hdf5: tensor name ${JSON.stringify(spec.name)} names the root group, not a dataset`);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (node.datasets.has(part)) fail('INVALID_NAME', `hdf5: ${JSON.stringify(spec.name)} needs group ${JSON.stringify(part)}, which is also a dataset`);
      let next = node.groups.get(part);
      if (!next) {
        next = { path: node.path === '/' ? `/${part}` : `${node.path}/${part}`, groups: new Map(), datasets: new Map() };
        node.groups.set(part, next);
      }
      node = next;
    }
    const leaf = parts[parts.length - 1]!;
    if (node.groups.has(leaf) || node.datasets.has(leaf)) fail('INVALID_NAME', `hdf5: ${JSON.stringify(spec.name)} is both a dataset and a group (or named twice)`);
    node.datasets.set(leaf, spec);
  }
  return root;
}

/** The filters of a pipeline, in encoding order (h5py's: shuffle, deflate, Fletcher-32). */
function pipelineOf(options: Hdf5WriteOptions, elementBytes: number): PipelineFilter[] {
  const filters: PipelineFilter[] = [];
  const gzip = options.compression === 'gzip' || (options.compression === undefined && options.compress === true);
  if (options.shuffle ?? (options.compress === true && gzip)) filters.push({ id: 2, values: [elementBytes] });
  if (gzip) filters.push({ id: 1, values: [options.compressionLevel ?? 4] });
  if (options.fletcher32) filters.push({ id: 3, values: [] });
  return filters;
}

/** Runs one chunk through the pipeline (a copy whenever a filter applies). */
function encodeChunk(chunk: Uint8Array, filters: readonly PipelineFilter[]): Uint8Array {
  let bytes = chunk;
  for (const filter of filters) {
    if (filter.id === 2) bytes = shuffleBytes(bytes, filter.values[0]!);
    else if (filter.id === 1) bytes = deflateSync(bytes, { level: filter.values[0]! });
    else if (filter.id === 3) {
      const out = new Uint8Array(bytes.byteLength + 4);
      out.set(bytes);
      new DataView(out.buffer, out.byteOffset).setUint32(bytes.byteLength, hdf5Fletcher32(bytes), true);
      bytes = out;
    }
  }
  return bytes;
}

/** An attribute value as an HDF5 datatype, shape and raw little-endian bytes. */
function encodeAttributeValue(value: unknown): { datatype: Uint8Array; shape: number[]; bytes: Uint8Array } {
  const utf8 = new TextEncoder();
  const numeric = (dtype: 'float64' | 'int64', values: ArrayLike<number | bigint>, shape: number[]) => {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) {
      if (dtype === 'float64') view.setFloat64(i * 8, Number(values[i]), true);
      else view.setBigInt64(i * 8, BigInt(values[i]!), true);
    }
    return { datatype: encodeDatatype(dtype), shape, bytes };
  };
  if (typeof value === 'string') {
    const bytes = utf8.encode(value);
    return { datatype: encodeStringType(Math.max(1, bytes.byteLength)), shape: [], bytes: bytes.byteLength > 0 ? bytes : new Uint8Array(1) };
  }
  if (typeof value === 'boolean') return { datatype: encodeDatatype('bool'), shape: [], bytes: Uint8Array.of(value ? 1 : 0) };
  if (typeof value === 'bigint') return numeric('int64', [value], []);
  if (typeof value === 'number') return numeric(Number.isSafeInteger(value) ? 'int64' : 'float64', [value], []);
  const typed: Array<[new (...args: never[]) => unknown, DType]> = [
    [Float64Array, 'float64'], [Float32Array, 'float32'], [Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int16Array, 'int16'],
    [Uint16Array, 'uint16'], [Int32Array, 'int32'], [Uint32Array, 'uint32'], [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
  ];
  for (const [type, dtype] of typed) {
    if (value instanceof type) {
      const array = value as unknown as ArrayLike<number> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
      return { datatype: encodeDatatype(dtype), shape: [array.length], bytes: new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice() };
    }
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number')) {
    return numeric(value.every((v) => Number.isSafeInteger(v)) ? 'int64' : 'float64', value as number[], [value.length]);
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    const encoded = (value as string[]).map((v) => utf8.encode(v));
    const size = Math.max(1, ...encoded.map((b) => b.byteLength));
    const bytes = new Uint8Array(size * encoded.length);
    encoded.forEach((b, i) => bytes.set(b, i * size));
    return { datatype: encodeStringType(size), shape: [encoded.length], bytes };
  }
  // Anything else (objects, mixed arrays) as its JSON text.
  return encodeAttributeValue(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null');
}

function attributeMessages(path: string, attributes: Readonly<Record<string, unknown>> | undefined): HeaderMessage[] {
  if (!attributes) return [];
  return Object.entries(attributes).map(([name, value]) => {
    if (name === '' || name.includes('\0')) fail('INVALID_NAME', `hdf5: attribute name ${JSON.stringify(name)} of ${path} is empty or holds NUL`);
    const { datatype, shape, bytes } = encodeAttributeValue(value);
    const body = encodeAttribute(name, datatype, shape, bytes);
    if (body.byteLength > MAX_MESSAGE_BYTES) {
      fail('LIMIT_EXCEEDED', `hdf5: attribute ${JSON.stringify(name)} of ${path} takes ${body.byteLength} bytes; tensio writes attributes of at most ${MAX_MESSAGE_BYTES} bytes (store larger values as datasets)`);
    }
    return { type: MESSAGE.attribute, body };
  });
}

/**
 * Attributes from a conversion's metadata, by object path: `'/group@name'` keys (as the
 * reader names group attributes) go to that group, other keys to the root; the
 * reader's own facts (`hdf5.*`, the unsupported list) are left out.
 */
function metadataAttributes(metadata: Metadata | undefined, groups: ReadonlySet<string>): Map<string, Record<string, unknown>> {
  const result = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (key === UNSUPPORTED_TENSORS_KEY || key.startsWith('hdf5.')) continue;
    const at = key.lastIndexOf('@');
    const group = key.startsWith('/') && at > 0 ? key.slice(0, at) : '/';
    const target = groups.has(group) ? group : '/';
    const name = target === '/' && group === '/' ? key : target === group ? key.slice(at + 1) : key;
    result.set(target, { ...(result.get(target) ?? {}), [name]: value });
  }
  return result;
}

/**
 * Creates a writer of an HDF5 file holding the planned tensors as datasets (a name
 * `'a/b/x'` is dataset `x` in group `/a/b`). Checks every name, dtype and option
 * before anything is written.
 *
 * @example
 * ```ts
 * const writer = await hdf5CreateWriter('out.h5', { tensors: plan, compression: 'gzip', shuffle: true });
 * for (const name of writer.order) await writer.add(name, bytesOf(name));
 * await writer.close();
 * ```
 */
export async function hdf5CreateWriter(target: WriteTarget, options: Pick<WriterOptions, 'tensors' | 'overwrite' | 'metadata' | 'staging'> & Hdf5WriteOptions): Promise<TensorWriter> {
  plannedWriterCheckPlan('hdf5', options.tensors);
  for (const spec of options.tensors) {
    if (!HDF5_WRITABLE_DTYPES.includes(spec.dtype)) fail('UNSUPPORTED_DTYPE', `hdf5: cannot hold ${JSON.stringify(spec.name)}: HDF5 (as h5py reads it) has no ${spec.dtype} type`);
    if (tensorByteLength(spec.dtype, spec.shape, 'hdf5') === undefined) fail('INVALID_SHAPE', `hdf5: no byte length for ${JSON.stringify(spec.name)}`);
  }
  if (options.compression !== undefined && options.compression !== 'gzip' && options.compression !== 'none') {
    fail('INVALID_ARGUMENT', `hdf5: compression must be 'gzip' or 'none', not ${JSON.stringify(options.compression)}`);
  }
  const level = options.compressionLevel ?? 4;
  if (!Number.isInteger(level) || level < 0 || level > 9) fail('INVALID_ARGUMENT', `hdf5: compressionLevel must be an integer 0-9, not ${String(options.compressionLevel)}`);
  for (const rows of typeof options.chunkRows === 'object' ? Object.values(options.chunkRows) : options.chunkRows === undefined ? [] : [options.chunkRows]) {
    if (!Number.isSafeInteger(rows) || rows < 1) fail('INVALID_ARGUMENT', `hdf5: chunkRows must be positive integers, not ${String(rows)}`);
  }
  const root = groupTree(options.tensors);
  const groupPaths = new Set<string>();
  const collect = (node: GroupNode) => { groupPaths.add(node.path); for (const child of node.groups.values()) collect(child); };
  collect(root);
  const datasetPaths = new Set(options.tensors.map((spec) => `/${pathParts(spec.name, 'tensor name').join('/')}`));
  const attributes = new Map<string, Readonly<Record<string, unknown>>>(metadataAttributes(options.metadata, groupPaths));
  for (const [path, values] of Object.entries(options.attributes ?? {})) {
    const normalized = `/${pathParts(path, 'attribute path').join('/')}`;
    if (!groupPaths.has(normalized) && !datasetPaths.has(normalized)) {
      fail('NOT_FOUND', `hdf5: attributes for ${JSON.stringify(path)}, which is neither a group nor a dataset of the plan`);
    }
    attributes.set(normalized, { ...(attributes.get(normalized) ?? {}), ...values });
  }
  for (const [path, values] of attributes) attributeMessages(path, values); // every attribute encodes before the file exists

  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false, needsWriteAt: true, ...(options.staging ? { staging: options.staging } : {}), format: 'hdf5', why: 'the superblock at offset 0 points at metadata written after the data' });
  try {
    await sink.write(new Uint8Array(SUPERBLOCK_BYTES)); // patched at publish
  } catch (error) {
    await sink.abort().catch(() => undefined);
    throw error;
  }
  const stored = new Map<string, Stored>();
  return createPlannedWriter({
    format: 'hdf5',
    order: options.tensors,
    async writeTensor(spec, chunks, addSignal) {
      const signal = addSignal ?? options.signal;
      stored.set(spec.name, await writeDataset(sink, spec, chunks, options, signal));
    },
    publish: async () => {
      await writeMetadata(sink, root, stored, options, attributes);
      await sink.close();
    },
    discard: () => sink.abort(),
  });
}

async function writeDataset(sink: ByteSink, spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, options: Hdf5WriteOptions, signal?: AbortSignal): Promise<Stored> {
  const elementBytes = itemSize(spec.dtype)!;
  const total = tensorByteLength(spec.dtype, spec.shape, 'hdf5')!;
  const filters = pipelineOf(options, elementBytes);
  const askedRows = typeof options.chunkRows === 'object' ? options.chunkRows[spec.name] : options.chunkRows;
  const chunked = spec.shape.length > 0 && total > 0 && (filters.length > 0 || options.chunked === true || askedRows !== undefined);
  if (!chunked) {
    const address = sink.position;
    for await (const piece of chunks) {
      throwIfAborted(signal);
      await sink.write(piece);
    }
    return { kind: 'contiguous', address: total > 0 ? address : UNDEFINED_ADDRESS, size: total };
  }
  const rows = spec.shape[0]!;
  const rowBytes = total / rows;
  const chunkRows = Math.min(rows, askedRows ?? Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / rowBytes)));
  const chunkBytes = chunkRows * rowBytes;
  if (chunkBytes > MAX_CHUNK_BYTES) {
    fail('UNSUPPORTED_FEATURE', `hdf5: a chunk of ${chunkRows} row(s) of ${JSON.stringify(spec.name)} takes ${chunkBytes} bytes; HDF5 chunks hold under 4 GiB and tensio chunks along axis 0 only (write it contiguous: no compression, no chunkRows)`);
  }
  const records: ChunkRecord[] = [];
  if (filters.length === 0) {
    // Unfiltered chunks are the tensor's bytes back to back: the pieces go to the sink
    // as they come (no copy into a chunk buffer); the last chunk is padded whole, as libhdf5 does.
    const address = sink.position;
    let written = 0;
    for await (const piece of chunks) {
      throwIfAborted(signal);
      await sink.write(piece);
      written += piece.byteLength;
    }
    const count = Math.ceil(written / chunkBytes);
    if (count * chunkBytes > written) await sink.write(new Uint8Array(count * chunkBytes - written));
    for (let i = 0; i < count; i++) records.push({ address: address + i * chunkBytes, storedBytes: chunkBytes });
    return { kind: 'chunked', chunkRows, chunkBytes, records };
  }
  const buffer = new Uint8Array(chunkBytes);
  let filled = 0;
  const emit = async () => {
    if (filled < chunkBytes) buffer.fill(0, filled); // an edge chunk is stored whole, as libhdf5 does
    const encoded = encodeChunk(buffer, filters);
    records.push({ address: sink.position, storedBytes: encoded.byteLength });
    await sink.write(encoded);
    filled = 0;
  };
  for await (const piece of chunks) {
    throwIfAborted(signal);
    let at = 0;
    while (at < piece.byteLength) {
      const take = Math.min(chunkBytes - filled, piece.byteLength - at);
      buffer.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === chunkBytes) await emit();
    }
  }
  if (filled > 0) await emit();
  return { kind: 'chunked', chunkRows, chunkBytes, records };
}

async function writeMetadata(sink: ByteSink, root: GroupNode, stored: Map<string, Stored>, options: Hdf5WriteOptions, attributes: Map<string, Readonly<Record<string, unknown>>>): Promise<void> {
  const writeGroup = async (node: GroupNode): Promise<number> => {
    const links: HeaderMessage[] = [];
    for (const [name, child] of node.groups) links.push({ type: MESSAGE.link, body: encodeHardLink(name, await writeGroup(child)) });
    for (const [name, spec] of node.datasets) {
      const path = node.path === '/' ? `/${name}` : `${node.path}/${name}`;
      links.push({ type: MESSAGE.link, body: encodeHardLink(name, await writeDatasetHeader(sink, spec, stored.get(spec.name)!, options, attributeMessages(path, attributes.get(path)))) });
    }
    const header = encodeObjectHeader([
      { type: MESSAGE.linkInfo, body: encodeLinkInfo() },
      { type: MESSAGE.groupInfo, body: encodeGroupInfo() },
      ...links,
      ...attributeMessages(node.path, attributes.get(node.path)),
    ]);
    const address = sink.position;
    await sink.write(header);
    return address;
  };
  const rootAddress = await writeGroup(root);
  const endOfFile = sink.position;
  await sink.writeAt!(0, encodeSuperblock(rootAddress, endOfFile));
}

async function writeDatasetHeader(sink: ByteSink, spec: TensorSpec, where: Stored, options: Hdf5WriteOptions, attributeList: HeaderMessage[]): Promise<number> {
  const elementBytes = itemSize(spec.dtype)!;
  const messages: HeaderMessage[] = [
    { type: MESSAGE.dataspace, body: encodeDataspace(spec.shape) },
    { type: MESSAGE.datatype, body: encodeDatatype(spec.dtype) },
    { type: MESSAGE.fillValue, body: encodeFillValue(where.kind === 'chunked') },
  ];
  if (where.kind === 'contiguous') {
    messages.push({ type: MESSAGE.layout, body: encodeContiguousLayout(where.address, where.size) });
  } else {
    const filters = pipelineOf(options, elementBytes);
    const pageBits = fixedArrayPageBits(where.records.length);
    const indexAddress = sink.position;
    await sink.write(encodeFixedArray(indexAddress, where.records, filters.length > 0, where.chunkBytes, pageBits));
    messages.push({ type: MESSAGE.layout, body: encodeChunkedLayout([where.chunkRows, ...spec.shape.slice(1)], elementBytes, pageBits, indexAddress) });
    if (filters.length > 0) messages.push({ type: MESSAGE.filterPipeline, body: encodeFilterPipeline(filters) });
  }
  messages.push(...attributeList);
  const address = sink.position;
  await sink.write(encodeObjectHeader(messages));
  return address;
}
