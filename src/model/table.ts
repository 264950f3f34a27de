/**
 * Tables ↔ tensors: the semantics every table format shares (Arrow IPC/Feather, Parquet,
 * CSV/TXT, DataFrames). A format describes its table as a {@link TableSchema} of
 * {@link TableColumn}s; {@link planTableTensors} decides which tensors the table reads
 * as, and {@link planTableColumns} which columns a set of tensors writes as. The bytes
 * move in `table-cells.ts` (batches of rows → tensor bytes and back) and
 * `table-reader.ts` (a `TensorReader` over batches of rows).
 *
 * NumPack's semantics are the default (numpack.md §3.1):
 * - numeric columns read as ONE 2-D tensor `(rows, columns)` named `data`, the dtype
 *   promoted as NumPy's `column_stack` does (int32 + float32 → float64, int8 + uint8 →
 *   int16, int64 + uint64 → float64); a column with nulls reads as floating point with
 *   NaN (integers and booleans become float64, floats keep their width);
 * - a table of 0 rows or 0 columns reads as float64 `(rows, columns)`;
 * - a 1-D tensor writes as one column `data`, a 2-D tensor as columns `col0, col1, …`.
 *
 * and go beyond it:
 * - `{ columns: 'separate' }` reads each column as its own tensor named after it (and
 *   writes each tensor as one column), with the column names and the table's schema
 *   metadata kept in the reader's metadata;
 * - fixed-size-list columns and Arrow's `arrow.fixed_shape_tensor` extension (a
 *   {@link TableColumn.cellShape} other than `[]`) read as N-D tensors `(rows, ...cell)`,
 *   and an N-D tensor writes as such a column (NumPack flattens it and loses the shape);
 * - a non-numeric column (strings, dates, decimals, nested types) is an
 *   `UNSUPPORTED_DTYPE` error naming the column and its type, or skipped with
 *   `skipNonNumeric` (listed under `unsupportedTensors` in the metadata);
 * - `select` (column names) and `rows` (a row range) restrict what is read; readers load
 *   only the selected columns and the batches the rows touch.
 */
import { DTYPE_INFO, type DType } from '../core/dtype.js';
import { TensioError } from '../core/errors.js';
import { checkedSize, elementCount } from '../core/sizes.js';
import type { Metadata, TensorSpec, UnsupportedTensor } from './types.js';
import { UNSUPPORTED_TENSORS_KEY } from './types.js';
import { TABLE_DTYPES, tableCannotWrite } from './table-dtypes.js';

export { TABLE_DTYPES, tableCannotWrite } from './table-dtypes.js';

/**
 * One column as a table format describes it, before any data is read.
 *
 * @example
 * ```ts
 * const column: TableColumn = { name: 'x', dtype: 'float32', typeName: 'float', nullCount: 0, cellShape: [] };
 * const embedding: TableColumn = { name: 'e', dtype: 'float32', typeName: 'fixed_size_list<float>[3]', nullCount: 0, cellShape: [3] };
 * const text: TableColumn = { name: 's', typeName: 'utf8', nullCount: 0, cellShape: [] }; // no dtype: not numeric
 * ```
 */
export interface TableColumn {
  readonly name: string;
  /** The element dtype (one of {@link TABLE_DTYPES}); undefined for a column that holds no numbers (strings, dates, …). */
  readonly dtype?: DType;
  /** The format's own type name for messages and `inspect` (`'utf8'`, `'timestamp[ms]'`, `'INT32'`). */
  readonly typeName: string;
  /**
   * Null cells in the whole column, or `undefined` when the format cannot tell without
   * reading (then the column is treated as nullable: integers read as float64).
   */
  readonly nullCount: number | undefined;
  /** Shape of one cell: `[]` for a scalar, `[3]` for a fixed-size list of 3, `[2, 3]` for a fixed-shape tensor. */
  readonly cellShape: readonly number[];
  /** Smallest and largest value (NaN left out) when the file records them (Parquet footer statistics); booleans as 0/1. */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
}

