/**
 * Parsing Arrow IPC metadata over bytes (synchronous, no I/O): the message prefix, the
 * Schema, RecordBatch, Tensor and SparseTensor headers and the file footer. The async
 * shell (`reader.ts`) reads exactly these bytes from the source.
 */
import type { DType } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { MAX_RANK } from '../../core/limits.js';
import { FlatBuffer, type FlatTable } from './flatbuffers.js';
import {
  ARROW_MESSAGE, ARROW_TYPE, type ArrowBufferRef, type ArrowField, type ArrowRecordBatchHeader, type ArrowSchema,
  type ArrowSparseTensorHeader, type ArrowTensorHeader,
} from './types.js';

const fail = errorFactory('arrow');

/** `ARROW1` then two bytes of padding: the file format's leading magic. */
export const ARROW_FILE_MAGIC = new Uint8Array([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]);
/** `FEA1`, at both ends of a Feather v1 file. */
export const FEATHER_V1_MAGIC = [0x46, 0x45, 0x41, 0x31] as const;
/** Nested fields deeper than this are refused (a hostile schema could recurse forever). */
const MAX_FIELD_DEPTH = 64;

/** True when the bytes start (or end) with `ARROW1`. */
export function arrowHasMagic(bytes: Uint8Array, at = 0): boolean {
  if (at < 0 || bytes.byteLength < at + 6) return false;
  for (let i = 0; i < 6; i++) if (bytes[at + i] !== ARROW_FILE_MAGIC[i]) return false;
  return true;
}

/**
 * The encapsulated message prefix at the start of `head` (≥ 8 bytes): the continuation
 * marker `0xFFFFFFFF` then the metadata length (or, before Arrow 0.15, the length
 * alone). `metadataLength` 0 is the end-of-stream marker.
 */
