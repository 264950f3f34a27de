/**
 * Reading Parquet: the footer is checked by hand first (magic at both ends, footer
 * length inside the file and under the limit, encrypted footers refused), then parsed
 * by hyparquet; each row group is one batch of the table reader, decoded by hyparquet
 * for the selected columns only when its rows are read.
 */
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnMetaData, type FileMetaData } from 'hyparquet';
import { DTYPE_INFO, type DType } from '../../core/dtype.js';
import { float32ToFloat16Bits } from '../../core/float-convert.js';
import { errorFactory, TensioError } from '../../core/errors.js';
import { PARQUET_MAX_CHUNK_VALUES, PARQUET_MAX_COLUMN_CHUNK_BYTES, PARQUET_MAX_FOOTER_BYTES } from '../../core/limits.js';
import type { TableColumnBatch } from '../../model/table-cells.js';
import { createTableReader, type TableBand, type TableBatch } from '../../model/table-reader.js';
import type { OpenOptions, TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { ScratchPool, scratchArena, TABLE_READ_SCRATCH, type ScratchArena } from '../../storage/scratch-pool.js';
import { openSourceInput, sourceOptionsOf } from '../../storage/source-input.js';
import { parquetDecompressors, parquetLoadZstd, parquetPageDecompressor } from './codecs.js';
import { parquetCheckChunk } from './page-check.js';
import { parquetNativeGather } from './gather-native.js';
import { ParquetBandScratch, ParquetPageReader, type ParquetChunkRange } from './page-stream.js';
import { parquetDecodePlainChunk, parquetPlainChunkBands, type ParquetPlainBands, type ParquetPlainChunk, type ParquetPlainColumn } from './plain-pages.js';
import { parquetPlainRefusal, type ParquetValidityTarget } from './page-placer.js';
import { parquetTableColumns, parquetTopFields, type ParquetTopField } from './schema.js';
import type { ParquetOpenOptions } from './types.js';
import { allocateUninitialized, allocateZeroed } from '../../core/memory.js';

const fail = errorFactory('parquet');


/**
 * Row groups a whole read of one column tensor decodes at once (`columnLoadConcurrency`):
 * two, so that a column's snappy or zstd pages keep both of libuv's busy threads of a
 * 2-core machine at work while the main thread reads the next chunk. 1M × 32 float32
 * snappy, 10 row groups, 32 column tensors, interleaved (load ~4): 843 → 501 ms wall at
 * the same CPU; 3 was no better. Memory: one more chunk of the column in flight.
 */
const PARQUET_COLUMN_LOAD_CONCURRENCY = 2;


/** hyparquet's view of a byte source. */
export function parquetAsyncBuffer(source: ByteSource, signal?: AbortSignal): AsyncBuffer {
  return {
    byteLength: source.size,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? source.size, source.size);
      const bytes = await source.read(start, Math.max(0, stop - start), signal ? { signal } : undefined);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Checks magic and footer length, then parses the footer. */
export async function parquetReadMetadata(source: ByteSource, options: { maxFooterBytes?: number; signal?: AbortSignal } = {}): Promise<FileMetaData> {
  const size = source.size;
  if (size < 12) fail('TRUNCATED', `parquet: a file of ${size} bytes is too short for the magic and footer (12 bytes at least)`);
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const head = await source.read(0, 4, readOptions);
  const tail = await source.read(size - 8, 8, readOptions);
  const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);
  if (text(tail.subarray(4)) === 'PARE') fail('UNSUPPORTED_FEATURE', 'parquet: the footer is encrypted (PARE); tensio reads plaintext-footer files only');
  if (text(head) !== 'PAR1' || text(tail.subarray(4)) !== 'PAR1') {
    fail('BAD_MAGIC', `parquet: the file must start and end with PAR1 (found ${JSON.stringify(text(head))} … ${JSON.stringify(text(tail.subarray(4)))}); truncated or not Parquet`);
  }
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
  if (footerLength > size - 12) fail('INVALID_OFFSET', `parquet: footer length ${footerLength} is more than the ${size - 12} bytes between the magics`);
  const limit = options.maxFooterBytes ?? PARQUET_MAX_FOOTER_BYTES;
  if (footerLength > limit) fail('LIMIT_EXCEEDED', `parquet: footer of ${footerLength} bytes exceeds the limit ${limit} (option maxFooterBytes)`);
  try {
    return await parquetMetadataAsync(parquetAsyncBuffer(source, options.signal), { initialFetchSize: Math.min(size, footerLength + 8) } as never);
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    return fail('INVALID_HEADER', `parquet: cannot parse the footer: ${(cause as Error).message}`, { cause });
  }
}

/** Bounds of one column decode. */
export interface ParquetDecodeLimits {
  /** Largest column chunk, stored or decoded (pages may decode to twice its declared decoded size, plus 1 MiB: some writers understate it). */
  readonly maxChunkBytes: number;
  /** Most values the pages of one chunk may declare (flat columns: also at most the row group's rows). */
  readonly maxChunkValues: number;
}

/** The levels of a leaf ({@link parquetLevels}). */
interface ParquetLeafLevels {
  readonly maxDefinition: number;
  readonly maxRepetition: number;
  readonly flat: boolean;
  readonly boolean: boolean;
}

/**
 * {@link parquetLevels} already found, per footer and leaf path: hyparquet's `parquetSchema`
 * builds the whole schema tree at each call, and every column chunk read asked for it (a
 * columnar read of 32 columns × 10 row groups built it 320 times: 3.0 of the 10.9 MB of
 * JavaScript heap the read allocated, which made its young generation grow and start
 * major collections; see bench/README.md).
 */
const leafLevels = new WeakMap<FileMetaData, Map<string, ParquetLeafLevels>>();

/** The definition and repetition maxima of a leaf, as hyparquet computes them from its schema path (computed once per footer and path). */
function parquetLevels(metadata: FileMetaData, path: readonly string[]): ParquetLeafLevels {
  let known = leafLevels.get(metadata);
  if (!known) leafLevels.set(metadata, known = new Map());
  // The path's parts joined by a character no Thrift string of the footer can make ambiguous here: a length prefix each.
  const key = path.map((part) => `${part.length}:${part}`).join('');
  let levels = known.get(key);
  if (!levels) known.set(key, levels = schemaLevels(metadata, path));
  return levels;
}

/** {@link parquetLevels}, walked from the schema tree. */
function schemaLevels(metadata: FileMetaData, path: readonly string[]): ParquetLeafLevels {
  let node = parquetSchema(metadata);
  let maxDefinition = 0;
  let maxRepetition = node.element.repetition_type === 'REPEATED' ? 1 : 0;
  for (const part of path) {
    const child = node.children.find((candidate) => candidate.element.name === part);
    if (!child) fail('INVALID_HEADER', `parquet: column path ${path.join('.')} is not in the schema`);
    node = child!;
    if (node.element.repetition_type !== 'REQUIRED') maxDefinition++;
    if (node.element.repetition_type === 'REPEATED') maxRepetition++;
  }
  const flat = path.length === 1 && node.element.repetition_type !== 'REPEATED' && node.children.length === 0;
  return { maxDefinition, maxRepetition, flat, boolean: node.element.type === 'BOOLEAN' };
}

/**
 * Decodes rows `[rowStart, rowEnd)` (one row group) of one top-level column with hyparquet.
 * Every column chunk it spans is read once and checked first (`parquetCheckChunk`: value
 * counts, level and index run lengths), then handed to hyparquet from memory, with the
 * pages the check decompressed; any failure becomes a `TensioError` naming the column.
 */
export async function parquetDecodeColumn(file: AsyncBuffer, metadata: FileMetaData, column: string, rowStart: number, rowEnd: number, limits: ParquetDecodeLimits, where: string,
  onChunk: (chunk: { columnName: string; columnData: ArrayLike<unknown>; rowStart: number }) => void): Promise<void> {
  if (metadata.row_groups.some((group) => group.columns.some((chunk) => chunk.meta_data?.codec === 'ZSTD'))) await parquetLoadZstd();
  let pageBound = 0;
  let decompressors = parquetDecompressors(0);
  // Chunks read for the check, by byte range, given to hyparquet instead of a second read;
  // pages the check decompressed, by their place in those chunks, given back the same way.
  const chunks = new Map<string, ArrayBuffer>();
  const pages = new Map<ArrayBuffer, Map<number, Uint8Array>>();
  try {
    let first = 0;
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const overlaps = first < rowEnd && first + rows > rowStart;
      first += rows;
      if (!overlaps) continue;
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (!meta || meta.path_in_schema[0] !== column) continue;
        // hyparquet's chunk start: the dictionary page when the offset is set (an offset of 0 is not).
        const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
        const length = Number(meta.total_compressed_size);
        const what = `column "${meta.path_in_schema.join('.')}" in ${where}`;
        if (!(Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(length) && length >= 0)) fail('INVALID_OFFSET', `parquet: ${what} spans ${start} + ${length} bytes`);
        const decoded = Number(meta.total_uncompressed_size);
        if (length > limits.maxChunkBytes || decoded > limits.maxChunkBytes) {
          fail('LIMIT_EXCEEDED', `parquet: ${what} holds ${length} bytes (${decoded} decoded), more than the limit ${limits.maxChunkBytes} (option maxColumnChunkBytes)`);
        }
        // Pages must fit in their chunk's decoded size; some writers understate it, so allow slack, never gigabytes.
        const bound = Math.min(limits.maxChunkBytes, 2 * Math.max(decoded, length) + 2 ** 20);
        if (bound > pageBound) decompressors = parquetDecompressors(pageBound = bound);
        const buffer = await file.slice(start, start + length);
        chunks.set(`${start}:${start + length}`, buffer);
        const levels = parquetLevels(metadata, meta.path_in_schema);
        const maxValues = levels.flat ? Math.min(rows, limits.maxChunkValues) : limits.maxChunkValues;
        const codec = decompressors[meta.codec as keyof typeof decompressors];
        const kept = new Map<number, Uint8Array>();
        pages.set(buffer, kept);
        const decompress = meta.codec === 'UNCOMPRESSED' ? (bytes: Uint8Array) => bytes : codec ? (bytes: Uint8Array, size: number) => {
          const page = codec(bytes, size);
          kept.set(bytes.byteOffset, page);
          return page;
        } : undefined;
        try {
          parquetCheckChunk(new Uint8Array(buffer), { ...levels, maxValues, decompress, where: what });
        } catch (error) {
          if (error instanceof TensioError && error.code === 'INVALID_HEADER' && /values or more/.test(error.message) && maxValues === limits.maxChunkValues) {
            fail('LIMIT_EXCEEDED', `${error.message.replace(/; its row group holds.*/, '')}, more than the limit ${limits.maxChunkValues} (option maxChunkValues)`);
          }
          throw error;
        }
      }
    }
    const reading: AsyncBuffer = {
      byteLength: file.byteLength,
      slice: (start, end) => chunks.get(`${start}:${end}`) ?? file.slice(start, end),
    };
    // hyparquet hands each page's bytes as a view of the chunk it was given: a page the check decompressed is found by its offset.
    const compressors = Object.fromEntries(Object.entries(decompressors).map(([name, decompress]) => [name, (input: Uint8Array, size: number) => {
      const kept = pages.get(input.buffer as ArrayBuffer)?.get(input.byteOffset);
      if (kept && kept.byteLength === size) {
        pages.get(input.buffer as ArrayBuffer)!.delete(input.byteOffset);
        return kept;
      }
      return decompress!(input, size);
    }]));
    await parquetRead({ file: reading, metadata, columns: [column], rowStart, rowEnd, compressors, utf8: false, onChunk: onChunk as never });
  } catch (cause) {
    if (cause instanceof TensioError) throw cause;
    fail('INVALID_HEADER', `parquet: cannot decode column "${column}" in ${where}: ${(cause as Error).message}`, { cause });
  }
}

