/** Table ↔ tensor semantics (src/model/table*.ts), shared by every table format. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import { typedView } from '../src/core/tensor.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { planTableColumns, planTableTensors, tablePromoteDTypes, type TableColumn, type TableSchema } from '../src/model/table.js';
import { tableBatchToBytes, tableColumnValues, tableJoinColumns, tableSplitColumns, type TableColumnBatch } from '../src/model/table-cells.js';
import { createTableReader, type TableBatch } from '../src/model/table-reader.js';
import { UNSUPPORTED_TENSORS_KEY } from '../src/model/types.js';
import { oracleSkip, runPython } from './helpers/oracle.js';

const NUMERIC: DType[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64'];

test('dtype promotion equals numpy.result_type for every pair of column dtypes', { skip: oracleSkip('numpy') }, () => {
  const out = runPython(`
import numpy as np, json, sys
names = sys.argv[1].split(',')
print(json.dumps({a + ',' + b: str(np.result_type(np.dtype(a), np.dtype(b))) for a in names for b in names}))
`, [NUMERIC.join(',')]);
  const expected = JSON.parse(out.stdout) as Record<string, string>;
  let checked = 0;
  for (const a of NUMERIC) {
    for (const b of NUMERIC) {
      assert.equal(tablePromoteDTypes([a, b]), expected[`${a},${b}`], `${a} + ${b}`);
      checked++;
    }
  }
  assert.equal(checked, NUMERIC.length ** 2);
});

test('dtype promotion without the oracle: a few NumPy facts and the empty table', () => {
  assert.equal(tablePromoteDTypes([]), 'float64');
  assert.equal(tablePromoteDTypes(['int32', 'float32']), 'float64');
  assert.equal(tablePromoteDTypes(['int8', 'uint8']), 'int16');
  assert.equal(tablePromoteDTypes(['int64', 'uint64']), 'float64');
  assert.equal(tablePromoteDTypes(['bool', 'bool']), 'bool');
  assert.equal(tablePromoteDTypes(['uint8', 'float16']), 'float16');
});

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const i32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);
const i64 = (values: number[]) => new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);

/** A table of two batches (3 + 2 rows): x float32, n int32 with a null in row 3, s strings, v fixed-size list of 2 int64. */
function sampleTable(): { schema: TableSchema; batches: TableBatch[]; loads: number[][] } {
  const columns: TableColumn[] = [
    { name: 'x', dtype: 'float32', typeName: 'float', nullCount: 0, cellShape: [] },
    { name: 'n', dtype: 'int32', typeName: 'int32', nullCount: 1, cellShape: [] },
    { name: 's', typeName: 'utf8', nullCount: 0, cellShape: [] },
    { name: 'v', dtype: 'int64', typeName: 'fixed_size_list<int64>[2]', nullCount: 0, cellShape: [2] },
  ];
  const data: TableColumnBatch[][] = [
    [{ values: f32([1, 2, 3]) }, { values: i32([10, 20, 30]) }, { values: new Uint8Array() }, { values: i64([1, 2, 3, 4, 5, 6]) }],
    [{ values: f32([4, 5]) }, { values: i32([0, 50]), validity: new Uint8Array([0b10]) }, { values: new Uint8Array() }, { values: i64([7, 8, 9, 10]) }],
  ];
  const loads: number[][] = [];
  const batches = data.map((columnsData, index): TableBatch => ({
    rows: index === 0 ? 3 : 2,
    offset: 0,
    storedLength: 0,
    label: `batch ${index}`,
    async load(wanted) {
      loads.push([index, ...wanted]);
      return columnsData.map((column, at) => (wanted.includes(at) ? column : undefined));
    },
  }));
  return { schema: { columns, rows: 5, metadata: { origin: 'test' } }, batches, loads };
}

const source = bytesSource(new Uint8Array(16));

