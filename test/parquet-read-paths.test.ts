/**
 * The Parquet reader's fast paths against pyarrow on files pyarrow writes: many row
 * groups of several pages each (a column read alone decodes two row groups at once, each
 * page straight into its rows of the tensor), dictionary pages with nulls (data page v1
 * and v2), a dictionary that falls back to PLAIN mid-chunk; every column read stacked and
 * separate, whole and as row ranges across row groups, equal to what pyarrow reads
 * (nulls as NaN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { openTensorFile } from '../src/operations/open.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Writes the files and, for each column, what pyarrow reads back (`<file>.<column>.npy`, nulls NaN). */
const WRITE_FILES = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
rng = np.random.default_rng(5)
n = 5000
files = {}
cols = {'f32': (rng.integers(-1000, 1000, n) / 8).astype(np.float32), 'f64': rng.random(n), 'i32': rng.integers(-2**31, 2**31, n, dtype=np.int32), 'i64': rng.integers(-2**62, 2**62, n, dtype=np.int64)}
schema = pa.schema([pa.field(k, pa.from_numpy_dtype(v.dtype), nullable=False) for k, v in cols.items()])
files['plain'] = pa.table(cols, schema=schema), dict(use_dictionary=False, row_group_size=1000, data_page_size=1024)
for version in ['1.0', '2.0']:
    a = (rng.integers(0, 300, (n, 4)) / 4).astype(np.float32)
    mask = rng.random((n, 4)) < 0.1
    files['dict-v' + version[0]] = pa.table({f'c{i}': pa.array(a[:, i], mask=mask[:, i]) for i in range(4)}), dict(row_group_size=3000, data_page_size=2048, data_page_version=version)
r = rng.random((n, 3), dtype=np.float32)
files['fallback'] = pa.table({f'r{i}': r[:, i] for i in range(3)}), dict(row_group_size=n, dictionary_pagesize_limit=4096, data_page_size=4096)
for name, (table, options) in files.items():
    path = f'{d}/{name}.parquet'
    pq.write_table(table, path, compression='snappy', **options)
    back = pq.read_table(path)
    for column in back.column_names:
        values = back.column(column).to_numpy()
        np.save(f'{path}.{column}.npy', values.astype(values.dtype.newbyteorder('<')))
    print(name, pq.ParquetFile(path).metadata.num_row_groups, back.num_rows)