/** Bytes per value when a column's PLAIN values are its dtype's bytes as they are (fast path), else undefined. */
function plainItemBytes(field: ParquetTopField, dtype: DType | undefined): number | undefined {
  switch (field.element.type) {
    case 'FLOAT': return dtype === 'float32' ? 4 : undefined;
    case 'DOUBLE': return dtype === 'float64' ? 8 : undefined;
    case 'INT32': return dtype === 'int32' || dtype === 'uint32' ? 4 : undefined;
    case 'INT64': return dtype === 'int64' || dtype === 'uint64' ? 8 : undefined;
    default: return undefined;
  }
}

/** A column chunk set up for the fast path: its stored bytes, its codec and the decoded pages' buffers. */
interface PlainChunkSetup<Chunk = Uint8Array> {
  /** The stored bytes, read; or where they are, for a streamed read that reads them page by page. */
  readonly chunk: Chunk;
  readonly shape: ParquetPlainChunk;
  /**
   * Gives the pooled buffers back (the stored bytes, and every page buffer but `keep`'s):
   * only once every decode has settled.
   */
  finish(keep?: Uint8Array): void;
}

/**
 * One column of one row group set up for the fast path (`plain-pages.ts`): its chunk read
 * once (into a pooled buffer when the source reads into buffers), its pages to be decoded
 * into pooled buffers, or into the column's bytes where they belong. Undefined when the
 * column or its chunk is not one that path takes (the caller decodes it with hyparquet,
 * which checks it and reports what is wrong).
 */
