/**
 * One record batch of the writer: its field nodes, its body's buffers in the order the
 * Arrow columnar format walks them, and its message. Columns written here have no nulls,
 * so every validity buffer is empty (length 0), as Arrow C++ writes them:
 * - a scalar column: its node; an empty validity buffer; its values (booleans as bits);
 * - a column of fixed-shape cells (a fixed-size list of prod(cellShape) values): the
 *   list's node and empty validity buffer, then the values' node and buffers as above.
 *
 * Each buffer starts 64-byte aligned in the body (the format recommends 64; Arrow C++
 * writes 8), padded with zeros. With body compression each non-empty buffer becomes an
 * int64 little-endian uncompressed length followed by one LZ4 or zstd frame; empty
 * buffers stay empty (Arrow C++ does the same). The body is never copied into one piece:
 * the writer writes the message, then the parts (values straight from the column
 * buffers when uncompressed).
 */
import { arrowRecordBatchMessage, type ArrowFieldNode } from './batch-message.js';
import type { ArrowBufferRef } from './types.js';
import type { TableColumnPlan } from '../../model/table.js';

/** Body buffers start at multiples of this. */
const ARROW_BODY_ALIGNMENT = 64;
const ZEROS = new Uint8Array(ARROW_BODY_ALIGNMENT);

/** Compresses one body buffer into one frame (LZ4 frame or zstd). */
export type ArrowBufferCompressor = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A record batch ready to write: `parts` follow `message` back to back. */
export interface ArrowEncodedBatch {
  readonly message: Uint8Array;
  readonly parts: readonly Uint8Array[];
  readonly bodyLength: number;
}

/** Booleans (one byte each, 0 or not) as Arrow's bits, least significant first. */
export function arrowPackBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 8));
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** The int64 uncompressed-length prefix of a compressed buffer. */
function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigInt64(0, BigInt(length), true);
  return prefix;
}

/**
 * Lays out one record batch of `rows` rows: `values[i]` holds column `columns[i]`'s
 * `rows × prod(cellShape)` elements in tensio's layout. With `compress` (and `codec`, its
 * `CompressionType`), buffers are compressed concurrently (native codecs run on libuv's
 * threads).
 *
 * @example
 * ```ts
 * const { message, parts } = await arrowEncodeBatch(plan.columns, values, rows);
 * ```
 */
export async function arrowEncodeBatch(
  columns: readonly TableColumnPlan[], values: readonly Uint8Array[], rows: number, compression?: { codec: number; compress: ArrowBufferCompressor },
): Promise<ArrowEncodedBatch> {
  const nodes: ArrowFieldNode[] = [];
  const buffers: Uint8Array[] = [];
  for (const [index, column] of columns.entries()) {
    const cell = column.cellShape.reduce((a, b) => a * b, 1);
    nodes.push({ length: rows, nullCount: 0 });
    buffers.push(ZEROS.subarray(0, 0));
    if (column.cellShape.length > 0) {
      nodes.push({ length: rows * cell, nullCount: 0 });
      buffers.push(ZEROS.subarray(0, 0));
    }
    const bytes = values[index]!;
    buffers.push(column.dtype === 'bool' ? arrowPackBits(bytes) : bytes);
  }
  const stored: Uint8Array[][] = compression
    ? await Promise.all(buffers.map(async (bytes) => (bytes.byteLength === 0 ? [] : [lengthPrefix(bytes.byteLength), await compression.compress(bytes)])))
    : buffers.map((bytes) => (bytes.byteLength === 0 ? [] : [bytes]));
  const refs: ArrowBufferRef[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const pieces of stored) {
    const length = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    refs.push({ offset, length });
    parts.push(...pieces);
    const padding = (ARROW_BODY_ALIGNMENT - (length % ARROW_BODY_ALIGNMENT)) % ARROW_BODY_ALIGNMENT;
    if (padding > 0) parts.push(ZEROS.subarray(0, padding));
    offset += length + padding;
  }
  return { message: arrowRecordBatchMessage(rows, nodes, refs, offset, compression?.codec), parts, bodyLength: offset };
}
