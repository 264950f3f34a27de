/**
 * tensio/io table functions (NumPack's from_table/to_table, from/to_parquet_file,
 * from/to_feather_file): stores filled from tables and tables written from stores, with
 * NumPack's names and shapes, checked against pyarrow where the oracle is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { createTensor, typedView } from '../src/core/tensor.js';
import { fromFeatherFile, fromParquetFile, fromTable, toFeatherFile, toParquetFile, toTable } from '../src/io/table-io.js';
import { NumPack } from '../src/npk/numpack.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

test('fromTable (apache-arrow Table) → store array "data" (rows, columns) with NumPy promotion; toTable back', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  await fromTable(tableFromArrays({ a: Int32Array.from([1, 2, 3]), b: Float32Array.from([0.5, 1.5, 2.5]) }), store);
  {
    await using npk = await NumPack.open(store, { readOnly: true });
    assert.deepEqual(npk.getMemberList(), ['data']);
    const data = await npk.load('data');
    assert.equal(data.dtype, 'float64');
    assert.deepEqual(data.shape, [3, 2]);
    assert.deepEqual([...(typedView(data) as Float64Array)], [1, 0.5, 2, 1.5, 3, 2.5]);
  }
  const table = await toTable(store);
  assert.deepEqual(table.schema.fields.map((field) => field.name), ['col0', 'col1']);
  assert.deepEqual([...table.getChild('col1')!.toArray()], [0.5, 1.5, 2.5]);
});

test('toParquetFile / toFeatherFile write what pyarrow reads; fromParquetFile / fromFeatherFile name the array after the file stem', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  {
    await using npk = await NumPack.open(store);
    await npk.save({ x: createTensor('float32', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])) });
  }
  await toParquetFile(store, join(dir, 'x.parquet'), { compression: 'zstd', rowGroupSize: 3 });
  await toFeatherFile(store, join(dir, 'x.feather'), { columnNames: ['p', 'q'] });
  const got = JSON.parse(runPython(String.raw`
import sys, json, pyarrow.parquet as pq, pyarrow.feather as f
p = pq.ParquetFile(sys.argv[1])
t = f.read_table(sys.argv[2])
print(json.dumps({'parquet': p.read().to_pydict(), 'groups': p.metadata.num_row_groups, 'codec': p.metadata.row_group(0).column(0).compression, 'feather': t.to_pydict()}))
`, [join(dir, 'x.parquet'), join(dir, 'x.feather')]).stdout) as { parquet: Record<string, number[]>; groups: number; codec: string; feather: Record<string, number[]> };
  assert.deepEqual(got.parquet, { col0: [1, 3, 5, 7], col1: [2, 4, 6, 8] });
  assert.equal(got.groups, 2);
  assert.equal(got.codec, 'ZSTD');
  assert.deepEqual(got.feather, { p: [1, 3, 5, 7], q: [2, 4, 6, 8] });
  const back = join(dir, 'back.npk');
  await fromParquetFile(join(dir, 'x.parquet'), back);
  await fromFeatherFile(join(dir, 'x.feather'), back);
  await using npk = await NumPack.open(back, { readOnly: true });
  assert.deepEqual(npk.getMemberList().sort(), ['x']);
  const x = await npk.load('x');
  assert.deepEqual(x.shape, [4, 2]);
  assert.deepEqual([...(typedView(x) as Float32Array)], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('Arrow (file and stream) and Parquet writers stream: record batches and row groups reach the sink while rows still arrive', async () => {
  const { memorySink } = await import('../src/storage/byte-sink.js');
  const { arrowCreateWriter, arrowOpen } = await import('../src/formats/arrow/index.js');
  const { parquetCreateWriter, parquetOpen } = await import('../src/formats/parquet/index.js');
  const { bytesSource } = await import('../src/storage/byte-source.js');
  const rows = 10_000;
  const values = Float32Array.from({ length: rows * 3 }, (_, i) => i / 7);
  const cases = [
    { name: 'arrow file', create: arrowCreateWriter, open: arrowOpen, formatOptions: { ipc: 'file', batchRows: 1000, compression: 'lz4' } },
    { name: 'arrow stream', create: arrowCreateWriter, open: arrowOpen, formatOptions: { ipc: 'stream', batchRows: 1000 } },
    { name: 'parquet', create: parquetCreateWriter, open: parquetOpen, formatOptions: { rowGroupSize: 1000 } },
  ] as const;
  for (const { name, create, open, formatOptions } of cases) {
    const sink = memorySink();
    const writer = await create(sink, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 3] }], formatOptions });
    const seen: number[] = [];
    // Rows arrive 500 at a time; the sink's size is noted before each piece.
    async function* pieces() {
      const bytes = new Uint8Array(values.buffer);
      for (let row = 0; row < rows; row += 500) {
        seen.push(sink.position);
        yield bytes.subarray(row * 12, (row + 500) * 12);
      }
    }
    await writer.add('t', pieces());
    await writer.close();
    // Half-way through the input, at least 4 batches (of 1000 rows, 12 KB each) were written.
    assert.ok(seen[10]! >= 4 * 12_000, `${name}: ${seen[10]} bytes written after 5000 rows`);
    const reader = await open(bytesSource(sink.bytes()));
    assert.deepEqual([...new Float32Array((await reader.read('t')).data.slice().buffer)], [...values], name);
    await reader.close();
  }
});

test('convert of several tensors into one table: each tensor a column (Feather keeps N-D cells; Parquet takes 1-D ones and names the tensor to leave out); unequal rows refused', async (t) => {
  const { convert } = await import('../src/operations/convert.js');
  const { arrowOpen } = await import('../src/formats/arrow/index.js');
  const { parquetOpen } = await import('../src/formats/parquet/index.js');
  const { writeWithFormat } = await import('./helpers/cli.js');
  const { isTensioError } = await import('../src/core/errors.js');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'tensio-multi-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tensors = {
    a: createTensor('float32', [5], Float32Array.from([1.5, 2, 3, 4, 5])),
    b: createTensor('int32', [5], Int32Array.from([-1, 2, -3, 4, -5])),
    c: createTensor('float64', [5, 2], Float64Array.from({ length: 10 }, (_, i) => i / 4)),
  };
  const write = (path: string, chosen: Record<string, ReturnType<typeof createTensor>>) => writeWithFormat('safetensors', path, chosen);
  const source = join(dir, 'm.safetensors');
  await write(source, tensors);
  await convert(source, join(dir, 'm.feather'));
  {
    await using reader = await arrowOpen(join(dir, 'm.feather'), { formatOptions: { columns: 'separate' } });
    // Columns in the order the input holds its tensors (safetensors: by alignment, then name).
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]).sort(), [['a', 'float32', [5]], ['b', 'int32', [5]], ['c', 'float64', [5, 2]]]);
    for (const [name, tensor] of Object.entries(tensors)) assert.deepEqual((await reader.read(name)).data, tensor.data, name);
  }
  await assert.rejects(convert(source, join(dir, 'm.parquet')), (error: unknown) => isTensioError(error, 'UNSUPPORTED_FEATURE') && /leave tensor "c" out \(--tensors\)/.test((error as Error).message));
  await convert(source, join(dir, 'm.parquet'), { tensors: ['a', 'b'] });
  {
    await using reader = await parquetOpen(join(dir, 'm.parquet'), { formatOptions: { columns: 'separate' } });
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]).sort(), [['a', 'float32', [5]], ['b', 'int32', [5]]]);
    for (const name of ['a', 'b'] as const) assert.deepEqual((await reader.read(name)).data, tensors[name].data, name);
  }
  const uneven = join(dir, 'uneven.safetensors');
  await write(uneven, { a: tensors.a, d: createTensor('float32', [4], new Float32Array(4)) });
  await assert.rejects(convert(uneven, join(dir, 'uneven.feather')), (error: unknown) => isTensioError(error));
});

test("tensio/io keeps NumPack's table names in camelCase (issue 11's list), the kept aliases being the same functions", async () => {
  const io = await import('../src/io/index.js') as Record<string, unknown>;
  const names = ['fromTable', 'toTable', 'fromParquetTable', 'toParquetTable', 'fromParquetFile', 'toParquetFile', 'fromParquet', 'toParquet',
    'fromFeatherFile', 'toFeatherFile', 'fromFeather', 'toFeather', 'fromCsv', 'toCsv', 'fromTxt', 'toTxt', 'fromDataFrame', 'toDataFrame', 'toDlpack', 'fromDlpack'];
  assert.deepEqual(names.filter((name) => typeof io[name] !== 'function'), []);
  assert.equal(io.fromParquetTable, fromTable);
  assert.equal(io.toParquetTable, toTable);
  assert.equal(io.fromParquet, fromParquetFile);
  assert.equal(io.toParquet, toParquetFile);
  assert.equal(io.fromFeather, fromFeatherFile);
  assert.equal(io.toFeather, toFeatherFile);
});
