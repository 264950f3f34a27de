/**
 * Pieces of Arrow IPC for writing a table one record batch at a time: the schema
 * message is cut from flechette's encoding of a table of no batches (`arrowStreamParts`),
 * the record batches are laid out by `batch-body.ts`, and for the file format the footer
 * is built here (`arrowFileFooter`) from the places the batches were written at.
 *
 * Layout (Arrow columnar format, "IPC streaming format" and "IPC file format"): a message
 * is `0xFFFFFFFF`, an int32 metadata length, the metadata flatbuffer (padded to 8), then
 * its body; a stream ends with `0xFFFFFFFF 0x00000000`; a file is `ARROW1\0\0`, the
 * stream, the footer flatbuffer, its int32 length and `ARROW1`.
 */
import { errorFactory } from '../../core/errors.js';
import { arrowMessageOf, arrowRecordBatchMessage } from './batch-message.js';
import { FlatBuffer } from './flatbuffers.js';

const fail = errorFactory('arrow');

/** `ARROW1` and two bytes of padding (the file's first 8 bytes; its last 6 are the first 6 of these). */
export const ARROW_FILE_MAGIC = Uint8Array.from([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31, 0, 0]);

/** The end-of-stream marker: continuation, then a metadata length of 0. */
export const ARROW_END_OF_STREAM = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** Where a record batch sits in the file, as the footer lists it. */
export interface ArrowBlock {
  /** Offset of the message (its continuation marker) from the start of the file. */
  readonly offset: number;
  /** Bytes of the 8-byte prefix and the padded metadata flatbuffer. */
  readonly metadataLength: number;
  readonly bodyLength: number;
}

/** Length of the metadata flatbuffer of the message at `at` (after its 8-byte prefix). */
function metadataBytes(stream: Uint8Array, at: number): number {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (at + 8 > stream.byteLength || view.getInt32(at, true) !== -1) fail('INVALID_STATE', `arrow: the encoded stream has no message at ${at}`);
  return view.getInt32(at + 4, true);
}

/**
 * Splits a stream flechette encoded into its schema message and the record-batch message
 * after it (none for a table of no batches). `schemaLength` is the schema message's
 * length when already known (0: read from the stream).
 */
export function arrowStreamParts(stream: Uint8Array, schemaLength: number): { schema: Uint8Array; batch: Uint8Array; metadataLength: number } {
  let schemaEnd = schemaLength;
  if (schemaEnd === 0) {
    // A schema message has no body: its metadata is all of it.
    schemaEnd = 8 + metadataBytes(stream, 0);
  }
  const end = stream.byteLength - ARROW_END_OF_STREAM.byteLength;
  if (end < schemaEnd || stream[end] !== 0xff || stream[end + 4] !== 0) fail('INVALID_STATE', 'arrow: the encoded stream does not end with its end-of-stream marker');
  const batch = stream.subarray(schemaEnd, end);
  return { schema: stream.subarray(0, schemaEnd), batch, metadataLength: batch.byteLength > 0 ? 8 + metadataBytes(stream, schemaEnd) : 0 };
}

/**
 * The file footer (a `Footer` flatbuffer: version V5, the schema, no dictionaries, the
 * record batches' blocks). The schema is the one of the stream's schema message: that
 * message's flatbuffer is copied whole after the footer's own tables (its offsets are
 * relative, so they stay valid) and the footer points at the `Schema` table inside it.
 */
export function arrowFileFooter(schemaMessage: Uint8Array, blocks: readonly ArrowBlock[]): Uint8Array {
  const message = schemaMessage.subarray(8, 8 + metadataBytes(schemaMessage, 0));
  const schemaAt = new FlatBuffer(message, 'schema message').root().table(2)?.at;
  if (schemaAt === undefined) fail('INVALID_STATE', 'arrow: the schema message has no schema');
  const vtable = 4;
  const table = 16;
  const dictionaries = table + 20;
  const records = dictionaries + 8; // its elements (8-byte structs) start 8-aligned
  const copy = records + 4 + 24 * blocks.length;
  const out = new Uint8Array(copy + message.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, table, true); // root table
  // vtable: its size, the table's size, then each field's place in the table.
  [12, 20, 4, 8, 12, 16].forEach((value, index) => view.setUint16(vtable + 2 * index, value, true));
  view.setInt32(table, table - vtable, true);
  view.setInt16(table + 4, 4, true); // version: V5
  view.setUint32(table + 8, copy + schemaAt! - (table + 8), true);
  view.setUint32(table + 12, dictionaries - (table + 12), true);
  view.setUint32(table + 16, records - (table + 16), true);
  view.setUint32(dictionaries, 0, true);
  view.setUint32(records, blocks.length, true);
  for (const [index, block] of blocks.entries()) {
    const at = records + 4 + 24 * index;
    view.setBigInt64(at, BigInt(block.offset), true);
    view.setInt32(at + 8, block.metadataLength, true);
    view.setBigInt64(at + 16, BigInt(block.bodyLength), true);
  }
  out.set(message, copy);
  return out;
}