async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, where: string, signal?: AbortSignal, arena?: ScratchArena): Promise<PlainChunkSetup | undefined>;
async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: undefined, where: string, signal: AbortSignal | undefined, arena: undefined, streamed: ParquetBandScratch): Promise<PlainChunkSetup<ParquetChunkRange> | undefined>;
/** With `streamed`, the chunk is not read (a streamed read reads it page by page) and its pages decode into the scratch's buffers. */
async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, where: string, signal?: AbortSignal, arena?: ScratchArena, streamed?: ParquetBandScratch): Promise<PlainChunkSetup<Uint8Array | ParquetChunkRange> | undefined> {
  const itemBytes = plainItemBytes(field, dtype);
  if (!itemBytes || !chunkMeta || chunkMeta.path_in_schema.length !== 1) return undefined;
  const levels = parquetLevels(metadata, chunkMeta.path_in_schema);
  if (!levels.flat || levels.maxRepetition > 0 || levels.maxDefinition > 1) return undefined;
  // A chunk with a dictionary starts at its dictionary page, which comes before the data pages.
  const dictionaryAt = chunkMeta.dictionary_page_offset === undefined ? 0 : Number(chunkMeta.dictionary_page_offset);
  const dataAt = Number(chunkMeta.data_page_offset);
  const start = dictionaryAt > 0 && dictionaryAt < dataAt ? dictionaryAt : dataAt;
  const length = Number(chunkMeta.total_compressed_size);
  const decoded = Number(chunkMeta.total_uncompressed_size);
  if (!(Number.isSafeInteger(start) && start >= 4 && Number.isSafeInteger(length) && length >= 0 && start + length <= source.size)) return undefined;
  if (length > maxChunkBytes || decoded > maxChunkBytes || rows * itemBytes > maxChunkBytes) return undefined;
  // Pages decoded into the pool's buffers (snappy, and zstd through libzstd): each is given back by `finish` unless it became the column's values.
  const pages: Uint8Array[] = [];
  // Where the page being started belongs in the column's bytes, when it decodes to exactly its
  // values (ParquetPageDecompress's `into`): a decoder that takes a buffer (snappy, zstd through libzstd) decodes there.
  let target: Uint8Array | undefined;
  const pooled = pool && source.readInto ? pool : undefined;
  const pageBuffer = (size: number) => {
    if (target && target.byteLength === size) return target;
    if (streamed) return streamed.take(size);
    if (!pooled) return allocateUninitialized(size);
    const piece = arena?.take(size);
    if (piece) return piece;
    const page = pooled.take(size);
    pages.push(page);
    return page;
  };
  // The same page bound as the general path: some writers understate the chunk's decoded size.
  const codec = chunkMeta.codec === 'UNCOMPRESSED' ? undefined : await parquetPageDecompressor(chunkMeta.codec, Math.min(maxChunkBytes, 2 * Math.max(decoded, length) + 2 ** 20), pageBuffer);
  if (chunkMeta.codec !== 'UNCOMPRESSED' && !codec) return undefined;
  // The codec takes its buffer synchronously, inside the call: `target` is set for that call only.
  const decompress = codec && ((bytes: Uint8Array, size: number, into?: Uint8Array) => {
    target = into;
    try {
      return codec(bytes, size);
    } finally {
      target = undefined;
    }
  });
  const readOptions = signal ? { signal } : undefined;
  const shape = { rows, itemBytes, maxDefinition: levels.maxDefinition, decompress, where };
  if (streamed) return { chunk: { source, offset: start, length }, shape, finish() {} };
  if (!pooled) return { chunk: await source.read(start, length, readOptions), shape, finish() {} };
  // The stored bytes are dropped once decoded (the result never views them): a pooled buffer, reused row group after row group.
  const inArena = arena?.take(length);
  const chunk = inArena ?? pooled.take(length);
  await source.readInto!(chunk, start, readOptions);
  return {
    chunk,
    shape,
    finish(keep) {
      for (const page of pages) if (page.buffer !== keep?.buffer) pooled.give(page);
      if (!inArena) pooled.give(chunk);
    },
  };
}

