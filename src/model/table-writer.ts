/**
 * The one writer lifecycle of table formats (Parquet, Arrow, CSV): tensors arrive
 * through the planned-writer lifecycle and leave as bands of rows of the columns
 * `planTableColumns` chose. A single stacked tensor (NumPack's default) streams: memory
 * holds one band (a Parquet row group, an Arrow record batch). Separate columns arrive
 * one tensor after another but are written side by side, so `add()` keeps each tensor's
 * stream unread and `close()` pulls one band of rows from every stream in turn: memory
 * holds one band plus each stream's current chunk (the writer asks for chunks of about a
 * band, `streamChunkBytes`), never a whole tensor.
 */
import { DTYPE_INFO } from '../core/dtype.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { DEFAULT_STREAM_CHUNK_BYTES } from '../core/limits.js';
import { allocateUninitialized } from '../core/memory.js';
import { createPlannedWriter } from './planned-writer.js';
import { planTableColumns, type TableColumnPlan, type TableWriteOptions, type TableWritePlan } from './table.js';
import { tableSplitColumns } from './table-cells.js';
import type { TensorSpec, TensorWriter } from './types.js';

/** What a table format gives {@link createTableWriter}. */
export interface TableWriterParts {
  format: string;
  /** The tensors to write (the writer's plan). */
  tensors: readonly TensorSpec[];
  options?: TableWriteOptions;
  /** Rows per band (row group, record batch). */
  bandRows: number;
  /** Called once before the first band with the column plan (write a header, set up). */
  begin?(plan: TableWritePlan): Promise<void>;
  /** Writes one band: `values[i]` holds `rows × prod(cellShape)` elements of `plan.columns[i]`, tensio layout. */
  writeBand(values: readonly Uint8Array[], rows: number, signal?: AbortSignal): Promise<void>;
  /**
   * True when `writeBand` keeps no reference to `values` once its promise resolves (it
   * has encoded and written them): the stacked writer then splits every band into the
   * same column buffers instead of allocating new ones (a row group's worth per band,
   * which the garbage collector otherwise has to take back).
   */
  releasesBandValues?: boolean;
  /** Finishes and publishes the file. */
  finish(): Promise<void>;
  /** Throws the partial output away. */
  discard(): Promise<void>;
}

/** Smallest chunk a separate-columns writer asks its streams for (tiny bands would mean tiny reads). */
const MIN_STREAM_CHUNK_BYTES = 64 * 1024;

/**
 * One tensor's stream, read in bands: `take(n)` returns its next `n` bytes in a fresh
 * buffer (chunks may be reused by their reader after the next pull, so nothing keeps a
 * view of them). `take(n, scratch)` is for a caller done with the band before it takes
 * from this stream again: the band is then a view of the current chunk when the chunk
 * holds all of it, or is assembled in `scratch`, with no allocation either way.
 */
class BandPuller {
  #rest: Uint8Array | undefined;
  constructor(private readonly chunks: AsyncIterator<Uint8Array>, private readonly name: string) {}

