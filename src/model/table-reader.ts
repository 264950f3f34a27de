/**
 * A `TensorReader` over a table stored as batches of rows (Arrow record batches,
 * Parquet row groups, CSV blocks). The format lists its batches and says how to decode
 * some columns of one; this file turns them into the tensors `planTableTensors` chose.
 * Each tensor is a `chunks` location with one chunk per batch its rows touch, so
 * `stream()` and row slices decode one batch at a time (of the selected columns only),
 * whatever the table's size.
 */
import { DTYPE_INFO } from '../core/dtype.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import type { ByteSource } from '../storage/byte-source.js';
import type { ByteChunk } from '../storage/chunked-bytes.js';
import { rawCodec, type ChunkCodec } from '../storage/chunk-codec.js';
import { createTensorReader, type TensorLocation } from './create-reader.js';
import { ResultReserve } from './result-reserve.js';
import { planTableTensors, type TableReadOptions, type TableReadPlan, type TableSchema, type TableTensorPlan } from './table.js';
import { tableBatchToBytes, type TableColumnBatch } from './table-cells.js';
import type { Metadata, TensorInfo, TensorReader } from './types.js';

/** One batch of rows of a table, as a format lists it. */
export interface TableBatch {
  /** Rows in the batch. The batches' rows add up to the schema's rows, in order. */
  readonly rows: number;
  /** Where the batch's bytes are in the file (for `inspect` and messages); 0 when unknown. */
  readonly offset: number;
  readonly storedLength: number;
  /** What the batch is, for messages: `'record batch 3'`, `'row group 0'`. */
  readonly label: string;
  /**
   * Decodes these columns (indexes into the schema) of the batch; the result is indexed
   * like the schema's columns (others may be undefined). Errors should be `TensioError`s.
   */
  load(columns: readonly number[], signal?: AbortSignal, into?: TableLoadInto): Promise<readonly (TableColumnBatch | undefined)[]>;
  /**
   * Takes back a result of {@link load} whose values the caller has copied out and will
   * not touch again (a whole read's stacked tensor, placed row by row): the format may
   * reuse its buffers for the next batch instead of faulting in fresh memory.
   */
  release?(data: readonly (TableColumnBatch | undefined)[]): void;
  /**
   * Decodes these columns band by band, for a stacked tensor: consecutive bands of the
   * batch's rows `[from, to)` (default all), in order, covering them. The decoded columns
   * then never exist whole: a row group of a million rows decoded into whole columns is
   * fresh memory written once and read once by the join. Each band's data is valid until
   * the iterator is resumed (the format reuses its buffers); stopping the iteration early
   * releases what the format holds. A format may also yield the rest in one band (the
   * whole batch decoded: a column or page its banded path does not take).
   *
   * `streaming` asks for bounded memory (a `stream()`: a page or two per column held, read
   * as the bands go) rather than the fastest whole read (every column's stored bytes read
   * and decoded at once).
   *
   * `rowsFor(first, rows)`, when given, is where the stacked tensor's bytes of a band go
   * (row-major, each row the columns' values in the order of `columns`, all of one dtype
   * of 4 or 8 bytes, 4-byte aligned, `rows` × the row's bytes): the format may write a
   * column straight into its rows there (null rows as zero bytes) and pass it as
   * {@link TableColumnBatch.placed} instead of packed values, so the band needs no join for
   * it (a dictionary gather writes each value in its row). The band then names that
   * buffer (`target`); nothing writes it once the band is yielded.
   */
  bands?(columns: readonly number[], options?: TableBandOptions): AsyncIterable<TableBand>;
  /**
   * Where a column's values already sit in the source in tensio's layout (its dtype,
   * little-endian, uncompressed, no nulls in this batch): the absolute offset of row 0.
   * Tensors of such columns are read straight from the source (zero-copy for bytes
   * in memory) instead of being decoded.
   */
  span?(column: number): number | undefined;
}

/** What {@link TableBatch.bands} is asked. */
export interface TableBandOptions {
  /** The batch's rows wanted, `[from, to)`; default all. */
  readonly from?: number;
  readonly to?: number;
  /** Bounded memory rather than speed (see {@link TableBatch.bands}). */
  readonly streaming?: boolean;
  /** Where a band's stacked rows go (see {@link TableBatch.bands}). */
  readonly rowsFor?: (first: number, rows: number) => Uint8Array;
  readonly signal?: AbortSignal;
}