/** Bytes of `text` as a flatbuffer string: length, UTF-8, NUL, padded to 4. */
function flatString(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const out = new Uint8Array(4 + ((utf8.byteLength + 1 + 3) & ~3));
  new DataView(out.buffer).setUint32(0, utf8.byteLength, true);
  out.set(utf8, 4);
  return out;
}

/**
 * The schema message of a table of no columns, with its key-value metadata. Built here
 * because flechette leaves an empty `fields` vector out, and Arrow C++ (pyarrow) then
 * refuses the file ("Unexpected null field Schema.fields").
 */
export function arrowEmptySchemaMessage(metadata: ReadonlyMap<string, string>): Uint8Array {
  const strings = [...metadata].map(([key, value]) => [flatString(key), flatString(value)] as const);
  // Layout, front to back: root, Message vtable + table, Schema vtable + table, fields (empty),
  // metadata vector, KeyValue vtable, KeyValue tables, strings.
  const messageVtable = 4;
  const messageTable = messageVtable + 12;
  const schemaVtable = messageTable + 12;
  const schemaTable = schemaVtable + 12;
  const fields = schemaTable + 12;
  const vector = fields + 4;
  const keyValueVtable = vector + 4 + 4 * strings.length;
  const keyValues = keyValueVtable + 8;
  let stringsAt = keyValues + 12 * strings.length;
  const size = stringsAt + strings.reduce((sum, [key, value]) => sum + key.byteLength + value.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const vtable = (at: number, tableBytes: number, slots: number[]) => [4 + 2 * slots.length, tableBytes, ...slots].forEach((value, index) => view.setUint16(at + 2 * index, value, true));
  const offset = (at: number, target: number) => view.setUint32(at, target - at, true);
  view.setUint32(0, messageTable, true);
  // Message: version V5 (slot 0), header_type Schema = 1 (slot 1), header (slot 2); bodyLength 0 is the default.
  vtable(messageVtable, 12, [4, 6, 8, 0]);
  view.setInt32(messageTable, messageTable - messageVtable, true);
  view.setInt16(messageTable + 4, 4, true);
  out[messageTable + 6] = 1;
  offset(messageTable + 8, schemaTable);
  // Schema: endianness Little (the default, slot 0), fields (slot 1), custom_metadata (slot 2).
  vtable(schemaVtable, 12, [0, 4, 8]);
  view.setInt32(schemaTable, schemaTable - schemaVtable, true);
  offset(schemaTable + 4, fields);
  offset(schemaTable + 8, vector);
  view.setUint32(fields, 0, true);
  view.setUint32(vector, strings.length, true);
  vtable(keyValueVtable, 12, [4, 8]);
  for (const [index, [key, value]] of strings.entries()) {
    const table = keyValues + 12 * index;
    offset(vector + 4 + 4 * index, table);
    view.setInt32(table, table - keyValueVtable, true);
    offset(table + 4, stringsAt);
    out.set(key, stringsAt);
    stringsAt += key.byteLength;
    offset(table + 8, stringsAt);
    out.set(value, stringsAt);
    stringsAt += value.byteLength;
  }
  return arrowMessageOf(out);
}

/** The record-batch message of `rows` rows and no columns (empty `nodes` and `buffers`, which Arrow C++ requires present). */
export function arrowEmptyBatchMessage(rows: number): Uint8Array {
  return arrowRecordBatchMessage(rows, [], [], 0);
}
