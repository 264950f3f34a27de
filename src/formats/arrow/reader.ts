/**
 * The async shell of the Arrow IPC reader: finds the messages (from the file footer, or
 * by walking a stream's message prefixes without reading bodies), then builds a table
 * reader whose batches are the record batches, each decoded only when its rows are read
 * and only for the selected columns. Tensor streams (pyarrow `write_tensor`) open as
 * their tensors.
 */
import { DTYPE_INFO } from '../../core/dtype.js';
import { byteSwapInPlace } from '../../core/bytes.js';
import { allocateUninitialized } from '../../core/memory.js';
import { errorFactory, throwIfAborted, TensioError } from '../../core/errors.js';
import { ARROW_MAX_METADATA_BYTES } from '../../core/limits.js';
import { elementCount } from '../../core/sizes.js';
import type { TableColumnBatch } from '../../model/table-cells.js';
import { createTableReader, type TableBatch } from '../../model/table-reader.js';
import type { OpenOptions, TensorReader } from '../../model/types.js';
import { readIntoFrom, type ByteSource } from '../../storage/byte-source.js';
import { TABLE_READ_SCRATCH, type ScratchPool } from '../../storage/scratch-pool.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { arrowDecodeBuffer } from './codecs.js';
import { arrowColumnLayouts, arrowTableColumns, type ArrowColumnLayout } from './columns.js';
import { featherV1Open } from './feather-v1.js';
import {
  arrowHasMagic, arrowMessageName, FEATHER_V1_MAGIC, arrowMessagePrefix, arrowParseFooter, arrowParseMessage, arrowParseRecordBatch,
  arrowParseSchema, type ParsedMessage,
} from './read.js';
import { arrowTensorReader, type ScannedTensorMessage } from './tensor-message.js';
import { ARROW_MESSAGE, type ArrowOpenOptions, type ArrowRecordBatchHeader, type ArrowSchema } from './types.js';

const fail = errorFactory('arrow');

/** One message found in the source. */
interface FoundMessage {
  readonly message: ParsedMessage;
  readonly offset: number;
  readonly bodyOffset: number;
  /** Offset of the next message. */
  readonly end: number;
}

/** Reads the message at `offset`: undefined at the end-of-stream marker or the end of the bytes. */
async function messageAt(source: ByteSource, offset: number, end: number, maxMetadata: number, signal?: AbortSignal): Promise<FoundMessage | undefined> {
  throwIfAborted(signal);
  if (offset + 4 > end) return undefined;
  const readOptions = signal ? { signal } : undefined;
  const head = await source.read(offset, Math.min(8, end - offset), readOptions);
  const { prefixBytes, metadataLength } = arrowMessagePrefix(head);
  if (metadataLength === 0) return undefined;
  if (metadataLength > maxMetadata) {
    fail('LIMIT_EXCEEDED', `arrow: message at ${offset} has ${metadataLength} bytes of metadata, more than the limit ${maxMetadata} (option maxMetadataBytes)`, { offset });
  }
  const metadataOffset = offset + prefixBytes;
  if (metadataOffset + metadataLength > end) {
    fail('TRUNCATED', `arrow: message at ${offset} declares ${metadataLength} bytes of metadata, only ${end - metadataOffset} remain`, { offset });
  }
  const message = arrowParseMessage(await source.read(metadataOffset, metadataLength, readOptions));
  const bodyOffset = metadataOffset + metadataLength;
  if (bodyOffset + message.bodyLength > end) {
    fail('TRUNCATED', `arrow: ${arrowMessageName(message.headerType)} message at ${offset} declares a body of ${message.bodyLength} bytes, only ${end - bodyOffset} remain`, { offset });
  }
  return { message, offset, bodyOffset, end: bodyOffset + message.bodyLength };
}

/** A record batch found in the source. */
interface ScannedBatch {
  readonly header: ArrowRecordBatchHeader;
  readonly bodyOffset: number;
  readonly bodyLength: number;
  readonly index: number;
}

interface Scanned {
  readonly ipc: 'file' | 'stream';
  readonly version: number;
  readonly schema?: ArrowSchema;
  readonly batches: ScannedBatch[];
  readonly tensors: ScannedTensorMessage[];
  readonly dictionaries: number;
}