`;

async function expected(path: string, column: string): Promise<Uint8Array> {
  await using npy = await openTensorFile(`${path}.${column}.npy`);
  return (await npy.read(npy.tensors[0]!.name)).data;
}

/** Rows `[start, end)` of a column's bytes. */
const rowsOf = (bytes: Uint8Array, item: number, start: number, end: number) => bytes.subarray(start * item, end * item);

test('Parquet fast paths: columns of many row groups and pages, dictionary pages with nulls (v1, v2), a dictionary falling back to PLAIN; stacked and separate, whole and row ranges, equal to pyarrow', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const listing = runPython(WRITE_FILES, [dir]).stdout.trim().split('\n').map((line) => line.split(' '));
  assert.deepEqual(listing.map(([name, groups]) => [name, Number(groups)]), [['plain', 5], ['dict-v1', 2], ['dict-v2', 2], ['fallback', 1]]);
  for (const [name] of listing) {
    const path = join(dir, `${name}.parquet`);
    await using separate = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
    const columns = separate.tensors.map((info) => info.name);
    for (const info of separate.tensors) {
      const want = await expected(path, info.name);
      const item = want.byteLength / 5000;
      assert.deepEqual((await separate.read(info.name)).data, want, `${name}: column ${info.name}`);
      // Row ranges inside one row group, across row groups, to the end.
      for (const [start, end] of [[10, 20], [999, 1001], [1500, 3700], [2999, 5000]] as const) {
        assert.deepEqual((await separate.read(info.name, { slice: { start, end } })).data, rowsOf(want, item, start, end), `${name}: ${info.name} rows ${start}..${end}`);
      }
    }
    // Stacked (one dtype per file but 'plain', whose columns promote to float64: its own file of float32 columns is not needed here).
    if (name === 'plain') continue;
    await using stacked = await parquetOpen(path);
    const table = (await stacked.read(stacked.tensors[0]!.name)).data;
    const wants = await Promise.all(columns.map((column) => expected(path, column)));
    const stackedView = new Uint32Array(table.buffer, table.byteOffset, table.byteLength / 4);
    for (const [c, want] of wants.entries()) {
      const column = new Uint32Array(want.buffer, want.byteOffset, want.byteLength / 4);
      const got = Uint32Array.from({ length: column.length }, (_, row) => stackedView[row * columns.length + c]!);
      assert.deepEqual(got, column, `${name}: stacked column ${c}`);
    }
    // A stacked row range across the row groups, and one column selected.
    await using ranged = await parquetOpen(path, { formatOptions: { rows: { start: 2500, end: 3600 }, select: [columns[1]!] } });
    assert.deepEqual((await ranged.read(ranged.tensors[0]!.name)).data, rowsOf(wants[1]!, 4, 2500, 3600), `${name}: rows 2500..3600 of ${columns[1]}`);
  }
});

/** Writes row groups large enough to be placed in bands (16 MiB of decoded columns or more), and what pyarrow reads back. */
const WRITE_LARGE = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
rng = np.random.default_rng(9)
n = 1_100_000
for version in ['1.0', '2.0']:
    a = (rng.integers(0, 300, (n, 3)) / 4).astype(np.float32)
    mask = rng.random((n, 3)) < 0.1
    columns = {f'c{i}': pa.array(a[:, i], mask=mask[:, i]) for i in range(3)}
    columns['r'] = pa.array(rng.random(n, dtype=np.float32))
    pq.write_table(pa.table(columns), f'{d}/large-v{version[0]}.parquet', compression='snappy', data_page_size=65536, dictionary_pagesize_limit=4096, data_page_version=version)
f64 = {'d': (rng.integers(0, 5000, n) / 3).astype(np.float64), 'p': rng.random(n)}
schema = pa.schema([pa.field(k, pa.float64(), nullable=False) for k in f64])
pq.write_table(pa.table(f64, schema=schema), f'{d}/large-f64.parquet', compression='snappy', data_page_size=65536, use_dictionary=['d'])
for name in ['large-v1', 'large-v2', 'large-f64']:
    path = f'{d}/{name}.parquet'
    back = pq.read_table(path)
    for column in back.column_names:
        np.save(f'{path}.{column}.npy', back.column(column).to_numpy())
    print(name, pq.ParquetFile(path).metadata.num_row_groups, back.num_rows)
`;

test('Parquet stacked reads of a large row group, placed in bands, then a small one: dictionary pages with nulls (v1, v2) beside a dictionary falling back to PLAIN, 8-byte values; whole and a row range, equal to pyarrow', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const rows = 1_100_000;
  const listing = runPython(WRITE_LARGE, [dir]).stdout.trim().split('\n').map((line) => line.split(' '));
  assert.deepEqual(listing.map(([name, groups, count]) => [name, Number(groups), Number(count)]), [['large-v1', 2, rows], ['large-v2', 2, rows], ['large-f64', 2, rows]], 'pyarrow’s row groups of 1,048,576 rows (16 MiB of these columns: in bands), then the rest (placed whole)');
  for (const [name] of listing) {
    const path = join(dir, `${name}.parquet`);
    await using reader = await parquetOpen(path);
    const info = reader.tensors[0]!;
    const columns = info.shape[1]!;
    const words = info.dtype === 'float64' ? 2 : 1;
    const wants = await Promise.all(Array.from({ length: columns }, (_, c) => expected(path, name === 'large-f64' ? ['d', 'p'][c]! : c === 3 ? 'r' : `c${c}`)));
    const check = (table: Uint8Array, start: number, end: number, what: string) => {
      const got = new Uint32Array(table.buffer, table.byteOffset, table.byteLength / 4);
      for (const [c, want] of wants.entries()) {
        const column = new Uint32Array(want.buffer, want.byteOffset, want.byteLength / 4).subarray(start * words, end * words);
        const picked = new Uint32Array(column.length);
        for (let row = 0; row < end - start; row++) for (let w = 0; w < words; w++) picked[row * words + w] = got[(row * columns + c) * words + w]!;
        assert.deepEqual(picked, column, `${name} ${what}: column ${c}`);
      }
    };
    check((await reader.read(info.name)).data, 0, rows, 'whole');
    await using ranged = await parquetOpen(path, { formatOptions: { rows: { start: 123_457, end: 1_060_003 } } });
    check((await ranged.read(ranged.tensors[0]!.name)).data, 123_457, 1_060_003, 'rows 123457..1060003 (across the row groups)');
  }
});