/** One band of rows of a batch ({@link TableBatch.bands}). */
export interface TableBand {
  /** Indexed like {@link TableBatch.load}'s result; row 0 of each column is the batch's row `dataFirst`. */
  readonly data: readonly (TableColumnBatch | undefined)[];
  /** The band's first row in the batch. */
  readonly first: number;
  readonly rows: number;
  /** The batch row of the data's row 0: `first`, or 0 when the data is the whole batch. */
  readonly dataFirst: number;
  /** The buffer `rowsFor` gave for this band, when the format wrote columns into it. */
  readonly target?: Uint8Array;
}

/**
 * The caller's buffer for one column's values in a batch (every row of the batch, in the
 * column's own dtype, scalar cells): a format may decode the column straight into it and
 * hand back `bytes` itself as the column's values, saving a buffer and a copy. Whatever
 * it hands back, the caller then writes all of `bytes`.
 */
export interface TableLoadInto {
  readonly column: number;
  readonly bytes: Uint8Array;
}

/** What a table format hands to {@link createTableReader}. */
export interface TableReaderParts {
  format: string;
  path?: string;
  source: ByteSource;
  schema: TableSchema;
  batches: readonly TableBatch[];
  /** Format facts for the reader's metadata (compression, producer, …), merged with the table facts. */
  metadata?: Metadata;
  /** Extras for every tensor info (e.g. the codec). */
  extras?: Readonly<Record<string, unknown>>;
  options?: TableReadOptions;
  /**
   * How many batches a whole read of one column tensor (`columns: 'separate'`) may decode
   * at once, each straight into its rows of the tensor (`TableLoadInto`); default 1. For
   * formats whose decoding runs on libuv's threads (Parquet's snappy and zstd pages), so
   * that a column read alone keeps both cores busy; memory grows by one batch's stored
   * bytes of the column per extra decode.
   */
  columnLoadConcurrency?: number;
  close?(): Promise<void>;
}

/** A `TensorReader` over a table, plus the plan it follows. */
export interface TableReader extends TensorReader {
  readonly plan: TableReadPlan;
  readonly schema: TableSchema;
}

/**
 * Builds the reader of a table (see the module comment).
 *
 * @example
 * ```ts
 * return createTableReader({ format: 'parquet', source, schema, batches: rowGroups.map(toBatch), options: { columns: 'separate' } });
 * ```
 */
