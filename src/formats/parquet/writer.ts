/**
 * Writing Parquet with hyparquet-writer, one row group at a time: the bytes of each
 * encoded row group go to the sink before the next is encoded, so memory holds one row
 * group (for the stacked default; separate columns arrive as whole tensors, see
 * `model/table-writer.ts`). Columns are REQUIRED (tensors have no nulls) with the
 * integer width and signedness as converted types (INT_8 … UINT_64), which pyarrow maps back.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { DType } from '../../core/dtype.js';
import { errorFactory, TensioError } from '../../core/errors.js';
import { createTableWriter } from '../../model/table-writer.js';
import { tableCannotWrite, tableWriteMetadata, type TableColumnPlan, type TableWritePlan } from '../../model/table.js';
import type { Metadata, TensorSpec, TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { PARQUET_WRITE_CODECS, parquetCompressors, parquetLoadZstd } from './codecs.js';
import type { ParquetWriteOptions } from './types.js';

const fail = errorFactory('parquet');

/** NumPack's `row_group_size` default. */
export const PARQUET_DEFAULT_ROW_GROUP_SIZE = 100_000;

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

/** A column's values as hyparquet-writer takes them (typed arrays over the same bytes where the physical type allows). */
function columnData(dtype: DType, bytes: Uint8Array): ArrayLike<unknown> {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  switch (dtype) {
    case 'bool': return Array.from(aligned, (value) => value !== 0);
    case 'int8': return Int32Array.from(new Int8Array(buffer, byteOffset, byteLength));
    case 'uint8': return Int32Array.from(aligned);
    case 'int16': return Int32Array.from(new Int16Array(buffer, byteOffset, byteLength / 2));
    case 'uint16': return Int32Array.from(new Uint16Array(buffer, byteOffset, byteLength / 2));
    case 'int32': return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'uint32': return BigInt64Array.from(new Uint32Array(buffer, byteOffset, byteLength / 4), (value) => BigInt(value));
    case 'int64': return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case 'float32': return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'float64': return new Float64Array(buffer, byteOffset, byteLength / 8);
    default: return fail('UNSUPPORTED_DTYPE', `parquet: no column type for ${dtype}`);
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
  for (const spec of options.tensors) {
    const reason = parquetCannotWrite(spec);
    if (reason) throw new TensioError('UNSUPPORTED_DTYPE', `parquet cannot hold tensor ${JSON.stringify(spec.name)}: ${reason}`, { format: 'parquet' });
  }
  if (codec === 'ZSTD') await parquetLoadZstd();
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false, format: 'parquet' });
  const writer = sinkWriter((bytes) => sink.write(bytes));
  let parquet: ParquetWriter | undefined;
  let plan: TableWritePlan | undefined;
  try {
    return createTableWriter({
      format: 'parquet',
      tensors: options.tensors,
      options: formatOptions,
      bandRows: rowGroupSize,
      async begin(columnPlan) {
        plan = columnPlan;
        const cells = columnPlan.columns.find((column) => column.cellShape.length > 0);
        if (cells) {
          fail('UNSUPPORTED_FEATURE', `parquet: column "${cells.name}" would hold cells of shape [${cells.cellShape.join(', ')}]; tensio writes Parquet columns of scalars: reshape to 2-D (rows, columns), or write Arrow/Feather, which keeps N-D cells`);
        }
        const kvMetadata = [...tableWriteMetadata(options.metadata as Metadata | undefined, columnPlan.metadata)].map(([key, value]) => ({ key, value }));
        parquet = new ParquetWriter({
          writer,
          schema: [{ name: 'root', num_children: columnPlan.columns.length }, ...columnPlan.columns.map(schemaElement)] as never,
          codec: codec as never,
          compressors: parquetCompressors(formatOptions.compressionLevel) as never,
          statistics: formatOptions.statistics ?? true,
          ...(kvMetadata.length > 0 ? { kvMetadata } : {}),
          createdBy: 'tensio (hyparquet-writer)',
        });
      },
      async writeBand(values, rows) {
        if (rows === 0) return;
        await parquet!.write({
          // Floats PLAIN: hyparquet-writer's dictionary keys values by SameValueZero, so -0 would come back as 0.
          columnData: plan!.columns.map((column, index) => ({ name: column.name, data: columnData(column.dtype, values[index]!) as never, ...(column.dtype === 'float32' || column.dtype === 'float64' ? { encoding: 'PLAIN' as const } : {}) })),
          rowGroupSize: rows,
          ...(formatOptions.pageSize !== undefined ? { pageSize: formatOptions.pageSize } : {}),
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