/** A table as a format describes it. */
export interface TableSchema {
  readonly columns: readonly TableColumn[];
  /** Rows of the whole table. */
  readonly rows: number;
  /** The table's own key/value metadata (Arrow schema metadata, Parquet key_value_metadata). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Schema metadata key under which tensio's table writers record the tensor a stacked
 * table was written from (`{"name": "w", "shape": [5]}`), so that reading it back with
 * the default options restores the name and shape (a 1-D tensor stays 1-D) instead of
 * NumPack's `data` of shape `(rows, 1)`. Files without it read by NumPack's rules.
 */
export const TABLE_TENSOR_METADATA_KEY = 'tensio:tensor';

/** Reader metadata keys holding the table's own key/value metadata: `table.metadata.<key>`. */
export const TABLE_METADATA_PREFIX = 'table.metadata.';

/** How a table reads as tensors. */
export interface TableReadOptions {
  /**
   * `'stack'` (default, NumPack's): every scalar numeric column into one 2-D tensor;
   * `'separate'`: one tensor per column, named after it.
   */
  columns?: 'stack' | 'separate';
  /** Only these columns, in this order (names). `NOT_FOUND` for a name the table lacks. */
  select?: readonly string[];
  /** Rows `[start, end)`; negatives count from the end, bounds clamped (Python slicing). */
  rows?: { start: number; end?: number };
  /** Skip columns that hold no numbers instead of failing. */
  skipNonNumeric?: boolean;
  /** Name of the stacked tensor. Default `'data'` (NumPack's `from_table`). */
  name?: string;
}

/** One tensor a table reads as, and the columns that fill it. */
export interface TableTensorPlan {
  readonly spec: TensorSpec;
  /** `'stack'`: columns interleaved into `(rows, columns)`; `'column'`: one column, `(rows, ...cellShape)`. */
  readonly kind: 'stack' | 'column';
  /** Indexes into {@link TableSchema.columns}, in output order. */
  readonly columns: readonly number[];
}

/** What {@link planTableTensors} decided. */
export interface TableReadPlan {
  readonly tensors: readonly TableTensorPlan[];
  /** First row read and one past the last (of the whole table). */
  readonly rowStart: number;
  readonly rowEnd: number;
  /** Every column index some tensor needs (sorted): readers load only these. */
  readonly neededColumns: readonly number[];
  /** Reader metadata: table facts (`table.rows`, `table.columns`, `table.columnTypes`, `table.metadata.<key>`) and skipped columns. */
  readonly metadata: Metadata;
}

/**
 * The dtype NumPy's `column_stack` gives to columns of these dtypes (`np.result_type`
 * over bool, integers and IEEE floats). `float64` for an empty list (an empty table).
 *
 * @example
 * ```ts
 * tablePromoteDTypes(['int32', 'float32']); // 'float64'
 * tablePromoteDTypes(['int8', 'uint8']); // 'int16'
 * tablePromoteDTypes(['uint64', 'int64']); // 'float64'
 * ```
 */
export function tablePromoteDTypes(dtypes: readonly DType[]): DType {
  if (dtypes.length === 0) return 'float64';
  let floatBits = 0;
  let signedBits = 0;
  let unsignedBits = 0;
  let anyBool = false;
  for (const dtype of dtypes) {
    const { kind, bits } = DTYPE_INFO[dtype];
    if (kind === 'bool') anyBool = true;
    else if (kind === 'float' && (dtype === 'float16' || dtype === 'float32' || dtype === 'float64')) floatBits = Math.max(floatBits, bits);
    else if (kind === 'int') signedBits = Math.max(signedBits, bits);
    else if (kind === 'uint') unsignedBits = Math.max(unsignedBits, bits);
    else throw new TensioError('UNSUPPORTED_DTYPE', `table columns cannot hold ${dtype}`);
  }
  // The integer type all integer columns fit in (bits 128 = none: only float64 holds both int64 and uint64).
  let intBits = 0;
  let intSigned = false;
  if (signedBits > 0 && unsignedBits > 0) {
    intSigned = true;
    intBits = signedBits > unsignedBits ? signedBits : unsignedBits * 2;
  } else if (signedBits > 0) {
    intSigned = true;
    intBits = signedBits;
  } else {
    intBits = unsignedBits;
  }
  if (floatBits === 0 && intBits <= 64) {
    if (intBits === 0) return anyBool ? 'bool' : 'float64';
    return `${intSigned ? 'int' : 'uint'}${intBits}` as DType;
  }
  // A float is involved (or int64 with uint64): the float wide enough for the integers too.
  const neededForInts = intBits === 0 ? 0 : intBits <= 8 ? 16 : intBits <= 16 ? 32 : 64;
  const bits = Math.max(floatBits, neededForInts, 16);
  return `float${bits}` as DType;
}

/** True when the dtype holds NaN (nulls can stay in it). */
function holdsNaN(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'float32' || dtype === 'float64';
}

/**
 * The dtype a column reads as on its own: its dtype, or float64 when it has (or may
 * have) nulls and its dtype cannot hold NaN (pandas' nullable integers → float64).
 *
 * @example
 * ```ts
 * tableColumnReadDType({ name: 'n', dtype: 'int32', typeName: 'int32', nullCount: 2, cellShape: [] }); // 'float64'
 * ```
 */
export function tableColumnReadDType(column: TableColumn): DType {
  if (!column.dtype) throw nonNumeric(column);
  if (column.nullCount !== 0 && !holdsNaN(column.dtype)) return 'float64';
  return column.dtype;
}

function nonNumeric(column: TableColumn): TensioError {
  return new TensioError('UNSUPPORTED_DTYPE', `column "${column.name}" of type ${column.typeName} holds no numbers tensio reads as a tensor; select other columns or pass skipNonNumeric`);
}

/** Resolves a row range Python-style against the table's rows. */
function resolveRows(range: { start: number; end?: number } | undefined, rows: number): [number, number] {
  if (!range) return [0, rows];
  const { start, end = rows } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end)) {
    throw new TensioError('INVALID_SLICE', `row range ${start}..${end} must be integers`);
  }
  const clamp = (value: number) => Math.min(rows, Math.max(0, value < 0 ? rows + value : value));
  const from = clamp(start);
  return [from, Math.max(from, clamp(end))];
}

