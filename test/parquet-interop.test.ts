/**
 * Parquet against pyarrow and DuckDB: files tensio writes (every compression, row
 * groups, statistics, stacked and separate columns) read equal by pyarrow (values, row
 * groups, statistics) and by DuckDB (`SELECT *` and aggregates); files pyarrow writes
 * (nulls, several row groups) read by tensio with selection and row ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTensor, typedView, type Tensor } from '../src/core/tensor.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { parquetCreateWriter } from '../src/formats/parquet/writer.js';
import { convert } from '../src/operations/convert.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const numbers = (tensor: Tensor) => [...(typedView(tensor) as ArrayLike<number | bigint> & Iterable<number | bigint>)].map(Number);

const PYARROW_AND_DUCKDB = String.raw`
import sys, json, math
import pyarrow.parquet as pq
path = sys.argv[1]
f = pq.ParquetFile(path)
t = f.read()
md = f.metadata
out = {
  'columns': {n: [None if (isinstance(v, float) and math.isnan(v)) else (int(v) if isinstance(v, bool) else v) for v in t.column(n).to_pylist()] for n in t.column_names},
  'types': {n: str(t.schema.field(n).type) for n in t.column_names},
  'rowGroups': md.num_row_groups,
  'codec': md.row_group(0).column(0).compression if md.num_row_groups else None,
  'stats': [[md.row_group(g).column(c).statistics.min if md.row_group(g).column(c).is_stats_set else None for c in range(md.num_columns)] for g in range(md.num_row_groups)],
  'metadata': {k.decode(): v.decode() for k, v in (f.schema_arrow.metadata or {}).items()},
}
try:
    import duckdb
    con = duckdb.connect()
    rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
    cols = [d[0] for d in con.description]
    out['duckdb'] = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    out['duckdbSum'] = {c: con.execute(f'SELECT sum("{c}")::DOUBLE, count(*) FROM read_parquet(\'{path}\')').fetchone() for c in cols}
except ImportError:
    out['duckdb'] = None
print(json.dumps(out, default=str))
`;

test('tensio-written Parquet (snappy, gzip, zstd, brotli, none; row groups; statistics) reads equal in pyarrow and DuckDB', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const rows = 2345;
  const matrix = createTensor('float32', [rows, 3], Float32Array.from({ length: rows * 3 }, (_, i) => (i % 997) * 0.25 - 50));
  for (const compression of ['snappy', 'gzip', 'zstd', 'brotli', 'none'] as const) {
    const path = join(dir, `m_${compression}.parquet`);
    const writer = await parquetCreateWriter(path, { tensors: [{ name: 'm', dtype: 'float32', shape: [rows, 3] }], metadata: { note: 'x' }, formatOptions: { compression, rowGroupSize: 1000 } });
    await writer.add('m', matrix.data);
    await writer.close();
    const got = JSON.parse(runPython(PYARROW_AND_DUCKDB, [path]).stdout) as { columns: Record<string, number[]>; rowGroups: number; codec: string; stats: (number | null)[][]; metadata: Record<string, string>; duckdb: Record<string, number[]> | null; duckdbSum: Record<string, [number, number]> };
    assert.equal(got.rowGroups, 3, `${compression}: row groups of 1000`);
    assert.equal(got.codec, compression === 'none' ? 'UNCOMPRESSED' : compression.toUpperCase());
    assert.equal(got.metadata.note, 'x');
    const values = numbers(matrix);
    for (let c = 0; c < 3; c++) {
      const column = values.filter((_, i) => i % 3 === c);
      assert.deepEqual(got.columns[`col${c}`], column, `${compression}: col${c} in pyarrow`);
      assert.equal(got.stats[0]![c], Math.min(...column.slice(0, 1000)), `${compression}: min statistic of col${c}, row group 0`);
      if (got.duckdb) {
        assert.deepEqual(got.duckdb[`col${c}`], column, `${compression}: col${c} in DuckDB`);
        assert.equal(got.duckdbSum[`col${c}`]![1], rows);
        assert.ok(Math.abs(got.duckdbSum[`col${c}`]![0] - column.reduce((a, b) => a + b, 0)) < 1e-6 * rows * 100);
      }
    }
    if (!got.duckdb) t.diagnostic('skipped DuckDB: python duckdb not installed in the oracle venv');
    // and back through tensio: the written-tensor record restores name and shape
    const reader = await parquetOpen(path);
    try {
      assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['m', 'float32', [rows, 3]]]);
      assert.deepEqual(numbers(await reader.read('m', { slice: { start: 999, end: 1002 } })), values.slice(999 * 3, 1002 * 3));
    } finally {
      await reader.close();
    }
  }
});

test('tensio-written separate integer and boolean columns keep their types in pyarrow (uint32 widens to int64)', { skip: oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 's.parquet');
  const specs = [
    { name: 'i8', dtype: 'int8' as const, shape: [5] }, { name: 'u16', dtype: 'uint16' as const, shape: [5] },
    { name: 'u32', dtype: 'uint32' as const, shape: [5] }, { name: 'u64', dtype: 'uint64' as const, shape: [5] },
    { name: 'i64', dtype: 'int64' as const, shape: [5] }, { name: 'flag', dtype: 'bool' as const, shape: [5] }, { name: 'f64', dtype: 'float64' as const, shape: [5] },
  ];
  const data = {
    i8: createTensor('int8', [5], Int8Array.from([-128, -1, 0, 1, 127])),
    u16: createTensor('uint16', [5], Uint16Array.from([0, 1, 2, 65534, 65535])),
    u32: createTensor('uint32', [5], Uint32Array.from([0, 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1])),
    u64: createTensor('uint64', [5], BigUint64Array.from([0n, 1n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 2n ** 12n])),
    i64: createTensor('int64', [5], BigInt64Array.from([-(2n ** 40n), -1n, 0n, 1n, 2n ** 40n])),
    flag: createTensor('bool', [5], [true, false, false, true, true]),
    f64: createTensor('float64', [5], Float64Array.from([Math.PI, -0, 1e300, -1e-300, 2])),
  };
  const writer = await parquetCreateWriter(path, { tensors: specs, formatOptions: { columns: 'separate', compression: 'zstd' } });
  for (const spec of specs) await writer.add(spec.name, data[spec.name as keyof typeof data].data);
  await writer.close();
  const got = JSON.parse(runPython(PYARROW_AND_DUCKDB, [path]).stdout) as { columns: Record<string, number[]>; types: Record<string, string> };
  assert.deepEqual(got.types, { i8: 'int8', u16: 'uint16', u32: 'int64', u64: 'uint64', i64: 'int64', flag: 'bool', f64: 'double' });
  for (const spec of specs) assert.deepEqual(got.columns[spec.name], numbers(data[spec.name as keyof typeof data]), spec.name);
  const reader = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
  try {
    for (const spec of specs) assert.deepEqual(numbers(await reader.read(spec.name)), numbers(data[spec.name as keyof typeof data]));
  } finally {
    await reader.close();
  }
});

test('pyarrow-written Parquet with nulls and row groups: selection, row ranges, stacked promotion', { skip: oracleSkip('pyarrow', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'p.parquet');
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n = 1000
t = pa.table({'a': pa.array(np.arange(n, dtype='int32'), mask=np.arange(n) % 10 == 3), 'b': pa.array(np.linspace(0, 1, n)), 's': pa.array([str(i) for i in range(n)])})
pq.write_table(t, sys.argv[1], row_group_size=300, compression='zstd')
`, [path]);
  const reader = await parquetOpen(path, { formatOptions: { select: ['a', 'b'], rows: { start: 295, end: 305 } } });
  try {
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['data', 'float64', [10, 2]]]);
    const values = numbers(await reader.read('data'));
    for (let r = 0; r < 10; r++) {
      const row = 295 + r;
      if (row % 10 === 3) assert.ok(Number.isNaN(values[r * 2]!));
      else assert.equal(values[r * 2], row);
      assert.ok(Math.abs(values[r * 2 + 1]! - row / 999) < 1e-12);
    }
    assert.equal(reader.metadata['parquet.rowGroups'], 4);
  } finally {
    await reader.close();
  }
  await assert.rejects(parquetOpen(path), /column "s" of type/);
  // convert to safetensors with a column selection
  await convert(path, join(dir, 'p.safetensors'), { readOptions: { select: ['b'] } });
});

test('a dictionary-encoded last column (its chunk starts at the dictionary page) reads and verifies', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'dict.parquet');
  const rows = 150_000;
  const values = Float32Array.from({ length: rows * 4 }, (_, i) => Math.round(Math.sin(i) * 100) / 8);
  const writer = await parquetCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 4] }] });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  const reader = await parquetOpen(path);
  try {
    const back = await reader.read('t');
    assert.deepEqual(new Float32Array(back.data.slice().buffer), values);
  } finally {
    await reader.close();
  }
  const { parquetVerify } = await import('../src/formats/parquet/verify.js');
  assert.equal((await parquetVerify(path)).ok, true);
});

const PYARROW_STATS = String.raw`
import sys, json, math
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
md = f.metadata
def plain(v):
    if isinstance(v, float) and math.isnan(v): return 'nan'
    if isinstance(v, float) and v == 0: return '-0' if math.copysign(1, v) < 0 else '0'
    if isinstance(v, bool): return int(v)
    return str(v) if isinstance(v, int) and abs(v) > 2**53 else v
out = {'pages': [], 'stats': [], 'columns': {n: [plain(v) for v in f.read().column(n).to_pylist()] for n in f.schema_arrow.names}}
for c in range(md.num_columns):
    col = md.row_group(0).column(c)
    s = col.statistics
    out['stats'].append([plain(s.min), plain(s.max), s.null_count] if s is not None and s.has_min_max else None)
print(json.dumps(out))
`;

test('tensio-written columns of every dtype: statistics (min, max, -0/+0, NaN skipped), several pages with CRC-32s, read equal by pyarrow', { skip: oracleSkip('pyarrow') }, async (t) => {
  const { parquetVerify } = await import('../src/formats/parquet/verify.js');
  const dir = await tempDir(t);
  const rows = 3000;
  const f32 = Float32Array.from({ length: rows }, (_, i) => (i === 7 ? NaN : i % 2 ? -i / 4 : i / 8));
  f32[11] = -0;
  const data: Record<string, Tensor> = {
    f32: createTensor('float32', [rows], f32),
    nan: createTensor('float64', [rows], new Float64Array(rows).fill(NaN)),
    zero: createTensor('float64', [rows], Float64Array.from({ length: rows }, (_, i) => (i % 2 ? -0 : 0))),
    i16: createTensor('int16', [rows], Int16Array.from({ length: rows }, (_, i) => (i * 37) % 65536 - 32768)),
    u8: createTensor('uint8', [rows], Uint8Array.from({ length: rows }, (_, i) => (i * 7) % 251 + 3)),
    u32: createTensor('uint32', [rows], Uint32Array.from({ length: rows }, (_, i) => 2 ** 32 - 1 - i * 1000)),
    i64: createTensor('int64', [rows], BigInt64Array.from({ length: rows }, (_, i) => BigInt(i - 1500) * 2n ** 40n)),
    u64: createTensor('uint64', [rows], BigUint64Array.from({ length: rows }, (_, i) => 2n ** 64n - 1n - BigInt(i))),
    flag: createTensor('bool', [rows], Uint8Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : 0))),
  };
  const specs = Object.entries(data).map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: [...tensor.shape] }));
  for (const compression of ['snappy', 'none'] as const) {
    const path = join(dir, `all-${compression}.parquet`);
    // 1 KiB pages: several per column (booleans: 8192 rows a page, one).
    const writer = await parquetCreateWriter(path, { tensors: specs, formatOptions: { columns: 'separate', compression, pageSize: 1024 } });
    for (const spec of specs) await writer.add(spec.name, data[spec.name]!.data);
    await writer.close();
    const got = JSON.parse(runPython(PYARROW_STATS, [path]).stdout) as { stats: (unknown[] | null)[]; columns: Record<string, unknown[]> };
    const expected: Record<string, unknown[] | null> = {
      f32: null, // computed below
      nan: null,
      zero: ['-0', '0', 0],
      i16: [-32768, Math.max(...numbers(data.i16!)), 0],
      u8: [3, 253, 0],
      u32: [2 ** 32 - 1 - 2999 * 1000, 2 ** 32 - 1, 0],
      i64: [-1500 * 2 ** 40, 1499 * 2 ** 40, 0],
      u64: [String(2n ** 64n - 3000n), String(2n ** 64n - 1n), 0],
      flag: [0, 1, 0],
    };
    expected.f32 = [Math.min(...numbers(data.f32!).filter((v) => !Number.isNaN(v))), Math.max(...numbers(data.f32!).filter((v) => !Number.isNaN(v))), 0];
    expected.i16![0] = Math.min(...numbers(data.i16!));
    for (const [c, spec] of specs.entries()) assert.deepEqual(got.stats[c], expected[spec.name], `${compression}: statistics of ${spec.name}`);
    const plain = (v: number | bigint) => (typeof v === 'bigint' && (v > 2n ** 53n || v < -(2n ** 53n)) ? String(v) : Number.isNaN(Number(v)) ? 'nan' : Object.is(v, -0) ? '-0' : v === 0 ? '0' : Number(v));
    for (const spec of specs) {
      const values = [...(typedView(data[spec.name]!) as ArrayLike<number | bigint> & Iterable<number | bigint>)].map((v) => (spec.dtype === 'bool' ? Number(v) : plain(v)));
      assert.deepEqual(got.columns[spec.name], values, `${compression}: ${spec.name} in pyarrow`);
    }
    const report = await parquetVerify(path);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.ok(report.checksumsVerified > specs.length, `${compression}: ${report.checksumsVerified} page CRCs checked`);
  }
});