function batchOf(found: FoundMessage, index: number): ScannedBatch {
  if (found.message.headerType !== ARROW_MESSAGE.RecordBatch || !found.message.header) {
    fail('INVALID_HEADER', `arrow: expected a record batch at ${found.offset}, found a ${arrowMessageName(found.message.headerType)} message`, { offset: found.offset });
  }
  return { header: arrowParseRecordBatch(found.message.header!), bodyOffset: found.bodyOffset, bodyLength: found.message.bodyLength, index };
}

async function scanFile(source: ByteSource, maxMetadata: number, signal?: AbortSignal): Promise<Scanned> {
  const size = source.size;
  if (size < 18) fail('TRUNCATED', `arrow: a file of ${size} bytes is too short for the magic and footer`);
  const tail = await source.read(size - 10, 10, signal ? { signal } : undefined);
  if (!arrowHasMagic(tail, 4)) fail('BAD_MAGIC', 'arrow: the file starts with ARROW1 but does not end with it (truncated?)');
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  const footerStart = size - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) fail('INVALID_OFFSET', `arrow: footer length ${footerLength} does not fit in the ${size}-byte file`);
  if (footerLength > maxMetadata) fail('LIMIT_EXCEEDED', `arrow: footer of ${footerLength} bytes exceeds the limit ${maxMetadata} (option maxMetadataBytes)`);
  const footer = arrowParseFooter(await source.read(footerStart, footerLength, signal ? { signal } : undefined));
  const batches: ScannedBatch[] = [];
  for (const [index, block] of footer.recordBatches.entries()) {
    if (block.offset + block.metaDataLength + block.bodyLength > footerStart) {
      fail('INVALID_OFFSET', `arrow: record batch ${index} at ${block.offset} (${block.metaDataLength} + ${block.bodyLength} bytes) runs past the data (${footerStart})`);
    }
    const found = await messageAt(source, block.offset, footerStart, maxMetadata, signal);
    if (!found) fail('INVALID_HEADER', `arrow: footer block ${index} points at an end-of-stream marker`);
    batches.push(batchOf(found!, index));
  }
  return { ipc: 'file', version: footer.version, schema: footer.schema, batches, tensors: [], dictionaries: footer.dictionaries.length };
}

async function scanStream(source: ByteSource, maxMetadata: number, signal?: AbortSignal): Promise<Scanned> {
  const first = await messageAt(source, 0, source.size, maxMetadata, signal);
  if (!first) fail('INVALID_HEADER', 'arrow: the stream is empty (end-of-stream marker first)');
  const { headerType } = first!.message;
  if (headerType === ARROW_MESSAGE.Tensor || headerType === ARROW_MESSAGE.SparseTensor) {
    const tensors: ScannedTensorMessage[] = [];
    for (let found: FoundMessage | undefined = first; found; found = await messageAt(source, found.end, source.size, maxMetadata, signal)) {
      const type = found.message.headerType;
      if ((type !== ARROW_MESSAGE.Tensor && type !== ARROW_MESSAGE.SparseTensor) || !found.message.header) {
        fail('INVALID_HEADER', `arrow: a tensor stream holds a ${arrowMessageName(type)} message at ${found.offset}`, { offset: found.offset });
      }
      tensors.push({ headerType: type, header: found.message.header!, bodyOffset: found.bodyOffset, bodyLength: found.message.bodyLength });
    }
    return { ipc: 'stream', version: first!.message.version, batches: [], tensors, dictionaries: 0 };
  }
  if (headerType !== ARROW_MESSAGE.Schema || !first!.message.header) {
    fail('INVALID_HEADER', `arrow: a stream starts with a Schema message, this one with ${arrowMessageName(headerType)}`);
  }
  const version = first!.message.version;
  const schema = arrowParseSchema(first!.message.header!, version);
  const batches: ScannedBatch[] = [];
  let dictionaries = 0;
  for (let found = await messageAt(source, first!.end, source.size, maxMetadata, signal); found; found = await messageAt(source, found.end, source.size, maxMetadata, signal)) {
    const type = found.message.headerType;
    if (type === ARROW_MESSAGE.RecordBatch) batches.push(batchOf(found, batches.length));
    else if (type === ARROW_MESSAGE.DictionaryBatch) dictionaries++;
    else fail('INVALID_HEADER', `arrow: unexpected ${arrowMessageName(type)} message at ${found.offset} in a record batch stream`, { offset: found.offset });
  }
  return { ipc: 'stream', version, schema, batches, tensors: [], dictionaries };
}