/**
 * One column of one row group through the fast path: its PLAIN pages copied (or
 * decoded in place), its dictionary-encoded pages gathered, into the column's bytes
 * (`into`, or a pooled buffer given back by `release`). Undefined when the column is not
 * one that path takes (see {@link parquetPlainChunkSetup}).
 */
async function parquetReadPlainColumn(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, into: Uint8Array | undefined, where: string, signal?: AbortSignal): Promise<ParquetPlainColumn | undefined> {
  const setup = await parquetPlainChunkSetup(source, metadata, field, dtype, rows, chunkMeta, maxChunkBytes, pool, where, signal);
  if (!setup) return undefined;
  let taken: Uint8Array | undefined;
  // Column buffers from the pool too (when reading into pooled buffers): given back by `release` once a stacked read has placed them.
  const allocate = pool && source.readInto ? (size: number) => (taken = pool.take(size)) : undefined;
  let column: ParquetPlainColumn | undefined;
  try {
    column = await parquetDecodePlainChunk(setup.chunk, { ...setup.shape, ...(allocate ? { allocate } : {}), ...(into ? { into } : {}) });
  } catch (error) {
    // A damaged dictionary index stream (every decode has settled): refused, its buffers given back.
    if (taken) pool!.give(taken);
    setup.finish();
    throw error;
  }
  // Returned (a column or undefined; it never throws): every decode has settled, nothing writes these buffers any more.
  if (taken && column?.values !== taken) pool!.give(taken);
  // A decoded page that became the column's values goes back with `release`; the others are done with.
  setup.finish(column?.values);
  return column;
}

/** Rows a stacked read places per band ({@link PARQUET_BAND_BYTES} of the band's columns, at least 1,024). */
function bandRowsFor(rowBytes: number): number {
  return Math.max(1024, Math.floor(PARQUET_BAND_BYTES / Math.max(1, rowBytes)));
}

/** Awaits every promise (none left running, so no buffer is reused under a read) and throws the first failure. */
async function settledAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/**
 * Stored bytes a streamed read reads past the page it needs (`ParquetPageReader`): the
 * next page's header, and a small page whole; a ~1 MiB page (pyarrow's and tensio's
 * default) is then one read, its first 64 KiB copied from the last window.
 */
const PARQUET_STREAM_READ_AHEAD = 64 * 2 ** 10;

/**
 * Smallest row group (decoded bytes of the wanted columns) a stacked read places in
 * bands. Below it the whole decoded columns come from the shared table scratch (`TABLE_READ_SCRATCH`), warm from the
 * last row group (tensio's default 100,000 rows × 32 float32 columns is 12.8 MB), and
 * placing them whole cost less CPU than bands (interleaved, 1M × 32 float32 in row groups
 * of 100,000, load 5-8: snappy 493 against 553 ms, zstd 866 against 922); a row group of
 * pyarrow's default million rows placed in bands: 652 → 412 ms CPU (dictionary pages),
 * 977 → 685 (dictionary then PLAIN).
 */
const PARQUET_BANDED_MIN_BYTES = 16 * 2 ** 20;