test('default: numeric scalar columns stack into one (rows, columns) tensor; nullable int → float64 with NaN', async () => {
  const { schema, batches } = sampleTable();
  const reader = createTableReader({ format: 'test', source, schema, batches, options: { skipNonNumeric: true } });
  assert.deepEqual(reader.tensors.map((t) => [t.name, t.dtype, t.shape]), [['data', 'float64', [5, 2]], ['v', 'int64', [5, 2]]]);
  const data = typedView(await reader.read('data')) as Float64Array;
  assert.deepEqual([...data], [1, 10, 2, 20, 3, 30, 4, Number.NaN, 5, 50]);
  const v = typedView(await reader.read('v')) as BigInt64Array;
  assert.deepEqual([...v].map(Number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual((reader.metadata[UNSUPPORTED_TENSORS_KEY] as { name: string }[]).map((entry) => entry.name), ['s']);
  assert.equal(reader.metadata['table.metadata.origin'], 'test');
  assert.deepEqual(reader.metadata['table.stackedColumns'], ['x', 'n']);
});

test('a non-numeric column is an error naming the column and its type', () => {
  const { schema, batches } = sampleTable();
  assert.throws(() => createTableReader({ format: 'test', source, schema, batches }), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE') && /column "s" of type utf8/.test((err as Error).message));
});

test('separate columns, selection and a row range that reads only the batches it touches', async () => {
  const { schema, batches, loads } = sampleTable();
  const reader = createTableReader({ format: 'test', source, schema, batches, options: { columns: 'separate', select: ['n', 'x'], rows: { start: 3 } } });
  assert.deepEqual(reader.tensors.map((t) => [t.name, t.dtype, t.shape]), [['n', 'float64', [2]], ['x', 'float32', [2]]]);
  assert.deepEqual([...(typedView(await reader.read('x')) as Float32Array)], [4, 5]);
  assert.deepEqual([...(typedView(await reader.read('n')) as Float64Array)], [Number.NaN, 50]);
  assert.ok(loads.every(([batch]) => batch === 1), `only batch 1 loaded: ${JSON.stringify(loads)}`);
  assert.ok(loads.every((load) => !load.slice(1).includes(2) && !load.slice(1).includes(3)), 'only the selected columns loaded');
  const slice = typedView(await reader.read('x', { slice: { start: 1, end: 2 } })) as Float32Array;
  assert.deepEqual([...slice], [5]);
});

test('unknown selected column: NOT_FOUND listing the columns', () => {
  const { schema, batches } = sampleTable();
  assert.throws(() => createTableReader({ format: 'test', source, schema, batches, options: { select: ['nope'] } }), (err: unknown) => isTensioError(err, 'NOT_FOUND') && /x, n, s, v/.test((err as Error).message));
});

test('empty tables read as float64 (rows, columns): 0 rows, 0 columns', async () => {
  const noRows = createTableReader({ format: 'test', source, schema: { rows: 0, columns: [{ name: 'a', dtype: 'int8', typeName: 'int8', nullCount: 0, cellShape: [] }, { name: 'b', dtype: 'float32', typeName: 'float', nullCount: 0, cellShape: [] }] }, batches: [] });
  assert.deepEqual(noRows.tensors.map((t) => [t.name, t.dtype, t.shape]), [['data', 'float32', [0, 2]]]);
  assert.equal((await noRows.read('data')).data.byteLength, 0);
  const noColumns = createTableReader({ format: 'test', source, schema: { rows: 0, columns: [] }, batches: [] });
  assert.deepEqual(noColumns.tensors.map((t) => [t.name, t.dtype, t.shape]), [['data', 'float64', [0, 0]]]);
});

test('batches that do not add up to the declared rows are refused', () => {
  const { schema, batches } = sampleTable();
  assert.throws(() => createTableReader({ format: 'test', source, schema: { ...schema, rows: 6 }, batches, options: { skipNonNumeric: true } }), (err: unknown) => isTensioError(err, 'SIZE_MISMATCH'));
});

test('planTableTensors: stacked int columns keep an integer dtype; nullCount unknown is treated as nullable', () => {
  const columns: TableColumn[] = [
    { name: 'a', dtype: 'int8', typeName: 'int8', nullCount: 0, cellShape: [] },
    { name: 'b', dtype: 'uint8', typeName: 'uint8', nullCount: 0, cellShape: [] },
  ];
  assert.equal(planTableTensors({ rows: 1, columns }).tensors[0]!.spec.dtype, 'int16');
  assert.equal(planTableTensors({ rows: 1, columns: [{ ...columns[0]!, nullCount: undefined }] }).tensors[0]!.spec.dtype, 'float64');
});

test('planTableColumns: NumPack names (data, col0…), N-D as fixed-shape cells, separate columns, mismatched rows', () => {
  assert.deepEqual(planTableColumns([{ name: 'a', dtype: 'float32', shape: [4] }]).columns.map((c) => [c.name, c.cellShape]), [['data', []]]);
  assert.deepEqual(planTableColumns([{ name: 'a', dtype: 'float32', shape: [4, 3] }]).columns.map((c) => c.name), ['col0', 'col1', 'col2']);
  assert.deepEqual(planTableColumns([{ name: 'a', dtype: 'float32', shape: [4, 3] }], { columnNames: ['p', 'q', 'r'] }).columns.map((c) => c.name), ['p', 'q', 'r']);
  assert.deepEqual(planTableColumns([{ name: 'a', dtype: 'int8', shape: [4, 2, 3] }]).columns.map((c) => [c.name, c.cellShape]), [['data', [2, 3]]]);
  assert.deepEqual(planTableColumns([{ name: 'a', dtype: 'int8', shape: [4, 2] }, { name: 'b', dtype: 'float64', shape: [4] }], { columns: 'separate' }).columns.map((c) => [c.name, c.cellShape]), [['a', [2]], ['b', []]]);
  assert.throws(() => planTableColumns([{ name: 'a', dtype: 'int8', shape: [4] }, { name: 'b', dtype: 'int8', shape: [3] }], { columns: 'separate' }), (err: unknown) => isTensioError(err, 'INVALID_SHAPE'));
  assert.throws(() => planTableColumns([{ name: 'a', dtype: 'int8', shape: [4] }, { name: 'b', dtype: 'int8', shape: [4] }]), (err: unknown) => isTensioError(err, 'INVALID_ARGUMENT'));
  assert.throws(() => planTableColumns([{ name: 'a', dtype: 'complex64', shape: [4] }]), (err: unknown) => isTensioError(err, 'UNSUPPORTED_DTYPE'));
});

test('tableColumnValues gathers one column of a stacked tensor from its rows', () => {
  const plan = planTableColumns([{ name: 'a', dtype: 'float32', shape: [3, 2] }]);
  const rows = f32([1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...new Float32Array(tableColumnValues(plan.columns[1]!, rows, 3, 2).buffer)], [2, 4, 6]);
  const plan16 = planTableColumns([{ name: 'a', dtype: 'int16', shape: [2, 2] }]);
  assert.deepEqual([...new Int16Array(tableColumnValues(plan16.columns[0]!, new Uint8Array(new Int16Array([7, 8, 9, 10]).buffer), 2, 2).buffer)], [7, 9]);
});

test('tableJoinColumns is the inverse of tableSplitColumns for 1-, 2-, 4- and 8-byte items, aligned or not, NaN payloads kept, for fewer than, exactly and more than eight columns (moved eight at a time)', () => {
  for (const [item, shift, columns] of [1, 2, 4, 8].flatMap((item) => [0, 1].flatMap((shift) => [5, 8, 19].map((columns) => [item, shift, columns] as const)))) {
    {
      const rows = 1037;
      const backing = new Uint8Array(rows * columns * item + shift);
      for (let i = 0; i < backing.length; i++) backing[i] = (i * 2654435761) >>> 24;
      const bytes = backing.subarray(shift);
      const split = tableSplitColumns(bytes, rows, columns, item);
      for (const [c, column] of split.entries()) {
        const expected = new Uint8Array(rows * item);
        for (let row = 0; row < rows; row++) expected.set(bytes.subarray((row * columns + c) * item, (row * columns + c + 1) * item), row * item);
        assert.ok(Buffer.from(column).equals(expected), `item ${item} of ${columns} columns: column ${c} equals an element-by-element gather`);
      }
      const unaligned = split.map((column) => { const copy = new Uint8Array(column.byteLength + shift); copy.set(column, shift); return copy.subarray(shift); });
      assert.deepEqual(tableJoinColumns(unaligned, rows, item), bytes, `item ${item}, shift ${shift}, ${columns} columns`);
    }
  }
});

test('tableSplitColumns into given buffers: the columns are views of them, a shorter band after a longer one, too-small buffers refused', () => {
  const columns = 3;
  const buffers = Array.from({ length: columns }, () => new Uint8Array(100 * 4));
  for (const rows of [100, 37]) {
    const bytes = new Uint8Array(Float32Array.from({ length: rows * columns }, (_, i) => i + rows).buffer);
    const split = tableSplitColumns(bytes, rows, columns, 4, buffers);
    for (const [c, column] of split.entries()) {
      assert.equal(column.buffer, buffers[c]!.buffer, `rows ${rows}: column ${c} written into its buffer`);
      assert.deepEqual([...new Float32Array(column.buffer, column.byteOffset, rows)], Array.from({ length: rows }, (_, r) => r * columns + c + rows), `rows ${rows}: column ${c}`);
    }
  }
  assert.throws(() => tableSplitColumns(new Uint8Array(101 * columns * 4), 101, columns, 4, buffers), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
  assert.throws(() => tableSplitColumns(new Uint8Array(8), 1, 2, 4, buffers), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
});

test('a whole stacked read gives each batch its loaded columns back (release) once placed; one-column reads get their tensor bytes (TableLoadInto)', async () => {
  const columns = ['a', 'b'].map((name) => ({ name, dtype: 'float32' as const, typeName: 'float', nullCount: 0, cellShape: [] }));
  const released: number[] = [];
  const intos: number[] = [];
  const batches: TableBatch[] = [0, 1].map((index) => ({
    rows: 2, offset: 0, storedLength: 0, label: `batch ${index}`,
    async load(wanted, _signal, into) {
      if (into) intos.push(index);
      return [0, 1].map((column) => (wanted.includes(column) ? { values: new Uint8Array(Float32Array.from([index * 10 + column, index * 10 + column + 0.5]).buffer) } : undefined));
    },
    release(data) {
      released.push(index);
      // Whatever the format does with the buffers now, the tensor already holds the values.
      for (const column of data) column?.values.fill(0xff);
    },
  }));
  const stacked = createTableReader({ format: 'test', source, schema: { columns, rows: 4 }, batches });
  assert.deepEqual([...(typedView(await stacked.read('data')) as Float32Array)], [0, 1, 0.5, 1.5, 10, 11, 10.5, 11.5]);
  assert.deepEqual(released, [0, 1]);
  const separate = createTableReader({ format: 'test', source, schema: { columns, rows: 4 }, batches, options: { columns: 'separate' } });
  assert.deepEqual([...(typedView(await separate.read('b')) as Float32Array)], [1, 1.5, 11, 11.5]);
  assert.deepEqual(intos, [0, 1], 'a one-column read offers its bytes');
  assert.deepEqual(released, [0, 1], 'a column read releases nothing');
});

test('tableBatchToBytes with columns the format placed in the rows itself: the others joined or converted into their places, placed nulls as NaN, an integer null refused', () => {
  const rows = 37;
  const bytesOf = (dtype: 'float32' | 'float64' | 'int32', values: number[]) => new Uint8Array((dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Int32Array).from(values).buffer);
  for (const [dtype, count, placedAt] of [['float32', 40, [3, 30]], ['float64', 5, [0, 4]], ['float32', 3, [1]], ['int32', 20, [19]]] as const) {
    const columns: TableColumn[] = Array.from({ length: count }, (_, c) => ({ name: `c${c}`, dtype, typeName: dtype, nullCount: 0, cellShape: [] }));
    const schema: TableSchema = { rows, columns };
    const plan = planTableTensors(schema).tensors[0]!;
    assert.equal(plan.kind, 'stack');
    const value = (row: number, c: number) => row * 100 + c + 0.5 * (dtype !== 'int32' ? 1 : 0);
    const full = columns.map((_, c) => bytesOf(dtype, Array.from({ length: rows }, (_, row) => value(row, c))));
    const expected = tableJoinColumns(full, rows, dtype === 'float64' ? 8 : 4);
    // The placed columns' values written into the rows, as the format would; a null row is zero bytes there.
    const out = new Uint8Array(expected.byteLength).fill(0x7f);
    const view = typedView({ dtype, shape: [rows * count], data: out }) as Float32Array | Float64Array | Int32Array;
    const wanted = typedView({ dtype, shape: [rows * count], data: expected.slice() }) as Float32Array | Float64Array | Int32Array;
    const validity = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
    validity[0]! &= ~(1 << 2); // row 2 null in every placed column
    for (const c of placedAt) {
      for (let row = 0; row < rows; row++) view[row * count + c] = row === 2 ? 0 : value(row, c);
      wanted[2 * count + c] = Number.NaN;
    }
    const batch: TableColumnBatch[] = columns.map((_, c) => (placedAt as readonly number[]).includes(c) ? { values: new Uint8Array(0), placed: true, validity } : { values: full[c]! });
    if (dtype === 'int32') {
      assert.throws(() => tableBatchToBytes(schema, plan, batch, 0, rows, out), (error: unknown) => isTensioError(error) && error.code === 'INVALID_LAYOUT' && /"c19" has a null in row 2/.test(error.message));
      continue;
    }
    assert.equal(tableBatchToBytes(schema, plan, batch, 0, rows, out), out);
    assert.deepEqual(view, wanted, `${dtype} × ${count}, placed ${placedAt.join(', ')}`);
    // Without the rows to write into, placed columns cannot be read.
    assert.throws(() => tableBatchToBytes(schema, plan, batch, 0, rows), (error: unknown) => isTensioError(error) && error.code === 'INVALID_STATE');
  }
  // An unplaced column with nulls beside a placed one: converted into its place, its null NaN too.
  const columns: TableColumn[] = [0, 1].map((c) => ({ name: `n${c}`, dtype: 'float32', typeName: 'float', nullCount: 1, cellShape: [] }));
  const schema: TableSchema = { rows: 4, columns };
  const plan = planTableTensors(schema).tensors[0]!;
  const out = new Uint8Array(new Float32Array([0, 10, 0, 11, 0, 12, 0, 0]).buffer);
  tableBatchToBytes(schema, plan, [{ values: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), validity: Uint8Array.of(0b0111) }, { values: new Uint8Array(0), placed: true, validity: Uint8Array.of(0b0111) }], 0, 4, out);
  assert.deepEqual([...new Float32Array(out.buffer)], [1, 10, 2, 11, 3, 12, Number.NaN, Number.NaN]);
});