const CODEC_NAMES = ['lz4', 'zstd'];

/** Reads `length` bytes at `offset` of a record batch's body. */
type BodyReader = (offset: number, length: number) => Promise<Uint8Array>;

/** A batch body reader, and the pooled buffer it read the body range into (when it did). */
interface BatchBody {
  readonly read: BodyReader;
  readonly pooled?: Uint8Array;
}

/**
 * How the columns `layouts` of `batch` read their buffers: with one read of the body
 * range that holds them all when they are several and sit close together (a stacked
 * read takes every column: one read of a whole batch instead of one per buffer, into a
 * buffer large enough for huge pages), or when the batch is compressed (a column read
 * alone too), else one read per buffer. A buffer outside the body is left to
 * `loadColumn`, which names it. The range of a compressed batch is read into a buffer
 * from `pool` (it is only decompressed from, then given back).
 */
async function batchBodyReader(source: ByteSource, batch: ScannedBatch, layouts: readonly ArrowColumnLayout[], pool: ScratchPool, signal?: AbortSignal): Promise<BatchBody> {
  const readOptions = signal ? { signal } : undefined;
  const perBuffer = { read: (offset: number, length: number) => source.read(batch.bodyOffset + offset, length, readOptions) };
  // One column of an uncompressed batch: its buffers read as they are (views, nothing to coalesce). A compressed one's
  // stored buffers go into a pooled span as several columns' do: read one by one, each was a fresh buffer, counted
  // by V8 as external memory (~2 MB a column of a 1M-row float32 zstd Feather file; a collection every few columns).
  if ((layouts.length < 2 && batch.header.codec === undefined) || layouts.length === 0 || layouts.some((layout) => !layout.numeric)) return perBuffer;
  const refs = layouts.flatMap((layout) => {
    const numeric = layout.numeric!;
    const values = batch.header.buffers[numeric.leafBuffer + 1]!;
    return batch.header.nodes[layout.node]!.nullCount === 0 ? [values] : [values, batch.header.buffers[layout.buffer]!];
  }).filter((ref) => ref.length > 0);
  if (refs.length === 0 || refs.some((ref) => ref.offset + ref.length > batch.bodyLength)) return perBuffer;
  const start = Math.min(...refs.map((ref) => ref.offset));
  const end = Math.max(...refs.map((ref) => ref.offset + ref.length));
  const needed = refs.reduce((sum, ref) => sum + ref.length, 0);
  // Far apart (a few columns of a wide batch): reading the gaps would cost more than the calls saved.
  if (end - start > 2 * needed + 64 * refs.length) return perBuffer;
  const compressed = batch.header.codec !== undefined;
  const span = compressed ? pool.take(end - start) : allocateUninitialized(end - start);
  await readIntoFrom(source, span, batch.bodyOffset + start, readOptions);
  return { read: async (offset, length) => span.subarray(offset - start, offset - start + length), ...(compressed ? { pooled: span } : {}) };
}

/**
 * Decodes one numeric column of one batch. Compressed values decode into a buffer from
 * `allocate` (zstd through the addon): `into` itself when it is the values' exact size
 * (a one-column read: no copy), else one from the reader's pool.
 */