  async take(length: number, scratch?: Uint8Array): Promise<Uint8Array> {
    if (scratch && this.#rest && this.#rest.byteLength >= length) {
      const band = this.#rest.subarray(0, length);
      this.#rest = this.#rest.subarray(length);
      return band;
    }
    const out = scratch ? scratch.subarray(0, length) : allocateUninitialized(length);
    let filled = 0;
    while (filled < length) {
      if (!this.#rest || this.#rest.byteLength === 0) {
        const next = await this.chunks.next();
        if (next.done) throw new TensioError('SIZE_MISMATCH', `table: tensor ${JSON.stringify(this.name)} ended after ${filled} of the ${length} bytes of a band`);
        this.#rest = next.value;
        if (scratch && filled === 0 && this.#rest.byteLength >= length) return this.take(length, scratch);
        continue;
      }
      const part = Math.min(length - filled, this.#rest.byteLength);
      out.set(this.#rest.subarray(0, part), filled);
      this.#rest = this.#rest.subarray(part);
      filled += part;
    }
    return out;
  }

  /** Reads the stream to its end (its byte count check runs there); bytes past the plan's rows are an error. */
  async finish(): Promise<void> {
    let extra = this.#rest?.byteLength ?? 0;
    for (let next = await this.chunks.next(); !next.done && extra === 0; next = await this.chunks.next()) extra += next.value.byteLength;
    if (extra > 0) throw new TensioError('SIZE_MISMATCH', `table: tensor ${JSON.stringify(this.name)} holds more bytes than its rows`);
  }

  /** Lets the stream release what it holds (the writer was aborted). */
  async cancel(): Promise<void> {
    await this.chunks.return?.().catch(() => undefined);
  }
}

function rowBytesOf(column: TableColumnPlan): number {
  return column.cellShape.reduce((a, b) => a * b, 1) * (DTYPE_INFO[column.dtype].bits / 8);
}

/**
 * A `TensorWriter` that writes tensors as a table, band by band (see the module comment).
 *
 * @example
 * ```ts
 * return createTableWriter({ format: 'parquet', tensors: options.tensors, bandRows: 100_000, writeBand, finish, discard });
 * ```
 */
export function createTableWriter(parts: TableWriterParts): TensorWriter & { readonly plan: TableWritePlan } {
  const plan = planTableColumns(parts.tensors, parts.options);
  if (!(Number.isSafeInteger(parts.bandRows) && parts.bandRows > 0)) {
    throw new TensioError('INVALID_ARGUMENT', `${parts.format}: rows per band must be a positive integer, got ${parts.bandRows}`);
  }
  const stacked = parts.tensors.length === 1 && (parts.options?.columns ?? 'stack') === 'stack';
  /** Separate columns: each tensor's stream, read a band at a time in `publish`. */
  const streams = new Map<string, BandPuller>();
  let begun = false;
  const begin = async () => {
    if (!begun) {
      begun = true;
      await parts.begin?.(plan);
    }
  };

  /** The single stacked tensor, streamed: rows gathered into a band, each full band written. */
  async function writeStacked(spec: TensorSpec, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    await begin();
    const columnsOfTensor = plan.columns.length;
    const item = DTYPE_INFO[spec.dtype].bits / 8;
    const tensorRowBytes = plan.columns[0]?.columnOfTensor !== undefined ? columnsOfTensor * item : (plan.columns[0] ? rowBytesOf(plan.columns[0]) : 0);
    if (tensorRowBytes === 0) {
      for await (const chunk of chunks) void chunk;
      // No bytes per row (a (rows, 0) tensor): the bands still carry the row count.
      for (let start = 0; start < plan.rows; start += parts.bandRows) {
        await parts.writeBand(plan.columns.map(() => new Uint8Array(0)), Math.min(parts.bandRows, plan.rows - start), signal);
      }
      return;
    }
    const band = allocateUninitialized(parts.bandRows * tensorRowBytes);
    const split = plan.columns[0]?.columnOfTensor !== undefined;
    // Column buffers reused band after band when the format lets go of them (`releasesBandValues`).
    const columnBuffers = split && parts.releasesBandValues ? plan.columns.map(() => allocateUninitialized(parts.bandRows * item)) : undefined;
    let filled = 0;
    /** Writes one band; `rowsBytes` is split (or copied) before the first await, so it may be a view of the caller's chunk. */
    const flush = async (rowsBytes: Uint8Array) => {
      const rows = rowsBytes.byteLength / tensorRowBytes;
      const values = split ? tableSplitColumns(rowsBytes, rows, columnsOfTensor, item, columnBuffers) : plan.columns.map(() => rowsBytes.slice());
      await parts.writeBand(values, rows, signal);
    };
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      let at = 0;
      while (at < chunk.byteLength) {
        // Whole bands inside the chunk (aligned for the split's lanes) are split straight from it, without gathering them first.
        if (filled === 0 && chunk.byteLength - at >= band.byteLength && (chunk.byteOffset + at) % Math.min(item, 4) === 0) {
          await flush(chunk.subarray(at, at + band.byteLength));
          at += band.byteLength;
          continue;
        }
        const take = Math.min(band.byteLength - filled, chunk.byteLength - at);
        band.set(chunk.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === band.byteLength) {
          await flush(band);
          filled = 0;
        }
      }
    }
    if (filled > 0) await flush(band.subarray(0, filled));
  }

  async function writeBands(signal?: AbortSignal): Promise<void> {
    await begin();
    const rowBytes = plan.columns.map(rowBytesOf);
    // A format done with a band's values when writeBand resolves gets views or reused buffers (`BandPuller.take`),
    // when no stream is taken from twice in one band (a view would not outlive the second take).
    const oneColumnPerStream = new Set(plan.columns.map((column) => column.tensor)).size === plan.columns.length;
    const scratch = parts.releasesBandValues && oneColumnPerStream ? rowBytes.map((bytes) => allocateUninitialized(Math.min(plan.rows, parts.bandRows) * bytes)) : undefined;
    for (let start = 0; start < plan.rows; start += parts.bandRows) {
      throwIfAborted(signal);
      const rows = Math.min(plan.rows, start + parts.bandRows) - start;
      const values: Uint8Array[] = [];
      for (const [index, column] of plan.columns.entries()) values.push(await streams.get(column.tensor)!.take(rows * rowBytes[index]!, scratch?.[index]));
      await parts.writeBand(values, rows, signal);
    }
    // Reading each stream to its end runs its byte count check (a tensor of 0 rows has no band).
    for (const puller of streams.values()) await puller.finish();
  }

  const writer = createPlannedWriter({
    format: parts.format,
    order: parts.tensors,
    async writeTensor(spec, chunks, signal) {
      if (stacked) return writeStacked(spec, chunks, signal);
      streams.set(spec.name, new BandPuller(chunks[Symbol.asyncIterator](), spec.name));
    },
    async publish() {
      if (!stacked) await writeBands();
      else await begin();
      await parts.finish();
    },
    async discard() {
      for (const puller of streams.values()) await puller.cancel();
      await parts.discard();
    },
  });
  const widest = Math.max(0, ...plan.columns.map(rowBytesOf));
  const streamChunkBytes = stacked ? undefined : Math.min(DEFAULT_STREAM_CHUNK_BYTES, Math.max(MIN_STREAM_CHUNK_BYTES, parts.bandRows * widest));
  return Object.assign(writer, { plan, ...(streamChunkBytes !== undefined ? { streamChunkBytes } : {}) });
}