export function createTableReader(parts: TableReaderParts): TableReader {
  const { schema, batches, format } = parts;
  const plan = planTableTensors(schema, parts.options);
  let total = 0;
  for (const batch of batches) {
    if (!Number.isSafeInteger(batch.rows) || batch.rows < 0) throw new TensioError('INVALID_HEADER', `${format}: ${batch.label} has ${batch.rows} rows`, { format });
    total += batch.rows;
  }
  if (total !== schema.rows) {
    throw new TensioError('SIZE_MISMATCH', `${format}: the batches hold ${total} rows, the table declares ${schema.rows}`, { format });
  }
  // The last batch decoded, kept for the next tensor of the same batch (stacked + N-D columns).
  let cached: { batch: TableBatch; columns: string; data: Promise<readonly (TableColumnBatch | undefined)[]> } | undefined;
  const load = (batch: TableBatch, columns: readonly number[], signal?: AbortSignal) => {
    const key = columns.join(',');
    if (cached && cached.batch === batch && cached.columns === key) return cached.data;
    const data = batch.load(columns, signal);
    cached = { batch, columns: key, data };
    data.catch(() => { if (cached?.data === data) cached = undefined; });
    return data;
  };

  const infos: TensorInfo[] = plan.tensors.map((tensor) => {
    const rowElements = tensor.spec.shape.slice(1).reduce((a, b) => a * b, 1);
    const byteLength = tensor.spec.shape[0]! * rowElements * (DTYPE_INFO[tensor.spec.dtype].bits / 8);
    const sourceColumns = tensor.columns.map((index) => schema.columns[index]!.name);
    return { ...tensor.spec, byteLength, extras: { ...parts.extras, columns: sourceColumns } };
  });
  // locate() is asked per read: a map keeps a wide table's column-by-column reads linear, not quadratic.
  const indexOfInfo = new Map(infos.map((info, index) => [info, index]));

  /** The batches holding rows of the plan's row range, each with that range's rows `[from, to)` in it. */
  function* batchesInRows(): Generator<{ batch: TableBatch; from: number; to: number }> {
    let first = 0;
    for (const batch of batches) {
      const batchStart = first;
      first += batch.rows;
      const from = Math.max(plan.rowStart, batchStart) - batchStart;
      const to = Math.min(plan.rowEnd, batchStart + batch.rows) - batchStart;
      if (to > from) yield { batch, from, to };
    }
  }

  /**
   * The options of a stacked tensor's `bands`: `rowsFor` only when every column is scalar and
   * of the tensor's dtype, of 4 or 8 bytes, and the rows are 4-byte aligned (`out`, when the
   * rows are one buffer), what a format needs to write columns straight into them.
   */
  const bandOptions = (tensor: TableTensorPlan, rowsFor: (first: number, rows: number) => Uint8Array, options: { from: number; to: number; streaming?: boolean; signal?: AbortSignal | undefined }, out?: Uint8Array): TableBandOptions => {
    const item = DTYPE_INFO[tensor.spec.dtype].bits / 8;
    const inRows = (item === 4 || item === 8) && (out === undefined || out.byteOffset % 4 === 0)
      && tensor.columns.every((index) => schema.columns[index]!.dtype === tensor.spec.dtype && schema.columns[index]!.cellShape.length === 0);
    const { signal, ...rest } = options;
    return { ...rest, ...(signal ? { signal } : {}), ...(inRows ? { rowsFor } : {}) };
  };

  const chunksOf = (index: number): ByteChunk[] => {
    const tensor = plan.tensors[index]!;
    const rowBytes = infos[index]!.byteLength / Math.max(1, tensor.spec.shape[0]!) || 0;
    const itemRowBytes = tensor.spec.shape.slice(1).reduce((a, b) => a * b, 1) * (DTYPE_INFO[tensor.spec.dtype].bits / 8);
    const chunks: ByteChunk[] = [];
    for (const { batch, from, to } of batchesInRows()) {
      const length = (to - from) * (rowBytes || itemRowBytes);
      const codec: ChunkCodec = {
        name: 'table',
        ...(tensor.kind === 'column' && (parts.columnLoadConcurrency ?? 1) > 1 ? { concurrency: parts.columnLoadConcurrency } : {}),
        async *decode(_stored, options) {
          throwIfAborted(options.signal);
          if (tensor.kind === 'stack' && batch.bands) {
            // Band by band, each a fresh buffer: memory is a band and what the format holds per column, not the batch.
            const rowBytes = length / (to - from);
            for await (const band of batch.bands(tensor.columns, bandOptions(tensor, (_first, rows) => allocateUninitialized(rows * rowBytes), { from, to, streaming: true, signal: options.signal }))) {
              if (band.target) {
                yield tableBatchToBytes(schema, tensor, band.data, band.first - band.dataFirst, band.first + band.rows - band.dataFirst, band.target);
                continue;
              }
              // Rows the format did not place (the whole batch, decoded the general way): in pieces of at most pieceBytes.
              const step = Math.max(1, Math.floor(options.pieceBytes / rowBytes));
              for (let lo = band.first, end = band.first + band.rows; lo < end; lo += step) {
                const hi = Math.min(end, lo + step);
                yield tableBatchToBytes(schema, tensor, band.data, lo - band.dataFirst, hi - band.dataFirst, allocateUninitialized((hi - lo) * rowBytes));
              }
            }
            return;
          }
          const data = await load(batch, tensor.columns, options.signal);
          yield tableBatchToBytes(schema, tensor, data, from, to);
        },
        // A whole read places each batch's rows straight into the tensor's buffer.
        async decodeInto(_stored, out, signal) {
          throwIfAborted(signal);
          // A whole batch of one scalar column in its own dtype: the format may decode straight
          // into the tensor's bytes (not cached: those bytes are the caller's).
          const column = tensor.kind === 'column' ? schema.columns[tensor.columns[0]!]! : undefined;
          const direct = column && from === 0 && to === batch.rows && column.dtype === tensor.spec.dtype && tensor.spec.shape.length === 1;
          if (!direct && tensor.kind === 'stack' && batch.bands) {
            if (out.byteLength !== length) throw new TensioError('SIZE_MISMATCH', `${format}: ${batch.label} holds ${length} bytes of tensor "${tensor.spec.name}", ${out.byteLength} asked`, { format });
            // Each band's rows placed as they come (`first` is batch-relative; the tensor's bytes start at row `from`).
            const rowBytes = length / (to - from);
            // The closure reaches the tensor through a variable cleared at the end: V8 can keep the context of
            // a function alive after it returned (a pending optimization of a closure made in it holds it until
            // the next JavaScript runs), and with `out` captured, the whole tensor of a read the caller already
            // dropped (a read, gc, a read: the first read's 128 MB stayed alive through the second).
            let target: Uint8Array | undefined = out;
            const rowsOf = (first: number, rows: number) => target!.subarray((first - from) * rowBytes, (first - from + rows) * rowBytes);
            try {
              for await (const band of batch.bands(tensor.columns, bandOptions(tensor, rowsOf, { from, to, signal }, out))) {
                tableBatchToBytes(schema, tensor, band.data, band.first - band.dataFirst, band.first + band.rows - band.dataFirst, rowsOf(band.first, band.rows));
              }
            } finally {
              target = undefined;
            }
            return;
          }
          // A stacked tensor's columns are copied out at once: loaded apart from the cache and given back after.
          const transient = !direct && tensor.kind === 'stack' && batch.release !== undefined;
          const data = direct ? await batch.load(tensor.columns, signal, { column: tensor.columns[0]!, bytes: out })
            : transient ? await batch.load(tensor.columns, signal) : await load(batch, tensor.columns, signal);
          try {
            if (out.byteLength !== length) throw new TensioError('SIZE_MISMATCH', `${format}: ${batch.label} holds ${length} bytes of tensor "${tensor.spec.name}", ${out.byteLength} asked`, { format });
            tableBatchToBytes(schema, tensor, data, from, to, out);
          } finally {
            if (transient) batch.release!(data);
          }
        },
      };
      chunks.push({ source: parts.source, offset: batch.offset, storedLength: batch.storedLength, codec, decodedLength: length, byteLength: length, format, label: batch.label });
    }
    return chunks;
  };

  /** Raw chunks straight from the source, when every batch the rows touch has the column as a span. */
  const rawChunksOf = (index: number): ByteChunk[] | undefined => {
    const tensor = plan.tensors[index]!;
    if (tensor.columns.length !== 1) return undefined;
    const column = tensor.columns[0]!;
    if (schema.columns[column]!.dtype !== tensor.spec.dtype) return undefined;
    const rowBytes = tensor.spec.shape.slice(1).reduce((a, b) => a * b, 1) * (DTYPE_INFO[tensor.spec.dtype].bits / 8);
    const chunks: ByteChunk[] = [];
    for (const { batch, from, to } of batchesInRows()) {
      const at = batch.span?.(column);
      if (at === undefined) return undefined;
      const length = (to - from) * rowBytes;
      chunks.push({ source: parts.source, offset: at + from * rowBytes, storedLength: length, codec: rawCodec, decodedLength: length, byteLength: length, format, label: batch.label });
    }
    return chunks;
  };

  // Whole reads' results: once the caller reads tensor after tensor (columns: 'separate'), the next ones are allocated
  // together, so V8 counts them in one step instead of collecting every few columns (model/result-reserve.ts).
  const reserve = new ResultReserve(infos.map((info) => info.byteLength));

  const locate = (info: TensorInfo): TensorLocation => {
    const index = indexOfInfo.get(info)!;
    const raw = rawChunksOf(index);
    if (raw && raw.length === 1) return { kind: 'span', source: parts.source, offset: raw[0]!.offset };
    return { kind: 'chunks', chunks: raw && raw.length > 0 ? raw : chunksOf(index), allocate: (length) => reserve.take(index, length) };
  };

  const reader = createTensorReader({
    format,
    ...(parts.path !== undefined ? { path: parts.path } : {}),
    size: parts.source.size,
    metadata: { ...parts.metadata, ...plan.metadata },
    tensors: infos,
    locate,
    close: async () => {
      reserve.clear();
      await parts.close?.();
    },
  });
  return Object.assign(reader, { plan, schema });
}
