/**
 * A flat numeric column chunk set up for the fast read path (`plain-pages.ts`): which
 * leaves it takes (the levels of a leaf, from the schema, found once per footer), where
 * the chunk's stored bytes are (the reader's pool, a row group's `StoredChunks`: mapped
 * or one fresh buffer) and which buffers its pages decode into (the reader's pool, a
 * streamed walk's scratch, or the column's own bytes). Shared by the whole-column read
 * (`reader.ts`) and the band walk (`row-group-bands.ts`).
 */
import { parquetSchema, type ColumnMetaData, type FileMetaData } from 'hyparquet';
import type { DType } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import type { ByteSource } from '../../storage/byte-source.js';
import type { ScratchPool } from '../../storage/scratch-pool.js';
import { parquetPageDecompressor } from './codecs.js';
import type { ParquetBandScratch, ParquetChunkRange } from './page-stream.js';
import type { ParquetPlainChunk } from './plain-pages.js';
import type { ParquetTopField } from './schema.js';
import { storedChunkSpan, type StoredChunks } from './stored-chunks.js';

const fail = errorFactory('parquet');

/** The levels of a leaf ({@link parquetLevels}). */
export interface ParquetLeafLevels {
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
export function parquetLevels(metadata: FileMetaData, path: readonly string[]): ParquetLeafLevels {
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
export interface PlainChunkSetup<Chunk = Uint8Array> {
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
export async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, where: string, signal?: AbortSignal, storedChunks?: StoredChunks, streamed?: undefined, pageScratch?: ParquetBandScratch): Promise<PlainChunkSetup | undefined>;
export async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: undefined, where: string, signal: AbortSignal | undefined, storedChunks: undefined, streamed: ParquetBandScratch): Promise<PlainChunkSetup<ParquetChunkRange> | undefined>;
/**
 * With `streamed`, the chunk is not read (a streamed read reads it page by page) and its pages decode into the scratch's
 * buffers; with `pageScratch`, the chunk is read (into or mapped by `storedChunks`, or into the pool) and its pages decode into that scratch's buffers.
 */
export async function parquetPlainChunkSetup(source: ByteSource, metadata: FileMetaData, field: ParquetTopField, dtype: DType | undefined, rows: number, chunkMeta: ColumnMetaData | undefined, maxChunkBytes: number, pool: ScratchPool | undefined, where: string, signal?: AbortSignal, storedChunks?: StoredChunks, streamed?: ParquetBandScratch, pageScratch?: ParquetBandScratch): Promise<PlainChunkSetup<Uint8Array | ParquetChunkRange> | undefined> {
  const itemBytes = plainItemBytes(field, dtype);
  if (!itemBytes || !chunkMeta || chunkMeta.path_in_schema.length !== 1) return undefined;
  const levels = parquetLevels(metadata, chunkMeta.path_in_schema);
  if (!levels.flat || levels.maxRepetition > 0 || levels.maxDefinition > 1) return undefined;
  const { start, length } = storedChunkSpan(chunkMeta);
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
    const scratch = streamed ?? pageScratch;
    if (scratch) return scratch.take(size);
    if (!pooled) return allocateUninitialized(size);
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
  // The stored bytes are dropped once decoded (the result never views them): the row group's (mapped, or one
  // buffer for all its chunks), else a pooled buffer, reused row group after row group.
  const room = storedChunks?.take(start, length);
  const chunk = room?.bytes ?? pooled.take(length);
  if (!room?.filled) await source.readInto!(chunk, start, readOptions);
  return {
    chunk,
    shape,
    finish(keep) {
      for (const page of pages) if (page.buffer !== keep?.buffer) pooled.give(page);
      if (!room) pooled.give(chunk);
    },
  };
}
