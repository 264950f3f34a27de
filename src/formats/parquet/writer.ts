/**
 * Writing Parquet one row group at a time: the column chunks of each row group are
 * encoded by tensio (`column-writer.ts`: PLAIN pages, compressed, CRC-32s, statistics)
 * and go to the sink before the next is encoded, so memory holds one row group (for the
 * stacked default; separate columns arrive as whole tensors, see
 * `model/table-writer.ts`); hyparquet-writer writes the footer. Columns are REQUIRED (tensors have no nulls) with the
 * integer width and signedness as converted types (INT_8 … UINT_64), which pyarrow maps back.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { DType } from '../../core/dtype.js';
import { errorFactory, TensioError } from '../../core/errors.js';
import { allocateUninitialized } from '../../core/memory.js';
import { createTableWriter } from '../../model/table-writer.js';
import { tableCannotWrite, tableWriteMetadata, type TableColumnPlan, type TableWritePlan } from '../../model/table.js';
import type { Metadata, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { PARQUET_WRITE_CODECS, parquetPageCodec } from './codecs.js';
import { parquetEncodeColumn, type ParquetPageCodec } from './column-writer.js';
import type { ParquetWriteOptions } from './types.js';

const fail = errorFactory('parquet');

/** NumPack's `row_group_size` default. */
export const PARQUET_DEFAULT_ROW_GROUP_SIZE = 100_000;

/** Default target page size (uncompressed bytes), as pyarrow's. */
const PARQUET_DEFAULT_PAGE_BYTES = 2 ** 20;
/** Largest `pageSize`: page sizes are Thrift i32s, and a compressed page may grow (snappy: by 1/6 at most). */
const PARQUET_MAX_PAGE_BYTES = 2 ** 30;

/** Why Parquet (as tensio writes it) cannot hold a tensor of this spec. */
export function parquetCannotWrite(spec: TensorSpec): string | undefined {
  return tableCannotWrite(spec) ?? (spec.dtype === 'float16' ? 'tensio writes no float16 Parquet columns yet; cast to float32 (--dtype float16:float32)' : undefined);
}

function schemaElement(column: TableColumnPlan): SchemaElement {
  const base = { name: column.name, repetition_type: 'REQUIRED' as const };
  // Converted types only: hyparquet-writer 0.17 encodes the INTEGER logical type's bitWidth
  // as an i32 where Thrift says i8, and pyarrow then refuses the whole footer.
  const integer = (bits: number, signed: boolean, physical: 'INT32' | 'INT64'): SchemaElement => ({
    ...base, type: physical,
    converted_type: `${signed ? 'INT' : 'UINT'}_${bits}` as SchemaElement['converted_type'],
  });
  switch (column.dtype) {
    case 'bool': return { ...base, type: 'BOOLEAN' };
    case 'int8': return integer(8, true, 'INT32');
    case 'int16': return integer(16, true, 'INT32');
    case 'uint8': return integer(8, false, 'INT32');
    case 'uint16': return integer(16, false, 'INT32');
    // hyparquet-writer 0.17 refuses UINT_32 values of 2^31 and above: uint32 is written as int64.
    case 'uint32': return { ...base, type: 'INT64' };
    case 'uint64': return integer(64, false, 'INT64');
    case 'int32': return { ...base, type: 'INT32' };
    case 'int64': return { ...base, type: 'INT64' };
    case 'float32': return { ...base, type: 'FLOAT' };
    case 'float64': return { ...base, type: 'DOUBLE' };
    default: return fail('UNSUPPORTED_DTYPE', `parquet: no column type for ${column.dtype}`);
  }
}

/** A hyparquet Writer that hands each finished row group's bytes to an async sink. */
function sinkWriter(write: (bytes: Uint8Array) => Promise<void>): ByteWriter & { drain(): Promise<void> } {
  const writer = new ByteWriter() as ByteWriter & { index: number; flush?: () => Promise<void>; drain(): Promise<void> };
  writer.drain = async () => {
    if (writer.index === 0) return;
    const bytes = new Uint8Array(writer.buffer, 0, writer.index).slice();
    writer.index = 0;
    await write(bytes);
  };
  writer.flush = () => writer.drain();
  writer.finish = () => undefined;
  return writer;
}

/**
 * Creates a Parquet writer (see the module comment).
 *
 * @example
 * ```ts
 * const writer = await parquetCreateWriter('x.parquet', { tensors: [{ name: 'x', dtype: 'float32', shape: [1e6, 32] }], formatOptions: { compression: 'zstd', rowGroupSize: 65536 } });
 * ```
 */
