/**
 * Writing Arrow IPC (file = Feather v2, or stream) with flechette, whose compressed
 * writer stores the uncompressed length in each buffer's prefix as the format says
 * (apache-arrow's writes the compressed length there, which pyarrow rejects). Tensors
 * become columns by `model/table.ts`' rules; N-D cells are fixed-size lists, tagged
 * `arrow.fixed_shape_tensor` when a cell has more than one dimension.
 *
 * Streamed: each band of rows becomes one record batch, encoded by flechette as a
 * one-batch stream and written at once (its schema prefix and end marker cut off, see
 * `ipc-stream.ts`); the file format's footer is written at the end from the batches'
 * places. Memory holds one record batch (for the stacked default; separate columns
 * arrive as whole tensors, see `model/table-writer.ts`).
 */
import {
  Batch, Column, CompressionType, Endianness, Table, Version, bool, field, fixedSizeList, float16, float32, float64, int16,
  int32, int64, int8, setCompressionCodec, tableToIPC, uint16, uint32, uint64, uint8,
} from '@uwdata/flechette';
import type { DType } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { createTableWriter } from '../../model/table-writer.js';
import { tableWriteMetadata, type TableColumnPlan, type TableWritePlan } from '../../model/table.js';
import type { TensorWriter, WriterOptions } from '../../model/types.js';
import { openWriteSink, type WriteTarget } from '../../storage/write-target.js';
import { loadLz4 } from './codecs.js';
import { loadZstdWasm } from '../../storage/zstd-wasm.js';
import { arrowEmptyBatchMessage, arrowEmptySchemaMessage, arrowFileFooter, arrowStreamParts, ARROW_END_OF_STREAM, ARROW_FILE_MAGIC, type ArrowBlock } from './ipc-stream.js';
import type { ArrowWriteOptions } from './types.js';

const fail = errorFactory('arrow');

/** Rows per record batch by default (pyarrow writes one batch per 64 Ki rows chunk of a table too). */
export const ARROW_DEFAULT_BATCH_ROWS = 65_536;

type FlechetteType = ReturnType<typeof float32>;
const FLECHETTE_TYPES: Partial<Record<DType, () => FlechetteType>> = {
  bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64,
} as unknown as Partial<Record<DType, () => FlechetteType>>;

let codecsReady: Promise<void> | undefined;

/** Registers flechette's lz4 and zstd codecs (sync encode/decode, as flechette needs). */
function registerCodecs(): Promise<void> {
  return (codecsReady ??= (async () => {
    const lz4 = await loadLz4();
    setCompressionCodec(CompressionType.LZ4_FRAME, {
      encode: (data: Uint8Array) => lz4.compressFrameSync(data),
      decode: (data: Uint8Array) => lz4.decompressFrameSync(data),
    });
    const zstd = await loadZstdWasm();
    setCompressionCodec(CompressionType.ZSTD, {
      encode: (data: Uint8Array) => zstd.compress(data, 3),
      decode: (data: Uint8Array) => zstd.decompress(data),
    });
  })());
}

function typedOf(dtype: DType, bytes: Uint8Array): ArrayBufferView {
  const copy = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  switch (dtype) {
    case 'int8': return new Int8Array(copy.buffer, copy.byteOffset, copy.byteLength);
    case 'int16': return new Int16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
    case 'uint16': case 'float16': return new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
    case 'int32': return new Int32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    case 'uint32': return new Uint32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    case 'int64': return new BigInt64Array(copy.buffer, copy.byteOffset, copy.byteLength / 8);
    case 'uint64': return new BigUint64Array(copy.buffer, copy.byteOffset, copy.byteLength / 8);
    case 'float32': return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    case 'float64': return new Float64Array(copy.buffer, copy.byteOffset, copy.byteLength / 8);
    default: return copy;
  }
}

function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 8));
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

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

