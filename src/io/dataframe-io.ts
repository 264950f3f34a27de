/**
 * DataFrames: NumPack's `from_dataframe` / `to_dataframe` with arquero (8.x, over
 * flechette) as the JavaScript DataFrame, through the shared table ↔ tensor semantics
 * (`src/model/table.ts`): numeric columns stack into one 2-D array `data` with NumPy's
 * promotion (NumPack stores `df.values`), nulls become NaN, `{ columns: 'separate' }`
 * keeps one array per column, a string or date column is an error naming it unless
 * `skipNonNumeric`. Back, a 1-D array is column `data`, a 2-D one `col0, col1, …` (or
 * `columnNames`), an N-D one a column of `shape[1:]` cells.
 *
 * Why arquero: danfojs-node does not install from the npm registry (its `xlsx`
 * dependency is a tarball on a CDN, and tfjs-node downloads libtensorflow), and
 * nodejs-polars needs a 116 MB native package npm drops on Node 20 (engines ≥ 22);
 * arquero is pure JavaScript, Arrow-native, and stores numeric columns as typed arrays,
 * so reading one is a view. arquero is imported only by {@link toDataFrame};
 * {@link fromDataFrame} reads any object with arquero's table methods.
 */
import { DTYPE_INFO, type DType, type TypedArray } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { toFloat32Array } from '../core/float-convert.js';
import type { Tensor } from '../core/tensor.js';
import type { TableColumnBatch } from '../model/table-cells.js';
import { tableColumnValues } from '../model/table-cells.js';
import { createTableReader, type TableReader } from '../model/table-reader.js';
import { planTableColumns, type TableColumn, type TableReadOptions, type TableSchema } from '../model/table.js';
import { bytesSource } from '../storage/byte-source.js';
import { NumPack } from '../npk/numpack.js';
import { copyIntoStore, singleArrayName, type IntoStoreOptions } from './store-transfer.js';

/** What tensio needs of a DataFrame: arquero's `ColumnTable` methods (any object with them works). */
export interface DataFrameLike {
  columnNames(): string[];
  numRows(): number;
  column(name: string): unknown;
  array(name: string): unknown;
  isFiltered?(): boolean;
  isOrdered?(): boolean;
}

const TYPED_DTYPES: ReadonlyArray<[abstract new (...args: never[]) => unknown, DType]> = [
  [Float64Array, 'float64'], [Float32Array, 'float32'], [Int8Array, 'int8'], [Int16Array, 'int16'], [Int32Array, 'int32'],
  [BigInt64Array, 'int64'], [Uint8Array, 'uint8'], [Uint16Array, 'uint16'], [Uint32Array, 'uint32'], [BigUint64Array, 'uint64'],
];

/** One column's values as the DataFrame holds them (typed array, or a plain array of cells). */
function columnValues(df: DataFrameLike, name: string): ArrayLike<unknown> {
  const reordered = (df.isFiltered?.() ?? false) || (df.isOrdered?.() ?? false);
  const values = reordered ? df.array(name) : df.column(name);
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<unknown>).length !== 'number') {
    throw new TensioError('INVALID_ARGUMENT', `dataframe: column ${JSON.stringify(name)} is not an array of values`);
  }
  return values as ArrayLike<unknown>;
}

/** The column's dtype and its type name, inferred from its values (plain JS numbers are float64, as NumPy's). */
function describeColumn(name: string, values: ArrayLike<unknown>): TableColumn {
  for (const [Ctor, dtype] of TYPED_DTYPES) {
    if (values instanceof Ctor) return { name, dtype, typeName: values.constructor.name, nullCount: 0, cellShape: [] };
  }
  let kind: 'number' | 'bigint' | 'boolean' | undefined;
  let nulls = 0;
  let unsigned = false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      nulls++;
      continue;
    }
    const type = typeof value;
    if (type !== 'number' && type !== 'bigint' && type !== 'boolean') {
      const typeName = value instanceof Date ? 'date' : type === 'string' ? 'string' : type;
      return { name, typeName, nullCount: undefined, cellShape: [] };
    }
    if (kind !== undefined && kind !== type) return { name, typeName: `mixed ${kind}/${type}`, nullCount: undefined, cellShape: [] };
    kind = type as typeof kind;
    if (type === 'bigint' && (value as bigint) >= 2n ** 63n) unsigned = true;
  }
  const dtype: DType = kind === 'bigint' ? (unsigned ? 'uint64' : 'int64') : kind === 'boolean' ? 'bool' : 'float64';
  return { name, dtype, typeName: kind ?? 'null', nullCount: nulls, cellShape: [] };
}

/** A column's values as table cells: bytes in tensio's layout plus a validity bitmap when it has nulls. */
function columnBatch(column: TableColumn, values: ArrayLike<unknown>): TableColumnBatch {
  const dtype = column.dtype!;
  if (ArrayBuffer.isView(values)) {
    const view = values as unknown as TypedArray;
    return { values: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) };
  }
  const Ctor = DTYPE_INFO[dtype].typedArray!;
  const out = new Ctor(values.length) as TypedArray;
  let validity: Uint8Array | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      validity ??= new Uint8Array(Math.ceil(values.length / 8)).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
      continue;
    }
    (out as unknown as unknown[])[i] = dtype === 'bool' ? (value ? 1 : 0) : value;
  }
  return { values: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), ...(validity ? { validity } : {}) };
}

