/**
 * `tensio/model`: what a format author needs to plug a format into the seam (and into
 * the operations, through their `{ formats }` option): the shared reader body, the
 * planned-writer lifecycle, lazily loaded formats, the generic verifiers, slices and
 * multi-part layouts. The types themselves are also in the root entry.
 */
export * from './types.js';
export { READ_POPULATE_BACKLOG_BYTES } from './read-populate.js';
export { createTensorReader, resolveRowSlice, type TensorLocation, type TensorReaderParts, type DecodeOptions } from './create-reader.js';
export * from './planned-writer.js';
export * from './lazy-format.js';
export * from './nd-slice.js';
export * from './layouts.js';
export * from './densify.js';
export * from './dequantize-layout.js';
export * from './shared-storage.js';
export { verifyByReading } from './verify-by-reading.js';
export { readEach, READ_EACH_AHEAD_BYTES, READ_EACH_MAX_COPIES, READ_EACH_OFF_THREAD_MIN_BYTES, type ReadEachOptions, type ReadEachItem } from './read-each.js';
export * from './verify-loop.js';