export async function parquetCreateWriter(target: WriteTarget, options: WriterOptions): Promise<TensorWriter> {
  const formatOptions = (options.formatOptions ?? {}) as ParquetWriteOptions;
  const compression = formatOptions.compression ?? 'snappy';
  const codec = PARQUET_WRITE_CODECS[compression as keyof typeof PARQUET_WRITE_CODECS];
  if (!codec) fail('INVALID_ARGUMENT', `parquet: compression must be one of ${Object.keys(PARQUET_WRITE_CODECS).join(', ')}, got ${String(compression)}`);
  const rowGroupSize = formatOptions.rowGroupSize ?? PARQUET_DEFAULT_ROW_GROUP_SIZE;
  const pageSize = formatOptions.pageSize ?? PARQUET_DEFAULT_PAGE_BYTES;
  if (!(Number.isSafeInteger(pageSize) && pageSize >= 1 && pageSize <= PARQUET_MAX_PAGE_BYTES)) {
    fail('INVALID_ARGUMENT', `parquet: pageSize must be a whole number of bytes from 1 to ${PARQUET_MAX_PAGE_BYTES}, got ${String(pageSize)}`);
  }
  for (const spec of options.tensors) {
    const reason = parquetCannotWrite(spec);
    if (reason) throw new TensioError('UNSUPPORTED_DTYPE', `parquet cannot hold tensor ${JSON.stringify(spec.name)}: ${reason}`, { format: 'parquet' });
  }
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false, format: 'parquet' });
  const writer = sinkWriter((bytes) => sink.write(bytes));
  const pageOptions = { codec: await parquetPageCodec(codec as ParquetPageCodec['name'], formatOptions.compressionLevel), pageSize, statistics: formatOptions.statistics ?? true };
  /** A row group's pages joined for one sink write (hundreds of small writes cost more than the copy), reused group after group. */
  let groupBytes: Uint8Array = new Uint8Array(0);
  let parquet: ParquetWriter | undefined;
  let plan: TableWritePlan | undefined;
  try {
    return createTableWriter({
      format: 'parquet',
      tensors: options.tensors,
      options: formatOptions,
      bandRows: rowGroupSize,
      // writeBand has encoded and written its values when it resolves.
      releasesBandValues: true,
      async begin(columnPlan) {
        plan = columnPlan;
        const cells = columnPlan.columns.find((column) => column.cellShape.length > 0);
        if (cells) {
          const alone = columnPlan.columns.length > 1 || cells.columnOfTensor === undefined
            ? `leave tensor "${cells.tensor}" out (--tensors), convert it alone (a 2-D tensor is one column per element of its rows)`
            : 'reshape to 2-D (rows, columns)';
          fail('UNSUPPORTED_FEATURE', `parquet: column "${cells.name}" would hold cells of shape [${cells.cellShape.join(', ')}]; tensio writes Parquet columns of scalars: ${alone}, or write Arrow/Feather, which keeps N-D cells`);
        }
        const kvMetadata = [...tableWriteMetadata(options.metadata as Metadata | undefined, columnPlan.metadata)].map(([key, value]) => ({ key, value }));
        parquet = new ParquetWriter({
          writer,
          schema: [{ name: 'root', num_children: columnPlan.columns.length }, ...columnPlan.columns.map(schemaElement)] as never,
          ...(kvMetadata.length > 0 ? { kvMetadata } : {}),
          createdBy: 'tensio',
        });
      },
      async writeBand(values, rows) {
        if (rows === 0) return;
        // Every column of the row group is encoded at once (an asynchronous codec compresses them in parallel), then written in order.
        await writer.drain();
        const start = writer.offset;
        const encoded = await Promise.all(plan!.columns.map((column, index) => parquetEncodeColumn(column.name, column.dtype, values[index]!, rows, 0, pageOptions)));
        const total = encoded.reduce((sum, column) => sum + column.byteLength, 0);
        if (groupBytes.byteLength < total) groupBytes = allocateUninitialized(total);
        let offset = start;
        for (const column of encoded) {
          column.chunk.file_offset = BigInt(offset);
          column.chunk.meta_data!.data_page_offset = BigInt(offset);
          for (const part of column.parts) {
            groupBytes.set(part, offset - start);
            offset += part.byteLength;
          }
        }
        await sink.write(groupBytes.subarray(0, total));
        // hyparquet-writer writes the footer from its row group list; its byte writer counts what went around it.
        writer.offset = offset;
        parquet!.num_rows += BigInt(rows);
        parquet!.row_groups.push({
          columns: encoded.map((column) => column.chunk) as never,
          num_rows: BigInt(rows),
          total_byte_size: encoded.reduce((total, column) => total + column.chunk.meta_data!.total_uncompressed_size, 0n),
          total_compressed_size: BigInt(offset - start),
        });
      },
      async finish() {
        parquet!.finish();
        await writer.drain();
        await sink.close();
      },
      discard: () => sink.abort(),
    });
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
