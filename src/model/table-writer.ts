/**
 * The one writer lifecycle of table formats (Parquet, Arrow, CSV): tensors arrive
 * through the planned-writer lifecycle and leave as bands of rows of the columns
 * `planTableColumns` chose. A single stacked tensor (NumPack's default) streams: memory
 * holds one band (a Parquet row group, an Arrow record batch). Separate columns arrive
 * one whole tensor after another, so they are held until the last one arrived, then
 * cut into bands.
 */
import { DTYPE_INFO } from '../core/dtype.js';
import { TensioError, throwIfAborted } from '../core/errors.js';
import { allocateUninitialized } from '../core/memory.js';
import { collectBytes } from '../storage/tensor-bytes.js';
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
  /** Finishes and publishes the file. */
  finish(): Promise<void>;
  /** Throws the partial output away. */
  discard(): Promise<void>;
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
  const held = new Map<string, Uint8Array>();
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
      return;
    }
    const band = allocateUninitialized(parts.bandRows * tensorRowBytes);
    let filled = 0;
    const flush = async (bytes: number) => {
      const rows = bytes / tensorRowBytes;
      const rowsBytes = band.subarray(0, bytes);
      const values = plan.columns[0]?.columnOfTensor === undefined ? plan.columns.map(() => rowsBytes.slice()) : tableSplitColumns(rowsBytes, rows, columnsOfTensor, item);
      await parts.writeBand(values, rows, signal);
    };
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      let at = 0;
      while (at < chunk.byteLength) {
        const take = Math.min(band.byteLength - filled, chunk.byteLength - at);
        band.set(chunk.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === band.byteLength) {
          await flush(filled);
          filled = 0;
        }
      }
    }
    if (filled > 0) await flush(filled);
  }

  async function writeHeld(signal?: AbortSignal): Promise<void> {
    await begin();
    const rowBytes = plan.columns.map(rowBytesOf);
    for (let start = 0; start < plan.rows; start += parts.bandRows) {
      throwIfAborted(signal);
      const end = Math.min(plan.rows, start + parts.bandRows);
      const values = plan.columns.map((column, index) => held.get(column.tensor)!.subarray(start * rowBytes[index]!, end * rowBytes[index]!));
      await parts.writeBand(values, end - start, signal);
    }
  }

  const writer = createPlannedWriter({
    format: parts.format,
    order: parts.tensors,
    async writeTensor(spec, chunks, signal) {
      if (stacked) return writeStacked(spec, chunks, signal);
      const length = parts.tensors.find((tensor) => tensor.name === spec.name) ? (DTYPE_INFO[spec.dtype].bits / 8) * spec.shape.reduce((a, b) => a * b, 1) : 0;
      held.set(spec.name, await collectBytes(chunks, length, spec.name, signal));
    },
    async publish() {
      if (!stacked) await writeHeld();
      else await begin();
      await parts.finish();
    },
    discard: () => parts.discard(),
  });
  return Object.assign(writer, { plan });
}
