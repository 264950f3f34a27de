/**
 * The metadata of one record-batch message, built directly: a `Message` flatbuffer
 * (version V5, header RecordBatch, the body's length) holding a `RecordBatch` (row count,
 * one field node per column and nested level, one buffer reference per buffer, and the
 * body compression when there is one). The writer lays out the body itself
 * (`batch-body.ts`), so only these few tables are needed, not a general FlatBuffers
 * builder.
 *
 * Layout, front to back (every int64 8-aligned, as Arrow C++'s verifier checks): the
 * root offset, the Message vtable and table, the RecordBatch vtable and table, the
 * BodyCompression vtable and table (when compressed), the `nodes` vector and the
 * `buffers` vector (16-byte structs, 8-aligned after their length).
 */
import { errorFactory } from '../../core/errors.js';
import type { ArrowBufferRef, ArrowRecordBatchHeader } from './types.js';

const fail = errorFactory('arrow');

/** A field node: values of the field in this batch, and how many of them are null. */
export type ArrowFieldNode = ArrowRecordBatchHeader['nodes'][number];

const MESSAGE_VTABLE = 4;
const MESSAGE_TABLE = 16; // its int64 bodyLength at +16 lands on 32
const BATCH_VTABLE = 40;
const BATCH_TABLE = 56; // its int64 length at +8 lands on 64
const COMPRESSION_VTABLE = 80;
const COMPRESSION_TABLE = 88;
/** The metadata version the writer declares (`MetadataVersion.V5`). */
const METADATA_V5 = 4;
/** `MessageHeader.RecordBatch`. */
const HEADER_RECORD_BATCH = 3;

/**
 * A record-batch message as written to a stream or file: the continuation marker, the
 * metadata length, the flatbuffer padded to 8 bytes. The body follows it, `bodyLength`
 * bytes. `codec` is Arrow's `CompressionType` (0 LZ4 frame, 1 zstd) when the body's
 * buffers are compressed one by one (`BodyCompressionMethod.BUFFER`).
 *
 * @example
 * ```ts
 * const message = arrowRecordBatchMessage(3, [{ length: 3, nullCount: 0 }], [{ offset: 0, length: 0 }, { offset: 0, length: 12 }], 16);
 * ```
 */
export function arrowRecordBatchMessage(rows: number, nodes: readonly ArrowFieldNode[], buffers: readonly ArrowBufferRef[], bodyLength: number, codec?: number): Uint8Array {
  for (const value of [rows, bodyLength, ...nodes.flatMap((node) => [node.length, node.nullCount]), ...buffers.flatMap((buffer) => [buffer.offset, buffer.length])]) {
    if (!(Number.isSafeInteger(value) && value >= 0)) fail('INVALID_STATE', `arrow: a record batch field of ${value} is not a size`);
  }
  const afterTables = codec === undefined ? BATCH_TABLE + 24 : COMPRESSION_TABLE + 8;
  const nodesVector = afterTables + 4; // its length at an address ≡ 4 (mod 8), so the structs after it are 8-aligned
  const buffersVector = nodesVector + 4 + 16 * nodes.length + 4;
  const size = buffersVector + 4 + 16 * buffers.length;
  const flatbuffer = new Uint8Array(size);
  const view = new DataView(flatbuffer.buffer);
  const vtable = (at: number, tableBytes: number, slots: readonly number[]) =>
    [4 + 2 * slots.length, tableBytes, ...slots].forEach((value, index) => view.setUint16(at + 2 * index, value, true));
  const offset = (at: number, target: number) => view.setUint32(at, target - at, true);
  view.setUint32(0, MESSAGE_TABLE, true);
  // Message: version (slot 0), header_type (1), header (2), bodyLength (3).
  vtable(MESSAGE_VTABLE, 24, [4, 6, 8, 16]);
  view.setInt32(MESSAGE_TABLE, MESSAGE_TABLE - MESSAGE_VTABLE, true);
  view.setInt16(MESSAGE_TABLE + 4, METADATA_V5, true);
  flatbuffer[MESSAGE_TABLE + 6] = HEADER_RECORD_BATCH;
  offset(MESSAGE_TABLE + 8, BATCH_TABLE);
  view.setBigInt64(MESSAGE_TABLE + 16, BigInt(bodyLength), true);
  // RecordBatch: length (slot 0, int64), nodes (1), buffers (2), compression (3).
  vtable(BATCH_VTABLE, 24, codec === undefined ? [8, 4, 16] : [8, 4, 16, 20]);
  view.setInt32(BATCH_TABLE, BATCH_TABLE - BATCH_VTABLE, true);
  offset(BATCH_TABLE + 4, nodesVector);
  view.setBigInt64(BATCH_TABLE + 8, BigInt(rows), true);
  offset(BATCH_TABLE + 16, buffersVector);
  if (codec !== undefined) {
    offset(BATCH_TABLE + 20, COMPRESSION_TABLE);
    // BodyCompression: codec (slot 0, byte), method (slot 1, byte: BUFFER = 0).
    vtable(COMPRESSION_VTABLE, 8, [4, 5]);
    view.setInt32(COMPRESSION_TABLE, COMPRESSION_TABLE - COMPRESSION_VTABLE, true);
    flatbuffer[COMPRESSION_TABLE + 4] = codec;
    flatbuffer[COMPRESSION_TABLE + 5] = 0;
  }
  view.setUint32(nodesVector, nodes.length, true);
  nodes.forEach((node, index) => {
    view.setBigInt64(nodesVector + 4 + 16 * index, BigInt(node.length), true);
    view.setBigInt64(nodesVector + 12 + 16 * index, BigInt(node.nullCount), true);
  });
  view.setUint32(buffersVector, buffers.length, true);
  buffers.forEach((buffer, index) => {
    view.setBigInt64(buffersVector + 4 + 16 * index, BigInt(buffer.offset), true);
    view.setBigInt64(buffersVector + 12 + 16 * index, BigInt(buffer.length), true);
  });
  return arrowMessageOf(flatbuffer);
}

/**
 * A message's bytes before its body: `0xFFFFFFFF`, the padded metadata length, the
 * flatbuffer padded with zeros to a multiple of 8.
 *
 * @example
 * ```ts
 * const message = arrowMessageOf(flatbuffer);
 * ```
 */
export function arrowMessageOf(flatbuffer: Uint8Array): Uint8Array {
  const padded = (flatbuffer.byteLength + 7) & ~7;
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, padded, true);
  out.set(flatbuffer, 8);
  return out;
}
