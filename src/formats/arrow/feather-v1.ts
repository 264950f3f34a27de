/**
 * Feather v1 (the 2016 format, `pyarrow.feather.write_feather(version=1)`): `FEA1`,
 * column data, a `CTable` flatbuffer, its int32 length, `FEA1`. Each column is one
 * primitive array at a file offset: an 8-byte-padded validity bitmap when it has
 * nulls, then the values. Read only; it is one batch of rows.
 */
import type { DType } from '../../core/dtype.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import type { TableColumn } from '../../model/table.js';
import type { TableColumnBatch } from '../../model/table-cells.js';
import { createTableReader } from '../../model/table-reader.js';
import type { TensorReader } from '../../model/types.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { FlatBuffer } from './flatbuffers.js';
import { FEATHER_V1_MAGIC } from './read.js';
import type { ArrowOpenOptions } from './types.js';
import { ARROW_MAX_METADATA_BYTES } from '../../core/limits.js';

const fail = errorFactory('arrow');


/** Feather v1 `Type` enum → dtype (numeric types only). */
const V1_DTYPES: Record<number, DType> = { 0: 'bool', 1: 'int8', 2: 'int16', 3: 'int32', 4: 'int64', 5: 'uint8', 6: 'uint16', 7: 'uint32', 8: 'uint64', 9: 'float32', 10: 'float64' };
const V1_NAMES = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float', 'double', 'utf8', 'binary', 'category', 'timestamp', 'date', 'time', 'large_utf8', 'large_binary'];

interface V1Column {
  readonly column: TableColumn;
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
  readonly totalBytes: number;
}

const pad8 = (value: number) => Math.ceil(value / 8) * 8;

/** Opens a Feather v1 file. */
export async function featherV1Open(source: ByteSource, options: ArrowOpenOptions, close: () => Promise<void>, signal?: AbortSignal): Promise<TensorReader> {
  const size = source.size;
  const readOptions = signal ? { signal } : undefined;
  if (size < 12) fail('TRUNCATED', `arrow: a Feather v1 file of ${size} bytes is too short`);
  const tail = await source.read(size - 8, 8, readOptions);
  if (!FEATHER_V1_MAGIC.every((byte, i) => tail[4 + i] === byte)) fail('BAD_MAGIC', 'arrow: Feather v1 file does not end with FEA1 (truncated?)');
  const metadataLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  const metadataStart = size - 8 - metadataLength;
  if (metadataLength <= 0 || metadataStart < 4) fail('INVALID_OFFSET', `arrow: Feather v1 metadata length ${metadataLength} does not fit in the ${size}-byte file`);
  const maxMetadata = options.maxMetadataBytes ?? ARROW_MAX_METADATA_BYTES;
  if (metadataLength > maxMetadata) fail('LIMIT_EXCEEDED', `arrow: Feather v1 metadata of ${metadataLength} bytes exceeds the limit ${maxMetadata}`);
  const table = new FlatBuffer(await source.read(metadataStart, metadataLength, readOptions), 'Feather v1 metadata').root();
  const rows = table.i64(1);
  if (rows < 0) fail('INVALID_HEADER', `arrow: Feather v1 table of ${rows} rows`);
  const columns: V1Column[] = table.tables(2).map((entry) => {
    const name = entry.string(0) ?? '';
    const values = entry.table(1);
    if (!values) fail('INVALID_HEADER', `arrow: Feather v1 column "${name}" has no values`);
    const type = values!.u8(0);
    const encoding = values!.u8(1);
    const offset = values!.i64(2);
    const length = values!.i64(3);
    const nullCount = values!.i64(4);
    const totalBytes = values!.i64(5);
    if (length !== rows || nullCount < 0 || nullCount > length || offset < 4 || offset + totalBytes > metadataStart) {
      fail('INVALID_HEADER', `arrow: Feather v1 column "${name}": ${length} values (table: ${rows}), ${nullCount} nulls, ${totalBytes} bytes at ${offset} (data ends at ${metadataStart})`);
    }
    const dtype = encoding === 0 && entry.u8(2) === 0 ? V1_DTYPES[type] : undefined;
    const typeName = encoding === 1 ? 'category' : V1_NAMES[type] ?? `type ${type}`;
    return { column: { name, typeName, nullCount, cellShape: [], ...(dtype ? { dtype } : {}) }, offset, length, nullCount, totalBytes };
  });
  const load = async (wanted: readonly number[]) => {
    const out: (TableColumnBatch | undefined)[] = [];
    for (const index of wanted) {
      const { column, offset, nullCount, totalBytes } = columns[index]!;
      const dtype = column.dtype!;
      const bitmapBytes = nullCount > 0 ? pad8(Math.ceil(rows / 8)) : 0;
      const valueBytes = dtype === 'bool' ? Math.ceil(rows / 8) : rows * (DTYPE_INFO[dtype].bits / 8);
      if (bitmapBytes + valueBytes > totalBytes) fail('TRUNCATED', `arrow: Feather v1 column "${column.name}" holds ${totalBytes} bytes, ${bitmapBytes + valueBytes} needed`);
      const raw = await source.read(offset, bitmapBytes + valueBytes, readOptions);
      let values = raw.subarray(bitmapBytes);
      if (dtype === 'bool') {
        const bytes = new Uint8Array(rows);
        for (let i = 0; i < rows; i++) bytes[i] = (values[i >> 3]! >> (i & 7)) & 1;
        values = bytes;
      }
      out[index] = nullCount > 0 ? { values, validity: raw.subarray(0, bitmapBytes) } : { values };
    }
    return out;
  };
  return createTableReader({
    format: 'arrow',
    ...(source.name !== undefined ? { path: source.name } : {}),
    source,
    schema: { columns: columns.map((entry) => entry.column), rows },
    batches: rows === 0 ? [] : [{
      rows, offset: 4, storedLength: metadataStart - 4, label: 'Feather v1 table', load,
      span: (index) => {
        const entry = columns[index]!;
        return entry.nullCount === 0 && entry.column.dtype && entry.column.dtype !== 'bool' ? entry.offset : undefined;
      },
    }],
    metadata: { 'arrow.ipc': 'feather v1', 'arrow.compression': 'none', ...(table.string(0) ? { 'feather.description': table.string(0) } : {}) },
    options,
    close,
  });
}