export function arrowMessagePrefix(head: Uint8Array): { prefixBytes: number; metadataLength: number } {
  if (head.byteLength < 4) fail('TRUNCATED', `arrow: stream ends inside a message prefix (${head.byteLength} bytes)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const first = view.getUint32(0, true);
  if (first === 0xffffffff) {
    if (head.byteLength < 8) return { prefixBytes: 8, metadataLength: 0 };
    const length = view.getInt32(4, true);
    if (length < 0) fail('INVALID_HEADER', `arrow: message metadata length ${length} is negative`);
    return { prefixBytes: 8, metadataLength: length };
  }
  const length = view.getInt32(0, true);
  if (length < 0) fail('INVALID_HEADER', `arrow: message metadata length ${length} is negative`);
  return { prefixBytes: 4, metadataLength: length };
}

/** A parsed message flatbuffer: version, header type and table, body length. */
export interface ParsedMessage {
  readonly version: number;
  readonly headerType: number;
  readonly header: FlatTable | undefined;
  readonly bodyLength: number;
  readonly metadata: Record<string, string>;
}

/** Parses a Message flatbuffer. */
export function arrowParseMessage(bytes: Uint8Array): ParsedMessage {
  const fb = new FlatBuffer(bytes, 'message metadata');
  const message = fb.root();
  const bodyLength = message.i64(3);
  if (bodyLength < 0) fail('INVALID_HEADER', `arrow: message body length ${bodyLength} is negative`);
  return { version: message.i16(0), headerType: message.u8(1), header: message.table(2), bodyLength, metadata: keyValues(message, 4) };
}

function keyValues(table: FlatTable, index: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of table.tables(index)) {
    const key = entry.string(0);
    if (key !== undefined) out[key] = entry.string(1) ?? '';
  }
  return out;
}

const TIME_UNITS = ['s', 'ms', 'us', 'ns'];

function intDType(table: FlatTable | undefined): { dtype?: DType; name: string } {
  const bits = table?.i32(0) ?? 0;
  const signed = table?.bool(1) ?? false;
  if (![8, 16, 32, 64].includes(bits)) return { name: `int of ${bits} bits` };
  const name = `${signed ? 'int' : 'uint'}${bits}`;
  return { dtype: name as DType, name };
}

/** Parses one field (and its children). */
function parseField(table: FlatTable, depth: number, version: number): ArrowField {
  if (depth > MAX_FIELD_DEPTH) fail('LIMIT_EXCEEDED', `arrow: fields nested deeper than ${MAX_FIELD_DEPTH}`);
  const name = table.string(0) ?? '';
  const nullable = table.bool(1);
  const typeId = table.u8(2);
  const type = table.table(3);
  const children = table.tables(5).map((child) => parseField(child, depth + 1, version));
  const metadata = keyValues(table, 6);
  const dictionary = table.table(4);
  let dtype: DType | undefined;
  let typeName = '';
  let listSize: number | undefined;
  let unionMode: number | undefined;
  switch (typeId) {
    case ARROW_TYPE.Int: ({ dtype, name: typeName } = intDType(type)); break;
    case ARROW_TYPE.FloatingPoint: {
      const precision = type?.i16(0) ?? 0;
      dtype = (['float16', 'float32', 'float64'] as const)[precision];
      typeName = (['halffloat', 'float', 'double'] as const)[precision] ?? `floating point of precision ${precision}`;
      break;
    }
    case ARROW_TYPE.Bool: dtype = 'bool'; typeName = 'bool'; break;
    case ARROW_TYPE.Null: typeName = 'null'; break;
    case ARROW_TYPE.Binary: typeName = 'binary'; break;
    case ARROW_TYPE.Utf8: typeName = 'utf8'; break;
    case ARROW_TYPE.LargeBinary: typeName = 'large_binary'; break;
    case ARROW_TYPE.LargeUtf8: typeName = 'large_utf8'; break;
    case ARROW_TYPE.BinaryView: typeName = 'binary_view'; break;
    case ARROW_TYPE.Utf8View: typeName = 'utf8_view'; break;
    case ARROW_TYPE.Decimal: typeName = `decimal${type?.i32(2, 128) ?? 128}(${type?.i32(0) ?? 0}, ${type?.i32(1) ?? 0})`; break;
    case ARROW_TYPE.Date: typeName = (type?.i16(0, 1) ?? 1) === 0 ? 'date32[day]' : 'date64[ms]'; break;
    case ARROW_TYPE.Time: typeName = `time${type?.i32(1, 32) ?? 32}[${TIME_UNITS[type?.i16(0, 1) ?? 1] ?? '?'}]`; break;
    case ARROW_TYPE.Timestamp: {
      const zone = type?.string(1);
      typeName = `timestamp[${TIME_UNITS[type?.i16(0) ?? 0] ?? '?'}${zone ? `, tz=${zone}` : ''}]`;
      break;
    }
    case ARROW_TYPE.Duration: typeName = `duration[${TIME_UNITS[type?.i16(0, 1) ?? 1] ?? '?'}]`; break;
    case ARROW_TYPE.Interval: typeName = `interval[${['year_month', 'day_time', 'month_day_nano'][type?.i16(0) ?? 0] ?? '?'}]`; break;
    case ARROW_TYPE.FixedSizeBinary: typeName = `fixed_size_binary[${type?.i32(0) ?? 0}]`; break;
    case ARROW_TYPE.List: typeName = `list<${children[0]?.typeName ?? '?'}>`; break;
    case ARROW_TYPE.LargeList: typeName = `large_list<${children[0]?.typeName ?? '?'}>`; break;
    case ARROW_TYPE.ListView: typeName = `list_view<${children[0]?.typeName ?? '?'}>`; break;
    case ARROW_TYPE.LargeListView: typeName = `large_list_view<${children[0]?.typeName ?? '?'}>`; break;
    case ARROW_TYPE.FixedSizeList: {
      listSize = type?.i32(0) ?? 0;
      if (listSize < 0) fail('INVALID_HEADER', `arrow: field "${name}" is a fixed-size list of ${listSize}`);
      typeName = `fixed_size_list<${children[0]?.typeName ?? '?'}>[${listSize}]`;
      break;
    }
    case ARROW_TYPE.Struct_: typeName = `struct<${children.map((child) => `${child.name}: ${child.typeName}`).join(', ')}>`; break;
    case ARROW_TYPE.Map: typeName = 'map'; break;
    case ARROW_TYPE.Union: unionMode = type?.i16(0) ?? 0; typeName = `${unionMode === 1 ? 'dense' : 'sparse'}_union`; break;
    case ARROW_TYPE.RunEndEncoded: typeName = `run_end_encoded<${children[1]?.typeName ?? '?'}>`; break;
    default: fail('UNSUPPORTED_FEATURE', `arrow: field "${name}" has type tag ${typeId}, which this reader does not know`);
  }
  let dictionaryIndex: DType | undefined;
  if (dictionary) {
    const index = dictionary.table(1);
    dictionaryIndex = index ? intDType(index).dtype : 'int32';
    typeName = `dictionary<values=${typeName}, indices=${dictionaryIndex ?? 'invalid'}>`;
    dtype = undefined;
  }
  const extension = metadata['ARROW:extension:name'];
  if (extension) typeName = `extension<${extension}> over ${typeName}`;
  return {
    name, nullable, typeId, typeName, children, metadata,
    ...(dtype ? { dtype } : {}), ...(listSize !== undefined ? { listSize } : {}), ...(unionMode !== undefined ? { unionMode } : {}),
    ...(dictionary ? { dictionaryIndex } : {}),
  } as ArrowField;
}

/** Parses a Schema table. */
export function arrowParseSchema(table: FlatTable, version: number): ArrowSchema {
  const fields = table.tables(1).map((field) => parseField(field, 0, version));
  return { bigEndian: table.i16(0) === 1, fields, metadata: keyValues(table, 2) };
}

function bufferStruct(fb: FlatBuffer, at: number): ArrowBufferRef {
  const offset = fb.i64(at);
  const length = fb.i64(at + 8);
  if (offset < 0 || length < 0) fail('INVALID_OFFSET', `arrow: buffer at ${offset} of ${length} bytes`);
  return { offset, length };
}

/** Parses a RecordBatch (or a DictionaryBatch's data) header. */
export function arrowParseRecordBatch(table: FlatTable): ArrowRecordBatchHeader {
  const fb = table.buffer;
  const length = table.i64(0);
  if (length < 0) fail('INVALID_HEADER', `arrow: record batch of ${length} rows`);
  const nodesVector = table.vector(1, 16);
  const nodes = Array.from({ length: nodesVector.length }, (_, i) => {
    const nodeLength = fb.i64(nodesVector.start + 16 * i);
    const nullCount = fb.i64(nodesVector.start + 16 * i + 8);
    if (nodeLength < 0 || nullCount < 0 || nullCount > nodeLength) fail('INVALID_HEADER', `arrow: field node ${i} has ${nodeLength} values and ${nullCount} nulls`);
    return { length: nodeLength, nullCount };
  });
  const buffersVector = table.vector(2, 16);
  const buffers = Array.from({ length: buffersVector.length }, (_, i) => bufferStruct(fb, buffersVector.start + 16 * i));
  const compression = table.table(3);
  let codec: number | undefined;
  if (compression) {
    codec = compression.u8(0);
    if (codec !== 0 && codec !== 1) fail('UNSUPPORTED_FEATURE', `arrow: body compression codec ${codec} is neither LZ4_FRAME (0) nor ZSTD (1)`);
    if (compression.u8(1) !== 0) fail('UNSUPPORTED_FEATURE', `arrow: body compression method ${compression.u8(1)} is not BUFFER (0)`);
  }
  return { length, nodes, buffers, variadicBufferCounts: table.int64s(4), ...(codec !== undefined ? { codec } : {}) };
}

/** The file footer: schema and the blocks of dictionaries and record batches. */
export interface ArrowFooter {
  readonly version: number;
  readonly schema: ArrowSchema;
  readonly dictionaries: readonly ArrowBlock[];
  readonly recordBatches: readonly ArrowBlock[];
}

/** Where one message is in the file: `offset` of its prefix, metadata bytes (prefix included), body bytes. */
export interface ArrowBlock {
  readonly offset: number;
  readonly metaDataLength: number;
  readonly bodyLength: number;
}

/** Parses the footer flatbuffer of an Arrow file. */
export function arrowParseFooter(bytes: Uint8Array): ArrowFooter {
  const fb = new FlatBuffer(bytes, 'file footer');
  const footer = fb.root();
  const schemaTable = footer.table(1);
  if (!schemaTable) fail('INVALID_HEADER', 'arrow: file footer has no schema');
  const version = footer.i16(0);
  const blocks = (index: number): ArrowBlock[] => {
    const { length, start } = footer.vector(index, 24);
    return Array.from({ length }, (_, i) => {
      const at = start + 24 * i;
      const block = { offset: fb.i64(at), metaDataLength: fb.i32(at + 8), bodyLength: fb.i64(at + 16) };
      if (block.offset < 0 || block.metaDataLength < 0 || block.bodyLength < 0) fail('INVALID_OFFSET', `arrow: footer block ${i} at ${block.offset} (${block.metaDataLength} + ${block.bodyLength} bytes)`);
      return block;
    });
  };
  return { version, schema: arrowParseSchema(schemaTable!, version), dictionaries: blocks(2), recordBatches: blocks(3) };
}

function tensorShape(table: FlatTable): { shape: number[]; names: string[] } {
  const dims = table.tables(2);
  if (dims.length > MAX_RANK) fail('INVALID_SHAPE', `arrow: tensor of rank ${dims.length} (limit ${MAX_RANK})`);
  const shape = dims.map((dim) => dim.i64(0));
  if (shape.some((size) => size < 0)) fail('INVALID_SHAPE', `arrow: tensor shape [${shape.join(', ')}] has a negative dimension`);
  return { shape, names: dims.map((dim) => dim.string(1) ?? '') };
}

function tensorType(table: FlatTable): { dtype?: DType; typeName: string } {
  const typeId = table.u8(0);
  const type = table.table(1);
  if (typeId === ARROW_TYPE.Int) { const { dtype, name } = intDType(type); return { ...(dtype ? { dtype } : {}), typeName: name }; }
  if (typeId === ARROW_TYPE.FloatingPoint) {
    const precision = type?.i16(0) ?? 0;
    const dtype = (['float16', 'float32', 'float64'] as const)[precision];
    return { ...(dtype ? { dtype } : {}), typeName: dtype ?? `floating point of precision ${precision}` };
  }
  if (typeId === ARROW_TYPE.Bool) return { dtype: 'bool', typeName: 'bool' };
  return { typeName: `type tag ${typeId}` };
}

/** Parses a Tensor header (a dense tensor message). */
export function arrowParseTensor(table: FlatTable): ArrowTensorHeader {
  const { shape, names } = tensorShape(table);
  const dataAt = table.field(4);
  if (!dataAt) fail('INVALID_HEADER', 'arrow: tensor message has no data buffer');
  return { ...tensorType(table), shape, dimNames: names, strides: table.int64s(3), data: bufferStruct(table.buffer, dataAt) };
}

/** Parses a SparseTensor header (COO, CSR/CSC; CSF is recognised and refused later). */
export function arrowParseSparseTensor(table: FlatTable): ArrowSparseTensorHeader {
  const { shape } = tensorShape(table);
  const indexType = table.u8(4);
  const index = table.table(5);
  const dataAt = table.field(6);
  if (!dataAt || !index) fail('INVALID_HEADER', 'arrow: sparse tensor message lacks its index or data');
  const fb = table.buffer;
  const structAt = (t: FlatTable, i: number): ArrowBufferRef => {
    const at = t.field(i);
    if (!at) fail('INVALID_HEADER', 'arrow: sparse tensor index lacks a buffer');
    return bufferStruct(fb, at);
  };
  let parsed: ArrowSparseTensorHeader['index'];
  if (indexType === 1) {
    const indicesDtype = intDType(index!.table(0)).dtype;
    parsed = { kind: 'coo', ...(indicesDtype ? { indicesDtype } : {}), indicesStrides: index!.int64s(1), indices: structAt(index!, 2) };
  } else if (indexType === 2) {
    const indptrDtype = intDType(index!.table(1)).dtype;
    const indicesDtype = intDType(index!.table(3)).dtype;
    parsed = { kind: 'csx', axis: index!.i16(0) === 1 ? 'column' : 'row', ...(indptrDtype ? { indptrDtype } : {}), indptr: structAt(index!, 2), ...(indicesDtype ? { indicesDtype } : {}), indices: structAt(index!, 4) };
  } else if (indexType === 3) {
    parsed = { kind: 'csf' };
  } else {
    fail('INVALID_HEADER', `arrow: sparse tensor index type ${indexType}`);
  }
  const nonZeroLength = table.i64(3);
  if (nonZeroLength < 0) fail('INVALID_HEADER', `arrow: sparse tensor with ${nonZeroLength} non-zeros`);
  return { ...tensorType(table), shape, nonZeroLength, index: parsed!, data: bufferStruct(fb, dataAt!) };
}

/** Name of a message header type, for messages. */
export function arrowMessageName(headerType: number): string {
  return Object.entries(ARROW_MESSAGE).find(([, value]) => value === headerType)?.[0] ?? `message type ${headerType}`;
}