async function loadColumn(readBody: BodyReader, batch: ScannedBatch, layout: ArrowColumnLayout, bigEndian: boolean, pool: ScratchPool, into?: Uint8Array): Promise<TableColumnBatch> {
  const { header } = batch;
  const numeric = layout.numeric!;
  const name = layout.field.name;
  const rows = header.length;
  const top = header.nodes[layout.node]!;
  if (top.length !== rows) fail('INVALID_HEADER', `arrow: column "${name}" has ${top.length} values in record batch ${batch.index} of ${rows} rows`);
  const cell = numeric.cellShape.length === 0 ? 1 : elementCount(numeric.cellShape, 'arrow');
  const elements = rows * cell;
  const leaf = header.nodes[numeric.leafNode]!;
  if (leaf.length < elements) fail('INVALID_HEADER', `arrow: column "${name}" has ${leaf.length} values in record batch ${batch.index}, ${elements} needed`);
  const isBool = numeric.dtype === 'bool';
  const item = DTYPE_INFO[numeric.dtype].bits / 8;
  const need = isBool ? Math.ceil(elements / 8) : elements * item;
  const readBuffer = async (index: number, maxBytes: number, what: string, allocate?: (size: number) => Uint8Array): Promise<Uint8Array> => {
    const ref = header.buffers[index]!;
    if (ref.offset + ref.length > batch.bodyLength) {
      fail('INVALID_OFFSET', `arrow: ${what} of column "${name}" in record batch ${batch.index} spans ${ref.offset}..${ref.offset + ref.length}, past the ${batch.bodyLength}-byte body`);
    }
    const raw = ref.length === 0 ? new Uint8Array(0) : await readBody(ref.offset, ref.length);
    return arrowDecodeBuffer(raw, header.codec, maxBytes + 64, `${what} of column "${name}" in record batch ${batch.index}`, allocate);
  };
  const direct = into && top.nullCount === 0 && !isBool && !(bigEndian && item > 1);
  const valuesBuffer = (size: number) => (direct && size === into.byteLength ? into : pool.take(size));
  let data = await readBuffer(numeric.leafBuffer + 1, need, 'values', valuesBuffer);
  if (data.byteLength < need) fail('TRUNCATED', `arrow: column "${name}" has ${data.byteLength} bytes of values in record batch ${batch.index}, ${need} needed`);
  data = data.subarray(0, need);
  if (isBool) {
    const bytes = new Uint8Array(elements);
    for (let i = 0; i < elements; i++) bytes[i] = (data[i >> 3]! >> (i & 7)) & 1;
    data = bytes;
  } else if (bigEndian && item > 1) {
    data = data.slice();
    byteSwapInPlace(data, item);
  }
  if (top.nullCount === 0) return { values: data };
  const validity = await readBuffer(layout.buffer, Math.ceil(rows / 8), 'validity bitmap');
  if (validity.byteLength < Math.ceil(rows / 8)) fail('TRUNCATED', `arrow: validity bitmap of column "${name}" in record batch ${batch.index} has ${validity.byteLength} bytes, ${Math.ceil(rows / 8)} needed`);
  return { values: data, validity };
}

/**
 * Opens an Arrow IPC file (Feather v2), an IPC stream, a tensor stream or a Feather v1
 * file as a `TensorReader` (a table reader for tables, see `model/table.ts`).
 *
 * @example
 * ```ts
 * await using reader = await arrowOpen('table.arrow', { formatOptions: { columns: 'separate' } });
 * ```
 */
export async function arrowOpen(input: string | ByteSource, options: OpenOptions = {}): Promise<TensorReader> {
  const opened = await openSourceInput(input, sourceOptionsOf(options));
  const { source } = opened;
  const closeSource = async () => { if (opened.owned) await source.close?.(); };
  try {
    return await arrowOpenSource(source, (options.formatOptions ?? {}) as ArrowOpenOptions, closeSource, options.signal);
  } catch (error) {
    await closeSource();
    throw error;
  }
}