/**
 * Bytes of the decoded columns a stacked read places at a time: the band buffers are
 * reused band after band, where whole decoded columns were fresh memory for a row group
 * of a million rows (pyarrow's default), written once and read once by the join. Not
 * smaller: each band gathers every column from its own dictionary in turn, and a band of
 * a few thousand values per column finds a large dictionary (pyarrow's 1 MiB) out of the
 * caches every time. Interleaved, 1M × 32 float32, random values (dictionary then PLAIN),
 * CPU against whole columns, load ~6: 1 MiB bands 760 → 793 ms, 4 MiB 807 → 648, 8 MiB
 * 655 → 498; the bench table (16,000 distinct values) 406 → 349, 426 → 327, 429 → 317.
 */
const PARQUET_BAND_BYTES = 4 * 2 ** 20;

/**
 * Bands of a stacked read whose native dictionary gather may run while the JavaScript
 * thread prepares the next one: enough to keep a libuv worker busy behind it, few enough
 * that their rows (4 MiB each) stay in cache until `place` joins the other columns.
 */
const PARQUET_GATHER_BANDS_IN_FLIGHT = 3;

/** The values of a column placed straight into the tensor's rows (`TableColumnBatch.placed`). */
const NO_VALUES = new Uint8Array(0);

/** One decoded column of a row group as table cells. */
function toCells(dtype: DType, values: ArrayLike<unknown>, rows: number): TableColumnBatch {
  const item = DTYPE_INFO[dtype].bits / 8;
  const out = allocateZeroed(rows * item);
  let validity: Uint8Array | undefined;
  const markNull = (row: number) => {
    validity ??= new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
    validity[row >> 3]! &= ~(1 << (row & 7));
  };
  const view = new DataView(out.buffer);
  if (values.length < rows) fail('TRUNCATED', `parquet: a column decoded to ${values.length} values, ${rows} expected`);
  // Fast paths: typed arrays of the right element type are copied whole.
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    const typed = values as unknown as { buffer: ArrayBuffer; byteOffset: number; BYTES_PER_ELEMENT: number };
    const matches = (dtype === 'float32' && values instanceof Float32Array) || (dtype === 'float64' && values instanceof Float64Array)
      || (dtype === 'int32' && values instanceof Int32Array) || (dtype === 'int64' && values instanceof BigInt64Array)
      || (dtype === 'uint64' && values instanceof BigUint64Array) || (dtype === 'uint32' && values instanceof Uint32Array);
    if (matches) {
      out.set(new Uint8Array(typed.buffer, typed.byteOffset, rows * item));
      return { values: out };
    }
  }
  for (let row = 0; row < rows; row++) {
    const value = values[row];
    if (value === null || value === undefined) { markNull(row); continue; }
    const at = row * item;
    switch (dtype) {
      case 'bool': out[at] = value ? 1 : 0; break;
      case 'int8': view.setInt8(at, Number(value)); break;
      case 'uint8': view.setUint8(at, Number(value)); break;
      case 'int16': view.setInt16(at, Number(value), true); break;
      case 'uint16': view.setUint16(at, Number(value), true); break;
      case 'int32': view.setInt32(at, Number(value), true); break;
      case 'uint32': view.setUint32(at, Number(value), true); break;
      case 'int64': view.setBigInt64(at, BigInt(value as bigint | number), true); break;
      case 'uint64': view.setBigUint64(at, BigInt.asUintN(64, BigInt(value as bigint | number)), true); break;
      case 'float16': view.setUint16(at, float32ToFloat16Bits(Number(value)), true); break;
      case 'float32': view.setFloat32(at, Number(value), true); break;
      case 'float64': view.setFloat64(at, Number(value), true); break;
      default: fail('UNSUPPORTED_DTYPE', `parquet: cannot read ${dtype} cells`);
    }
  }
  return validity ? { values: out, validity } : { values: out };
}

/**
 * Opens a Parquet file as a `TensorReader` (a table reader, see `model/table.ts`).
 *
 * @example
 * ```ts
 * await using reader = await parquetOpen('table.parquet', { formatOptions: { columns: 'separate', select: ['x', 'y'] } });
 * ```
 */
export async function parquetOpen(input: string | ByteSource, options: OpenOptions = {}): Promise<TensorReader> {
  const opened = await openSourceInput(input, sourceOptionsOf(options));
  const { source } = opened;
  const close = async () => { if (opened.owned) await source.close?.(); };
  try {
    return await parquetOpenSource(source, (options.formatOptions ?? {}) as ParquetOpenOptions, close, options.signal);
  } catch (error) {
    await close();
    throw error;
  }
}

async function parquetOpenSource(source: ByteSource, options: ParquetOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  try {
    return await parquetOpenChecked(source, options, close, signal);
  } catch (cause) {
    // hyparquet hands back whatever a damaged footer decodes to; anything that trips over it is a bad header.
    if (cause instanceof TensioError) throw cause;
    return fail('INVALID_HEADER', `parquet: the footer does not describe a readable file: ${(cause as Error).message}`, { cause });
  }
}