/**
 * A DataFrame as a {@link TableReader}: its numeric columns as tensors by the table rules
 * (default: one 2-D `data`; `{ columns: 'separate' }`: one per column), readable and
 * convertible like any file (`convertReader(openDataFrame(df), 'out.parquet')`).
 *
 * @example
 * ```ts
 * const reader = openDataFrame(aq.table({ x: Float32Array.of(1, 2), y: Float32Array.of(3, 4) }));
 * (await reader.read('data')).shape; // [2, 2]
 * ```
 */
export function openDataFrame(df: DataFrameLike, options: TableReadOptions = {}): TableReader {
  const names = df.columnNames();
  const rows = df.numRows();
  const values = names.map((name) => columnValues(df, name));
  const columns = names.map((name, index) => describeColumn(name, values[index]!));
  const schema: TableSchema = { columns, rows };
  return createTableReader({
    format: 'dataframe',
    source: bytesSource(new Uint8Array(0), 'dataframe'),
    schema,
    batches: [{
      rows,
      offset: 0,
      storedLength: 0,
      label: 'the DataFrame',
      async load(wanted) {
        const out: (TableColumnBatch | undefined)[] = new Array(columns.length);
        for (const index of wanted) out[index] = columnBatch(columns[index]!, values[index]!);
        return out;
      },
    }],
    options,
  });
}

/** Options of {@link fromDataFrame}. */
export interface FromDataFrameOptions extends IntoStoreOptions, Omit<TableReadOptions, 'name'> {
  /** Name of the stacked array (default `'data'`, as NumPack). */
  arrayName?: string;
}

/**
 * Stores a DataFrame's numeric columns in a NumPack store: one 2-D array (`df.values`,
 * NumPack's `from_dataframe`) or, with `columns: 'separate'`, one array per column.
 *
 * @example
 * ```ts
 * import * as aq from 'arquero';
 * await fromDataFrame(aq.table({ a: [1, 2], b: [3, null] }), 'data.npk'); // 'data' [[1, 3], [2, NaN]]
 * ```
 */
export async function fromDataFrame(df: DataFrameLike, npkPath: string, options: FromDataFrameOptions = {}): Promise<void> {
  const { arrayName, dropIfExists, chunkSize, signal, ...table } = options;
  const reader = openDataFrame(df, { ...table, name: arrayName ?? 'data' });
  try {
    await copyIntoStore(reader, npkPath, reader.tensors.map((info) => [info.name, info.name]), {
      ...(dropIfExists !== undefined ? { dropIfExists } : {}),
      ...(chunkSize !== undefined ? { chunkSize } : {}),
      ...(signal ? { signal } : {}),
    });
  } finally {
    await reader.close();
  }
}

/** Options of {@link toDataFrame} and {@link tensorToDataFrame}. */
export interface ToDataFrameOptions {
  /** The array to export (default: the store's only one). */
  arrayName?: string;
  /** Column names (NumPack's `columns`): for a 2-D array one per column, else one. */
  columns?: readonly string[];
}

/**
 * A tensor as an arquero table: 1-D → column `data`, 2-D → `col0…` (or `columns`),
 * N-D → one column whose cells are `shape[1:]` typed arrays (flattened C order).
 * float16/bfloat16 become float32 columns (arquero has no half floats).
 *
 * @example
 * ```ts
 * const df = await tensorToDataFrame(createTensor('float32', [2, 2], [1, 2, 3, 4]));
 * df.columnNames(); // ['col0', 'col1']
 * ```
 */
export async function tensorToDataFrame(tensor: Tensor, options: Pick<ToDataFrameOptions, 'columns'> = {}): Promise<DataFrameLike> {
  const aq = await import('arquero');
  let source = tensor;
  if (tensor.dtype === 'float16' || tensor.dtype === 'bfloat16') {
    const floats = toFloat32Array(tensor);
    source = { dtype: 'float32', shape: tensor.shape, data: new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength) };
  }
  const spec = { name: 'data', dtype: source.dtype, shape: source.shape };
  const plan = planTableColumns([spec], options.columns ? { columnNames: options.columns } : {});
  const rows = source.shape[0] ?? 1;
  const columnsOfTensor = source.shape.length === 2 ? source.shape[1]! : 1;
  const data: Record<string, unknown> = {};
  for (const column of plan.columns) {
    const bytes = tableColumnValues(column, source.data, rows, columnsOfTensor);
    const aligned = bytes.byteOffset % (DTYPE_INFO[column.dtype].bits / 8) === 0 ? bytes : bytes.slice();
    const Ctor = DTYPE_INFO[column.dtype].typedArray!;
    const typed = new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / Ctor.BYTES_PER_ELEMENT) as TypedArray;
    const cell = column.cellShape.reduce((a, b) => a * b, 1);
    if (column.cellShape.length > 0) {
      data[column.name] = Array.from({ length: rows }, (_, row) => typed.subarray(row * cell, (row + 1) * cell));
    } else if (column.dtype === 'bool') {
      data[column.name] = Array.from(typed as Uint8Array, (value) => value !== 0);
    } else {
      data[column.name] = typed;
    }
  }
  return aq.table(data) as unknown as DataFrameLike;
}

/**
 * An array of a store as an arquero DataFrame (NumPack's `to_dataframe`).
 *
 * @example
 * ```ts
 * const df = await toDataFrame('data.npk', { arrayName: 'features', columns: ['x', 'y'] });
 * ```
 */
export async function toDataFrame(npkPath: string, options: ToDataFrameOptions = {}): Promise<DataFrameLike> {
  await using npk = await NumPack.open(npkPath, { readOnly: true });
  const name = singleArrayName(npk.getMemberList(), options.arrayName, npkPath);
  const tensor = await npk.load(name);
  return tensorToDataFrame(tensor, options.columns ? { columns: options.columns } : {});
}