/** One flechette batch of a column from `rows × cell` values. */
function columnBatch(column: TableColumnPlan, type: FlechetteType, values: Uint8Array, rows: number): unknown {
  const size = column.cellShape.reduce((a, b) => a * b, 1);
  const leafType = column.cellShape.length === 0 ? type : (type as unknown as { children: { type: FlechetteType }[] }).children[0]!.type;
  const leaf = new Batch({
    length: rows * size, nullCount: 0, type: leafType, validity: new Uint8Array(0),
    values: column.dtype === 'bool' ? packBits(values) : typedOf(column.dtype, values),
  } as never);
  if (column.cellShape.length === 0) return leaf;
  return new Batch({ length: rows, nullCount: 0, type, validity: new Uint8Array(0), children: [leaf] } as never);
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
  const ipc = formatOptions.ipc ?? (typeof target === 'string' && /\.arrows$/i.test(target) ? 'stream' : 'file');
  if (ipc !== 'file' && ipc !== 'stream') fail('INVALID_ARGUMENT', `arrow: ipc must be 'file' or 'stream', got ${String(ipc)}`);
  if (compression !== 'none') await registerCodecs();
  const sink = await openWriteSink(target, { noOverwrite: options.overwrite === false, format: 'arrow' });
  const codec = compression === 'lz4' ? CompressionType.LZ4_FRAME : compression === 'zstd' ? CompressionType.ZSTD : undefined;
  let fields: ReturnType<typeof columnField>[] = [];
  let columnPlans: readonly TableColumnPlan[] = [];
  let schema: unknown;
  let schemaMessage: Uint8Array = new Uint8Array(0);
  let position = 0;
  const blocks: ArrowBlock[] = [];
  const write = async (bytes: Uint8Array) => {
    await sink.write(bytes);
    position += bytes.byteLength;
  };
  /** A one-batch (or empty) table as IPC stream bytes. */
  const encode = (columns: unknown[][]): Uint8Array => {
    const table = new Table(schema as never, columns.map((list, index) => new Column(list as never, fields[index]!.type as never)) as never);
    const bytes = tableToIPC(table, { format: 'stream', ...(codec !== undefined ? { codec } : {}) } as never);
    if (!bytes) fail('INVALID_STATE', 'arrow: flechette produced no bytes');
    return bytes!;
  };
  try {
    return createTableWriter({
      format: 'arrow',
      tensors: options.tensors,
      options: formatOptions,
      bandRows: formatOptions.batchRows ?? ARROW_DEFAULT_BATCH_ROWS,
      async begin(plan) {
        columnPlans = plan.columns;
        fields = plan.columns.map(columnField);
        const metadata = tableWriteMetadata(options.metadata, plan.metadata);
        schema = { version: Version.V5, endianness: Endianness.Little, fields, metadata };
        // The schema message, from a table of no batches: the stream's first message, repeated before every batch flechette encodes.
        schemaMessage = plan.columns.length === 0 ? arrowEmptySchemaMessage(metadata) : arrowStreamParts(encode(plan.columns.map(() => [])), 0).schema;
        if (ipc === 'file') await write(ARROW_FILE_MAGIC);
        await write(schemaMessage);
      },
      async writeBand(values, rows) {
        if (columnPlans.length === 0) {
          // No columns, some rows: flechette would leave out the batch's empty vectors.
          const batch = arrowEmptyBatchMessage(rows);
          blocks.push({ offset: position, metadataLength: batch.byteLength, bodyLength: 0 });
          await write(batch);
          return;
        }
        const columns = values.map((bytes, index) => [columnBatch(columnPlans[index]!, fields[index]!.type as FlechetteType, bytes, rows)]);
        const stream = encode(columns);
        if (Buffer.compare(stream.subarray(0, schemaMessage.byteLength), schemaMessage) !== 0) fail('INVALID_STATE', 'arrow: flechette encoded a batch under a different schema message');
        const { batch, metadataLength } = arrowStreamParts(stream, schemaMessage.byteLength);
        blocks.push({ offset: position, metadataLength, bodyLength: batch.byteLength - metadataLength });
        await write(batch);
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