async function arrowOpenSource(source: ByteSource, options: ArrowOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  const maxMetadata = options.maxMetadataBytes ?? ARROW_MAX_METADATA_BYTES;
  const head = await source.read(0, Math.min(8, source.size), signal ? { signal } : undefined);
  if (head.byteLength >= 4 && FEATHER_V1_MAGIC.every((byte, i) => head[i] === byte)) return featherV1Open(source, options, close, signal);
  const scanned = arrowHasMagic(head) ? await scanFile(source, maxMetadata, signal) : await scanStream(source, maxMetadata, signal);
  const path = source.name;
  if (!scanned.schema) return arrowTensorReader(source, scanned.tensors, close);
  const schema = scanned.schema;
  const perBatch = scanned.batches.map((batch) => arrowColumnLayouts(schema.fields, scanned.version, batch.header));
  const layouts = perBatch[0] ?? arrowColumnLayouts(schema.fields, scanned.version, { nodes: countNodes(schema), buffers: [], variadicBufferCounts: [] }, true);
  const columns = arrowTableColumns(layouts, scanned.batches.map((batch) => batch.header), perBatch);
  const codecs = [...new Set(scanned.batches.map((batch) => batch.header.codec).filter((codec) => codec !== undefined))];
  // Decompressed values of a stacked read, reused batch after batch and read after read (given back by `release` once placed).
  const pool = TABLE_READ_SCRATCH;
  const batches: TableBatch[] = scanned.batches.map((batch, b) => ({
    rows: batch.header.length,
    offset: batch.bodyOffset,
    storedLength: batch.bodyLength,
    label: `record batch ${batch.index}`,
    load: async (wanted, abort, into) => {
      const layouts = wanted.map((index) => perBatch[b]![index]!);
      const body = await batchBodyReader(source, batch, layouts, pool, abort);
      // Every wanted column at once: compressed buffers then decompress side by side on libuv's threads.
      // All settled before anything returns or throws: no worker may still be writing a buffer (the caller's `into`) after.
      const settled = await Promise.allSettled(layouts.map((layout, k) => loadColumn(body.read, batch, layout, schema.bigEndian, pool, into?.column === wanted[k] ? into.bytes : undefined)));
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const loaded = settled.map((result) => (result as PromiseFulfilledResult<TableColumnBatch>).value);
      // The stored bytes go back unless a column views them (a buffer stored uncompressed, length -1).
      if (body.pooled && loaded.every((column) => column.values.buffer !== body.pooled!.buffer && column.validity?.buffer !== body.pooled!.buffer)) pool.give(body.pooled);
      const out: (TableColumnBatch | undefined)[] = [];
      wanted.forEach((index, k) => { out[index] = loaded[k]; });
      return out;
    },
    // The pool ignores buffers it did not hand out (uncompressed views, the caller's `into`).
    release: (data) => { for (const column of data) if (column) pool.give(column.values); },
    span: (index) => {
      const layout = perBatch[b]![index]!;
      const numeric = layout.numeric;
      if (!numeric || batch.header.codec !== undefined || schema.bigEndian || numeric.dtype === 'bool') return undefined;
      if (batch.header.nodes[layout.node]!.nullCount !== 0) return undefined;
      const ref = batch.header.buffers[numeric.leafBuffer + 1]!;
      const need = batch.header.length * elementCount(numeric.cellShape, 'arrow') * (DTYPE_INFO[numeric.dtype].bits / 8);
      if (ref.length < need || ref.offset + need > batch.bodyLength) return undefined;
      return batch.bodyOffset + ref.offset;
    },
  }));
  const rows = scanned.batches.reduce((sum, batch) => sum + batch.header.length, 0);
  if (!Number.isSafeInteger(rows)) throw new TensioError('SIZE_OVERFLOW', `arrow: ${rows} rows`, { format: 'arrow' });
  return createTableReader({
    format: 'arrow',
    ...(path !== undefined ? { path } : {}),
    source,
    schema: { columns, rows, metadata: schema.metadata },
    batches,
    metadata: {
      'arrow.ipc': scanned.ipc,
      'arrow.recordBatches': scanned.batches.length,
      'arrow.compression': codecs.length === 0 ? 'none' : codecs.map((codec) => CODEC_NAMES[codec!]).join(', '),
      ...(schema.bigEndian ? { 'arrow.bigEndian': true } : {}),
      ...(scanned.dictionaries > 0 ? { 'arrow.dictionaryBatches': scanned.dictionaries } : {}),
    },
    options,
    // A column read alone: two compressed batches decoding at once keep both of libuv's busy threads fed.
    ...(codecs.length > 0 ? { columnLoadConcurrency: 2 } : {}),
    close,
  });
}

/** Field nodes a schema implies (for a table without record batches). */
function countNodes(schema: ArrowSchema): { length: number; nullCount: number }[] {
  let count = 0;
  const walk = (field: ArrowSchema['fields'][number]): void => {
    count++;
    if (field.dictionaryIndex === undefined) field.children.forEach(walk);
  };
  schema.fields.forEach(walk);
  return Array.from({ length: count }, () => ({ length: 0, nullCount: 0 }));
}
