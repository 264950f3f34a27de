/**
 * Writing Arrow IPC (file = Feather v2, or stream). Tensors become columns by
 * `model/table.ts`' rules; N-D cells are fixed-size lists, tagged
 * `arrow.fixed_shape_tensor` when a cell has more than one dimension.
 *
 * flechette encodes the schema message only (a table of no batches). Each band of rows
 * becomes one record batch laid out here (`batch-body.ts`, `batch-message.ts`): its
 * message, then its buffers written straight from the column buffers, each prefixed
 * with its uncompressed length when compressed, as the format says (apache-arrow's own
 * compressed writer stores the compressed length there, which pyarrow rejects). The file
 * format's footer is written at the end from the batches' places. Memory holds one record
 * batch (for the stacked default, in column buffers reused band after band; separate
 * columns arrive as whole tensors, see `model/table-writer.ts`).
 */
import { Column, Endianness, Table, Version, bool, field, fixedSizeList, float16, float32, float64, int16, int32, int64, int8, tableToIPC, uint16, uint32, uint64, uint8 } from '@uwdata/flechette';
import type { DType } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { createTableWriter } from '../../model/table-writer.js';
import { tableWriteMetadata, type TableColumnPlan } from '../../model/table.js';
import type { TensorWriter, WriterOptions } from '../../model/types.js';
import { sinkWriteMany } from '../../storage/byte-sink.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { zstdCompressAtLevel } from '../../storage/zstd-native.js';
import { arrowEncodeBatch, type ArrowBufferCompressor } from './batch-body.js';
import { ARROW_CODEC, loadLz4 } from './codecs.js';
import { arrowEmptyBatchMessage, arrowEmptySchemaMessage, arrowFileFooter, arrowStreamParts, ARROW_END_OF_STREAM, ARROW_FILE_MAGIC, type ArrowBlock } from './ipc-stream.js';
import type { ArrowWriteOptions } from './types.js';

const fail = errorFactory('arrow');

/** Rows per record batch by default (pyarrow writes one batch per 64 Ki rows chunk of a table too). */
export const ARROW_DEFAULT_BATCH_ROWS = 65_536;

/** zstd level when none is given: Arrow C++'s default (`pa.Codec.default_compression_level('zstd')` is 1). */
export const ARROW_DEFAULT_ZSTD_LEVEL = 1;

type FlechetteType = ReturnType<typeof float32>;
const FLECHETTE_TYPES: Partial<Record<DType, () => FlechetteType>> = {
  bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64,
} as unknown as Partial<Record<DType, () => FlechetteType>>;

/** The flechette field of one column. */
function columnField(column: TableColumnPlan) {
  const leaf = FLECHETTE_TYPES[column.dtype]!();
  if (column.cellShape.length === 0) return field(column.name, leaf, false);
  const size = column.cellShape.reduce((a, b) => a * b, 1);
  const metadata = column.cellShape.length > 1
    ? new Map([['ARROW:extension:name', 'arrow.fixed_shape_tensor'], ['ARROW:extension:metadata', JSON.stringify({ shape: column.cellShape })]])
    : null;
  return field(column.name, fixedSizeList(field('item', leaf, false), size), false, metadata);
}

/** The codec number and buffer compressor of `compression`, loaded on first use. */
async function bufferCompression(compression: 'lz4' | 'zstd', level: number): Promise<{ codec: number; compress: ArrowBufferCompressor }> {
  if (compression === 'lz4') {
    const lz4 = await loadLz4();
    return { codec: ARROW_CODEC.lz4, compress: (bytes) => lz4.compressFrameSync(bytes as Buffer) };
  }
  return { codec: ARROW_CODEC.zstd, compress: (bytes) => zstdCompressAtLevel(bytes, level) };
}

/**
 * Creates an Arrow IPC writer (see the module comment).
 *
 * @example
 * ```ts
 * const writer = await arrowCreateWriter('x.feather', { tensors: [{ name: 'x', dtype: 'float32', shape: [1000, 8] }], formatOptions: { compression: 'zstd' } });
 * ```
 */