/**
 * Decides which tensors a table reads as (see the module comment for the rules).
 *
 * @example
 * ```ts
 * const plan = planTableTensors(schema, { columns: 'separate', select: ['x', 'y'], rows: { start: 0, end: 100 } });
 * plan.tensors.map((t) => t.spec); // [{ name: 'x', dtype: 'float32', shape: [100] }, …]
 * ```
 */
export function planTableTensors(schema: TableSchema, options: TableReadOptions = {}): TableReadPlan {
  const mode = options.columns ?? 'stack';
  if (mode !== 'stack' && mode !== 'separate') {
    throw new TensioError('INVALID_ARGUMENT', `table columns option must be 'stack' or 'separate', got ${String(mode)}`);
  }
  const byName = new Map<string, number>();
  schema.columns.forEach((column, index) => { if (!byName.has(column.name)) byName.set(column.name, index); });
  let chosen: number[];
  if (options.select) {
    chosen = options.select.map((name) => {
      const index = byName.get(name);
      if (index === undefined) {
        const names = schema.columns.map((column) => column.name);
        throw new TensioError('NOT_FOUND', `no column "${name}" in the table; its columns are ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, … (${names.length})` : ''}`);
      }
      return index;
    });
  } else {
    chosen = schema.columns.map((_, index) => index);
  }
  const skipped: UnsupportedTensor[] = [];
  const numeric = chosen.filter((index) => {
    const column = schema.columns[index]!;
    if (column.dtype && TABLE_DTYPES.includes(column.dtype)) return true;
    if (!options.skipNonNumeric) throw nonNumeric(column);
    skipped.push({ name: column.name, formatDtype: column.typeName, code: 'UNSUPPORTED_DTYPE', reason: `column of type ${column.typeName} holds no numbers` });
    return false;
  });
  const [rowStart, rowEnd] = resolveRows(options.rows, checkedSize(schema.rows, 'table', 'row count'));
  const rows = rowEnd - rowStart;
  const tensors: TableTensorPlan[] = [];
  if (mode === 'separate') {
    const seen = new Set<string>();
    for (const index of numeric) {
      const column = schema.columns[index]!;
      if (seen.has(column.name)) throw new TensioError('DUPLICATE_NAME', `the table has two columns named "${column.name}"; select one of them`);
      seen.add(column.name);
      tensors.push({ kind: 'column', columns: [index], spec: { name: column.name, dtype: tableColumnReadDType(column), shape: [rows, ...column.cellShape] } });
    }
  } else {
    const scalar = numeric.filter((index) => schema.columns[index]!.cellShape.length === 0);
    const cells = numeric.filter((index) => schema.columns[index]!.cellShape.length > 0);
    const name = options.name ?? 'data';
    // Stacked: scalars into one (rows, columns) tensor; an empty table still gives (rows, 0) float64.
    if (scalar.length > 0 || cells.length === 0) {
      const dtype = tablePromoteDTypes(scalar.map((index) => tableColumnReadDType(schema.columns[index]!)));
      tensors.push({ kind: 'stack', columns: scalar, spec: { name, dtype, shape: [rows, scalar.length] } });
    }
    // Fixed-size-list and tensor columns cannot be stacked with scalars: each is its own N-D tensor.
    for (const index of cells) {
      const column = schema.columns[index]!;
      const tensorName = scalar.length === 0 && cells.length === 1 && options.name !== undefined ? name : column.name;
      if (tensors.some((tensor) => tensor.spec.name === tensorName)) {
        throw new TensioError('DUPLICATE_NAME', `column "${column.name}" would read as a tensor named like another; pass another name or select columns`);
      }
      tensors.push({ kind: 'column', columns: [index], spec: { name: tensorName, dtype: tableColumnReadDType(column), shape: [rows, ...column.cellShape] } });
    }
  }
  if (mode === 'stack' && !options.select && options.name === undefined && tensors.length === 1) restoreWrittenTensor(schema, tensors, rowEnd - rowStart);
  for (const tensor of tensors) elementCount(tensor.spec.shape, 'table');
  const neededColumns = [...new Set(tensors.flatMap((tensor) => tensor.columns))].sort((a, b) => a - b);
  const metadata: Metadata = {
    'table.rows': schema.rows,
    // Flat strings and numbers only: every writer (GGUF, safetensors) can keep them.
    'table.columns': schema.columns.map((column) => column.name),
    'table.columnTypes': schema.columns.map((column) => column.typeName),
  };
  for (const [key, value] of Object.entries(schema.metadata ?? {})) metadata[`${TABLE_METADATA_PREFIX}${key}`] = value;
  if (mode === 'stack') {
    const stacked = tensors.find((tensor) => tensor.kind === 'stack');
    if (stacked) metadata['table.stackedColumns'] = stacked.columns.map((index) => schema.columns[index]!.name);
  }
  if (skipped.length > 0) metadata[UNSUPPORTED_TENSORS_KEY] = skipped;
  return { tensors, rowStart, rowEnd, neededColumns, metadata };
}

/** Applies {@link TABLE_TENSOR_METADATA_KEY}: the name and the shape of the tensor the table was written from. */
function restoreWrittenTensor(schema: TableSchema, tensors: TableTensorPlan[], rows: number): void {
  const text = schema.metadata?.[TABLE_TENSOR_METADATA_KEY];
  if (!text) return;
  let written: { name?: unknown; shape?: unknown };
  try {
    written = JSON.parse(text) as typeof written;
  } catch {
    return;
  }
  const { name, shape } = written;
  if (typeof name !== 'string' || !Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) return;
  const tensor = tensors[0]!;
  const current = tensor.spec.shape;
  const perRow = current.slice(1).reduce((a, b) => a * b, 1);
  const writtenShape = shape as number[];
  let restored: number[] | undefined;
  if (writtenShape.length === 0) restored = rows === 1 && perRow === 1 ? [] : undefined;
  else if (writtenShape.slice(1).reduce((a, b) => a * b, 1) === perRow) restored = [rows, ...writtenShape.slice(1)];
  if (!restored) return;
  tensors[0] = { ...tensor, spec: { ...tensor.spec, name, shape: restored } };
}

// ---------------------------------------------------------------------------------------
// Tensors → table (writers)

/** How tensors write as a table. */
export interface TableWriteOptions {
  /**
   * `'stack'` (default, NumPack's `to_table`): exactly one tensor; 1-D → column `data`,
   * 2-D → columns `col0…` (or `columnNames`), N-D → one fixed-shape column `data` of
   * cells `shape[1:]`. `'separate'`: every tensor is one column named after it (1-D →
   * scalar, N-D → fixed-shape cells); all must have the same number of rows.
   */
  columns?: 'stack' | 'separate';
  /** Names for the columns of a stacked 2-D tensor (or the one column of a 1-D / N-D tensor). */
  columnNames?: readonly string[];
}

/** One column a table writer writes, and where its values come from. */
export interface TableColumnPlan {
  readonly name: string;
  readonly dtype: DType;
  /** `[]` scalar; otherwise each cell is a fixed-shape tensor (fixed-size list of prod(cellShape)). */
  readonly cellShape: readonly number[];
  /** The tensor it comes from. */
  readonly tensor: string;
  /** For a column of a stacked 2-D tensor: which column of it (else undefined: the whole tensor). */
  readonly columnOfTensor?: number;
}

/** What {@link planTableColumns} decided. */
export interface TableWritePlan {
  readonly columns: readonly TableColumnPlan[];
  /** Rows of the table. */
  readonly rows: number;
  /** Schema metadata the writer adds ({@link TABLE_TENSOR_METADATA_KEY} for a stacked table). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Decides the columns a set of tensors writes as (see {@link TableWriteOptions}).
 * `INVALID_ARGUMENT` for several tensors in `'stack'` mode (NumPack's "please provide
 * the array_name argument"), `INVALID_SHAPE` for tensors of different row counts.
 *
 * @example
 * ```ts
 * planTableColumns([{ name: 'x', dtype: 'float32', shape: [10, 3] }]).columns.map((c) => c.name); // ['col0', 'col1', 'col2']
 * ```
 */
export function planTableColumns(specs: readonly TensorSpec[], options: TableWriteOptions = {}): TableWritePlan {
  const mode = options.columns ?? 'stack';
  for (const spec of specs) {
    const reason = tableCannotWrite(spec);
    if (reason) throw new TensioError('UNSUPPORTED_DTYPE', `tensor "${spec.name}": ${reason}`);
  }
  const names = options.columnNames;
  if (mode === 'stack') {
    if (specs.length !== 1) {
      throw new TensioError('INVALID_ARGUMENT', `a stacked table is written from exactly one tensor, got ${specs.length} (${specs.slice(0, 5).map((s) => s.name).join(', ')}); choose one, or write each tensor as its own column with columns: 'separate'`);
    }
    const spec = specs[0]!;
    const shape = spec.shape.length === 0 ? [1] : spec.shape;
    const rows = shape[0]!;
    const written = { [TABLE_TENSOR_METADATA_KEY]: JSON.stringify({ name: spec.name, shape: spec.shape }) };
    if (shape.length === 2) {
      const count = shape[1]!;
      if (names && names.length !== count) {
        throw new TensioError('INVALID_ARGUMENT', `${names.length} column names for a tensor of ${count} columns`);
      }
      const columns = Array.from({ length: count }, (_, index) => ({ name: names?.[index] ?? `col${index}`, dtype: spec.dtype, cellShape: [], tensor: spec.name, columnOfTensor: index }));
      checkUnique(columns.map((column) => column.name));
      return { columns, rows, metadata: written };
    }
    if (names && names.length !== 1) throw new TensioError('INVALID_ARGUMENT', `${names.length} column names for a tensor written as one column`);
    return { rows, metadata: written, columns: [{ name: names?.[0] ?? 'data', dtype: spec.dtype, cellShape: shape.slice(1), tensor: spec.name }] };
  }
  if (mode !== 'separate') throw new TensioError('INVALID_ARGUMENT', `table columns option must be 'stack' or 'separate', got ${String(mode)}`);
  if (names && names.length !== specs.length) throw new TensioError('INVALID_ARGUMENT', `${names.length} column names for ${specs.length} tensors`);
  let rows: number | undefined;
  const columns = specs.map((spec, index) => {
    const shape = spec.shape.length === 0 ? [1] : spec.shape;
    if (rows !== undefined && shape[0] !== rows) {
      throw new TensioError('INVALID_SHAPE', `every column of a table has the same rows: "${specs[0]!.name}" has ${rows}, "${spec.name}" has ${shape[0]}`);
    }
    rows = shape[0]!;
    return { name: names?.[index] ?? spec.name, dtype: spec.dtype, cellShape: shape.slice(1), tensor: spec.name };
  });
  checkUnique(columns.map((column) => column.name));
  return { columns, rows: rows ?? 0, metadata: {} };
}

function checkUnique(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new TensioError('DUPLICATE_NAME', `two columns would be named "${name}"`);
    seen.add(name);
  }
}

/**
 * The key/value metadata a table writer stores: the table's own metadata a table reader
 * kept (`table.metadata.<key>`), the writer's other metadata entries as text (JSON for
 * non-strings), and `written` (the plan's {@link TABLE_TENSOR_METADATA_KEY}). Facts a
 * reader adds about the file it read (`table.*`, `arrow.*`, `parquet.*`) are dropped.
 *
 * @example
 * ```ts
 * tableWriteMetadata({ note: 'hi', 'table.rows': 5 }); // Map { 'note' => 'hi' }
 * ```
 */
export function tableWriteMetadata(metadata: Metadata | undefined, written: Readonly<Record<string, string>> = {}): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(metadata ?? {})) {
    const own = key.startsWith(TABLE_METADATA_PREFIX) ? key.slice(TABLE_METADATA_PREFIX.length) : undefined;
    // The written-tensor record of the table read is stale here: the writer adds its own.
    if (own !== undefined && own !== TABLE_TENSOR_METADATA_KEY) out.set(own, String(value));
  }
  for (const [key, value] of Object.entries(written)) out.set(key, value);
  if (!metadata) return out;
  for (const [key, value] of Object.entries(metadata)) {
    // Facts a table reader adds about the file it read are not user metadata.
    if (key.startsWith('table.') || key.startsWith('arrow.') || key.startsWith('parquet.') || key === 'unsupportedTensors' || key === TABLE_TENSOR_METADATA_KEY) continue;
    out.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