async function parquetOpenChecked(source: ByteSource, options: ParquetOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  const metadata = await parquetReadMetadata(source, { ...(options.maxFooterBytes !== undefined ? { maxFooterBytes: options.maxFooterBytes } : {}), ...(signal ? { signal } : {}) });
  let fields;
  try {
    fields = parquetTopFields(metadata);
  } catch (cause) {
    fail('INVALID_HEADER', `parquet: bad schema: ${(cause as Error).message}`, { cause });
  }
  const columns = parquetTableColumns(metadata, fields!);
  const maxChunk = options.maxColumnChunkBytes ?? PARQUET_MAX_COLUMN_CHUNK_BYTES;
  const maxChunkValues = options.maxChunkValues ?? PARQUET_MAX_CHUNK_VALUES;
  const codecs = new Set<string>();
  const file = parquetAsyncBuffer(source, signal);
  // Stored chunk bytes of the fast path, reused from row group to row group and from read to read.
  const pool = TABLE_READ_SCRATCH;
  // A streamed stacked read's windows and decoded pages (a few per column: 32 columns of ~1 MiB pages hold ~100).
  const streamPool = new ScratchPool(256, 16 * 2 ** 20);
  let first = 0;
  const totalRows = Number(metadata.num_rows);
  const batches: TableBatch[] = metadata.row_groups.map((group, index) => {
    const rows = Number(group.num_rows);
    const start = first;
    first += rows;
    let offset = Number.MAX_SAFE_INTEGER;
    let stored = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      codecs.add(meta.codec);
      offset = Math.min(offset, Number(meta.dictionary_page_offset ?? meta.data_page_offset));
      stored += Number(meta.total_compressed_size);
    }
    /** Refuses a wanted column without metadata or whose chunk runs past the end of the file. */
    const checkChunks = (wanted: readonly number[]) => {
      for (const column of wanted) {
        const meta = group.columns[fields![column]!.leafIndex!]?.meta_data;
        if (!meta) fail('INVALID_HEADER', `parquet: row group ${index} has no metadata for column "${columns[column]!.name}"`);
        const stored = Number(meta!.total_compressed_size);
        // A chunk starts at its dictionary page when it has one (an offset of 0, written by old parquet-mr, is none: hyparquet's rule).
        const chunkStart = Number(meta!.dictionary_page_offset || meta!.data_page_offset);
        if (chunkStart + stored > source.size) {
          fail('INVALID_OFFSET', `parquet: column "${columns[column]!.name}" in row group ${index} runs past the end of the file (${chunkStart} + ${stored} > ${source.size})`);
        }
      }
    };
    const batch: TableBatch = {
      rows,
      offset: offset === Number.MAX_SAFE_INTEGER ? 0 : offset,
      storedLength: stored,
      label: `row group ${index}`,
      release(data) {
        // Only what the pool handed out goes back to it (it ignores other buffers).
        for (const column of data) if (column) pool.give(column.values);
      },
      /**
       * The row group in bands of ~4 MiB of the wanted columns (`TableBatch.bands`), each column through
       * `plain-pages.ts`: read whole and every page started at once for a whole read (the row group's stored
       * and decoded pages held, in one `ScratchArena`), read page by page for a stream (`streaming`: per column
       * the page being placed, the next one near its end, a 64 KiB read-ahead window; ~150 MiB above baseline
       * for pyarrow's 1M × 32 float32 groups, where the whole row group was ~530). What falls back to the whole
       * row group decoded the general way (hyparquet; memory: the wanted columns' stored chunks and decoded
       * columns at once, as before bands): a row group under 16 MiB of the wanted columns (bounded by that), and
       * a column the fast path does not take — a type other than FLOAT/DOUBLE/INT32/INT64 read as its own
       * dtype, nested or repeated, definition levels over 1, an encoding other than PLAIN or a dictionary, a
       * page that fails to decode or whose counts do not add up. A stream that meets such a page mid-group goes
       * on from the first row it has not yielded. Sizes that cannot be right (a page past its chunk) are thrown,
       * not fallen back on.
       */
      async *bands(wanted, options = {}) {
        const { signal, rowsFor, streaming = false } = options;
        const from = options.from ?? 0;
        const to = options.to ?? rows;
        if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && to <= rows)) fail('INVALID_SLICE', `parquet: rows ${from}..${to} of ${batch.label}, which holds ${rows}`);
        checkChunks(wanted);
        if (from >= to) return;
        /** The rest from `first` on from the whole row group, decoded the ordinary way. */
        async function* whole(first: number) {
          const data = await batch.load(wanted, signal);
          try {
            yield { data, first, rows: to - first, dataFirst: 0 };
          } finally {
            batch.release!(data);
          }
        }
        const wantedRowBytes = wanted.reduce((sum, column) => sum + DTYPE_INFO[columns[column]!.dtype ?? 'uint8'].bits / 8, 0);
        if (rows * wantedRowBytes < PARQUET_BANDED_MIN_BYTES) {
          yield* whole(from);
          return;
        }
        const metas = wanted.map((column) => group.columns[fields![column]!.leafIndex!]?.meta_data);
        // A whole read: each column's chunk read and its pages started as soon as it is read (they decode side by side on
        // libuv's threads), all into one fresh buffer (ScratchArena) when its size is known and bounded. Its size from the
        // footer, taken only when it is plausible: the stored bytes within the file, the decoded ones within twice the
        // values plus 1 MiB (levels, headers); else the pool, chunk by chunk. A streamed read reads each chunk page by page.
        const stored = metas.reduce((sum, meta) => sum + Number(meta?.total_compressed_size ?? 0) + 8, 0);
        const decoded = metas.reduce((sum, meta) => sum + Number(meta?.total_uncompressed_size ?? 0) + 8, 0);
        const arena = !streaming && source.readInto && Number.isSafeInteger(stored + decoded) && stored <= source.size + 8 * wanted.length && decoded <= 2 * rows * wantedRowBytes + 2 ** 20 ? scratchArena(stored + decoded) : undefined;
        const setups: (PlainChunkSetup<Uint8Array | ParquetChunkRange> | undefined)[] = [];
        const placers: (ParquetPlainBands | undefined)[] = [];
        const buffers: Uint8Array[] = [];
        /** Bands whose native gather may still be running, oldest first. */
        const inFlight: { gathered: Promise<boolean>; band: TableBand }[] = [];
        let placed = true;
        /** Rows before this one were yielded; a fallback goes on from here. */
        let yielded = from;
        // A streamed read's windows and pages, reused band after band (epochs: the band's first row; -1 while skipping).
        const scratch = streaming ? new ParquetBandScratch(streamPool) : undefined;
        if (scratch) scratch.epoch = -1;
        /** The caller has taken `band`: what only it and earlier bands used may be reused. */
        const taken = (band: TableBand) => {
          yielded = band.first + band.rows;
          scratch?.release(band.first);
        };
        try {
          await settledAll(wanted.map(async (column, position) => {
            const where = `column "${columns[column]!.name}" in row group ${index}`;
            if (streaming) {
              const setup = setups[position] = await parquetPlainChunkSetup(source, metadata, fields![column]!, columns[column]!.dtype, rows, metas[position], maxChunk, undefined, where, signal, undefined, scratch!);
              const reader = setup && new ParquetPageReader(setup.chunk, { readAhead: PARQUET_STREAM_READ_AHEAD, where, scratch: scratch!, ...(signal ? { signal } : {}) });
              placers[position] = reader && await parquetPlainChunkBands(reader, setup.shape, { ahead: 1, prime: from === 0, scratch: scratch! });
            } else {
              const setup = setups[position] = await parquetPlainChunkSetup(source, metadata, fields![column]!, columns[column]!.dtype, rows, metas[position], maxChunk, pool, where, signal, arena);
              placers[position] = setup && await parquetPlainChunkBands(setup.chunk, setup.shape);
            }
          }));
          placed = wanted.every((_, position) => placers[position] !== undefined);
          if (placed && from > 0) placed = (await settledAll(placers.map((placer) => placer!.skip(from)))).every(Boolean);
          const rowBytes = setups.reduce((sum, setup) => sum + (setup?.shape.itemBytes ?? 0), 0);
          const bandRows = bandRowsFor(rowBytes);
          const columnWords: number[] = [];
          setups.reduce((word, setup) => { columnWords.push(word); return word + (setup?.shape.itemBytes ?? 0) / 4; }, 0);
          // Columns written straight into the tensor's rows when the caller gives them (see TableBatch.bands):
          // no band buffers, and a dictionary page's gather puts each value in its row (no join).
          if (placed && !rowsFor) for (const setup of setups) buffers.push(pool.take(Math.min(bandRows, to - from) * setup!.shape.itemBytes));
          // Into the tensor's rows, the band's dictionary pieces are gathered by one native job (gather-native.ts) while
          // this thread prepares the next bands; a band is yielded (and the caller joins its other columns into the
          // same rows) only once its job is done, so no two threads write one band at once.
          const nativeGather = rowsFor ? parquetNativeGather() : undefined;
          for (let first = from; placed && first < to; first += bandRows) {
            const count = Math.min(bandRows, to - first);
            if (scratch) scratch.epoch = first;
            const data: (TableColumnBatch | undefined)[] = [];
            const target = rowsFor?.(first, count);
            const band = target && target.byteLength === count * rowBytes && target.byteOffset % 4 === 0 ? target : undefined;
            const gather = band ? nativeGather?.() : undefined;
            for (const [position, column] of wanted.entries()) {
              const validity: ParquetValidityTarget = { rows: count };
              let bytes: Uint8Array | undefined;
              try {
                bytes = band ? await placers[position]!.placeInRows(count, band, { rowWords: rowBytes / 4, columnWord: columnWords[position]! }, validity, gather)
                  : await placers[position]!.place(count, buffers[position]!, validity);
              } catch (error) {
                // A refusal here comes after the pieces the native jobs still hold: damage they find comes first, as the JavaScript gather meets it.
                if (gather && parquetPlainRefusal(error)) {
                  for (const earlier of inFlight) await earlier.gathered;
                  if (gather.pieces > 0) await gather.run(band!).catch((found: unknown) => { if (parquetPlainRefusal(found)) throw found; });
                }
                throw error;
              }
              if (!bytes) {
                placed = false;
                break;
              }
              const extra = validity.bits ? { validity: validity.bits } : {};
              data[column] = bytes === band ? { values: NO_VALUES, placed: true, ...extra } : { values: bytes.subarray(0, count * setups[position]!.shape.itemBytes), ...extra };
            }
            if (!placed) break;
            const ready: TableBand = { data, first, rows: count, dataFirst: first, ...(band ? { target: band } : {}) };
            if (!gather && inFlight.length === 0) {
              yield ready;
              taken(ready);
              continue;
            }
            // A damaged index the native gather found is refused (plain-pages.ts made its error); anything else goes the general way.
            const gathered = gather && gather.pieces > 0 ? gather.run(band!).then(() => true, (error: unknown) => {
              if (parquetPlainRefusal(error)) throw error;
              return false;
            }) : Promise.resolve(true);
            gathered.catch(() => undefined);
            inFlight.push({ gathered, band: ready });
            while (placed && inFlight.length > (first + count < to ? PARQUET_GATHER_BANDS_IN_FLIGHT : 0)) {
              const oldest = inFlight.shift()!;
              if (!(await oldest.gathered)) placed = false;
              else {
                yield oldest.band;
                taken(oldest.band);
              }
            }
          }
        } finally {
          // No native gather still writing the tensor (the general path may write it next), and every read and decode
          // settled before any buffer goes back to the pool (also when the caller stops early).
          await Promise.allSettled(inFlight.map((band) => band.gathered));
          await Promise.all(placers.map((placer) => placer?.settle()));
          for (const setup of setups) setup?.finish();
          for (const buffer of buffers) pool.give(buffer);
          scratch?.finish();
        }
        // A column this path does not take, or a page that turned out damaged: the rest of the row group the general way
        // (it reports what is wrong), holding the whole group's columns.
        if (!placed) yield* whole(yielded);
      },
      async load(wanted, _signal, into) {
        checkChunks(wanted);
        const out: (TableColumnBatch | undefined)[] = [];
        // PLAIN columns without nulls first, straight into their bytes (their chunks at once: zstd pages decode in parallel).
        // Every column settled before a refusal (a damaged dictionary index) is passed on: no decode still writes a pooled buffer.
        const settled = await Promise.allSettled(wanted.map((column) => parquetReadPlainColumn(source, metadata, fields![column]!, columns[column]!.dtype, rows, group.columns[fields![column]!.leafIndex!]?.meta_data, maxChunk, pool, into?.column === column ? into.bytes : undefined, `column "${columns[column]!.name}" in row group ${index}`, signal)));
        const fast = settled.map((outcome) => {
          if (outcome.status === 'rejected') throw outcome.reason;
          return outcome.value;
        });
        wanted.forEach((column, position) => { if (fast[position]) out[column] = fast[position]; });
        const rest = wanted.filter((_, position) => !fast[position]);
        if (rest.length === 0) return out;
        if ([...codecs].includes('ZSTD')) await parquetLoadZstd();
        const collected = new Map<string, { data: unknown[] | ArrayLike<unknown>; from: number }[]>();
        // One column per parquetRead call: with several, hyparquet leaves the later columns'
        // promises unawaited when an earlier one fails, and their rejections would go unhandled.
        for (const name of rest.map((column) => columns[column]!.name)) {
          await parquetDecodeColumn(file, metadata, name, start, start + rows, { maxChunkBytes: maxChunk, maxChunkValues }, `row group ${index}`, (chunk) => {
            const list = collected.get(chunk.columnName) ?? [];
            list.push({ data: chunk.columnData as ArrayLike<unknown>, from: chunk.rowStart });
            collected.set(chunk.columnName, list);
          });
        }
        for (const column of rest) {
          const { name, dtype } = columns[column]!;
          const pieces = collected.get(name) ?? [];
          let values: ArrayLike<unknown>;
          if (pieces.length === 1 && pieces[0]!.from === start && pieces[0]!.data.length === rows) values = pieces[0]!.data;
          else {
            const joined = new Array<unknown>(rows);
            for (const piece of pieces) {
              for (let i = 0; i < piece.data.length; i++) {
                const row = piece.from + i - start;
                if (row >= 0 && row < rows) joined[row] = piece.data[i];
              }
            }
            values = joined;
          }
          out[column] = toCells(dtype!, values, rows);
        }
        return out;
      },
    };
    return batch;
  });
  // Some writers leave the footer's num_rows at 0 (parquet-testing's repeated_no_annotation); pyarrow trusts the row groups, so do we.
  const footerRows = totalRows;
  const keyValues = Object.fromEntries((metadata.key_value_metadata ?? []).map((entry) => [entry.key, entry.value ?? '']));
  return createTableReader({
    format: 'parquet',
    ...(source.name !== undefined ? { path: source.name } : {}),
    source,
    schema: { columns, rows: first, metadata: keyValues },
    batches,
    metadata: {
      'parquet.rowGroups': metadata.row_groups.length,
      'parquet.compression': [...codecs].join(', ') || 'none',
      ...(metadata.created_by ? { 'parquet.createdBy': metadata.created_by } : {}),
      'parquet.version': metadata.version,
      ...(footerRows !== first ? { 'parquet.footerRows': footerRows } : {}),
    },
    options,
    columnLoadConcurrency: PARQUET_COLUMN_LOAD_CONCURRENCY,
    close,
  });
}