export async function arrowCreateWriter(target: WriteTarget, options: WriterOptions): Promise<TensorWriter> {
  const formatOptions = (options.formatOptions ?? {}) as ArrowWriteOptions;
  const compression = formatOptions.compression ?? 'none';
  if (!['none', 'lz4', 'zstd'].includes(compression)) fail('INVALID_ARGUMENT', `arrow: compression must be 'lz4', 'zstd' or 'none', got ${String(compression)}`);
  const level = formatOptions.compressionLevel ?? ARROW_DEFAULT_ZSTD_LEVEL;
  if (formatOptions.compressionLevel !== undefined && compression !== 'zstd') {
    fail('INVALID_ARGUMENT', `arrow: compressionLevel applies to zstd only, got it with compression '${compression}'`);
  }
  const ipc = formatOptions.ipc ?? (typeof target === 'string' && /\.arrows$/i.test(target) ? 'stream' : 'file');
  if (ipc !== 'file' && ipc !== 'stream') fail('INVALID_ARGUMENT', `arrow: ipc must be 'file' or 'stream', got ${String(ipc)}`);
  const bodyCompression = compression === 'none' ? undefined : await bufferCompression(compression, level);
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false, format: 'arrow' });
  let columnPlans: readonly TableColumnPlan[] = [];
  let schemaMessage: Uint8Array = new Uint8Array(0);
  let position = 0;
  const blocks: ArrowBlock[] = [];
  const write = async (bytes: Uint8Array) => {
    await sink.write(bytes);
    position += bytes.byteLength;
  };
  try {
    return createTableWriter({
      format: 'arrow',
      tensors: options.tensors,
      options: formatOptions,
      bandRows: formatOptions.batchRows ?? ARROW_DEFAULT_BATCH_ROWS,
      // writeBand has written every buffer (or its compressed copy) when it resolves.
      releasesBandValues: true,
      async begin(plan) {
        columnPlans = plan.columns;
        const metadata = tableWriteMetadata(options.metadata, plan.metadata);
        if (plan.columns.length === 0) schemaMessage = arrowEmptySchemaMessage(metadata);
        else {
          // The schema message, from flechette's encoding of a table of no batches (its first message).
          const fields = plan.columns.map(columnField);
          const schema = { version: Version.V5, endianness: Endianness.Little, fields, metadata };
          const table = new Table(schema as never, fields.map((column) => new Column([] as never, column.type as never)) as never);
          const stream = tableToIPC(table, { format: 'stream' } as never);
          if (!stream) fail('INVALID_STATE', 'arrow: flechette produced no schema message');
          schemaMessage = arrowStreamParts(stream!, 0).schema;
        }
        if (ipc === 'file') await write(ARROW_FILE_MAGIC);
        await write(schemaMessage);
      },
      async writeBand(values, rows) {
        if (columnPlans.length === 0) {
          // No columns, some rows: a batch of empty node and buffer lists.
          const batch = arrowEmptyBatchMessage(rows);
          blocks.push({ offset: position, metadataLength: batch.byteLength, bodyLength: 0 });
          await write(batch);
          return;
        }
        const { message, parts, bodyLength } = await arrowEncodeBatch(columnPlans, values, rows, bodyCompression);
        blocks.push({ offset: position, metadataLength: message.byteLength, bodyLength });
        await sinkWriteMany(sink, [message, ...parts]);
        position += message.byteLength + bodyLength;
      },
      async finish() {
        await write(ARROW_END_OF_STREAM);
        if (ipc === 'file') {
          const footer = arrowFileFooter(schemaMessage, blocks);
          const length = new Uint8Array(4);
          new DataView(length.buffer).setInt32(0, footer.byteLength, true);
          await write(footer);
          await write(length);
          await write(ARROW_FILE_MAGIC.subarray(0, 6));
        }
        await sink.close();
      },
      discard: () => sink.abort(),
    });
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
