/**
 * Arrow IPC / Feather against pyarrow, both ways: files pyarrow writes (Feather v2 with
 * lz4 and zstd, uncompressed, IPC streams, Feather v1, fixed-size lists, the
 * fixed_shape_tensor extension, nulls, write_tensor) read as tensio tensors equal to
 * pyarrow's own values; files tensio writes (file and stream, none/lz4/zstd, stacked
 * and separate columns, N-D cells) read by pyarrow equal to what was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTensor, typedView, type Tensor } from '../src/core/tensor.js';
import { toFloat32Array } from '../src/core/float-convert.js';
import { arrowOpen } from '../src/formats/arrow/reader.js';
import { arrowCreateWriter } from '../src/formats/arrow/writer.js';
import { convert } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { safetensorsWrite } from '../src/formats/safetensors/write.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const skip = oracleSkip('pyarrow', 'numpy');

/** pyarrow's view of a file: every column as a list of numbers (None for nulls), plus types. */
const PYARROW_DUMP = String.raw`
import sys, json, math
import pyarrow as pa, pyarrow.feather as feather, pyarrow.ipc as ipc
path, kind = sys.argv[1], sys.argv[2]
if kind == 'stream':
    table = ipc.open_stream(open(path, 'rb')).read_all()
else:
    table = feather.read_table(path)
out = {'types': {}, 'values': {}, 'metadata': {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}}
for name in table.column_names:
    col = table.column(name)
    out['types'][name] = str(col.type)
    values = col.to_pylist()
    def flat(v):
        if v is None: return [None]
        if isinstance(v, list): return [x for item in v for x in flat(item)]
        if isinstance(v, bool): return [int(v)]
        if isinstance(v, float) and math.isnan(v): return ['nan']
        return [v]
    if 'tensor' in str(col.type):
        out['values'][name] = [x for row in col.combine_chunks().storage.to_pylist() for x in flat(row)]
    else:
        out['values'][name] = [x for row in values for x in flat(row)]
print(json.dumps(out))
`;

function numbersOf(tensor: Tensor): number[] {
  if (tensor.dtype === 'float16') return [...toFloat32Array(tensor)];
  return [...(typedView(tensor) as ArrayLike<number | bigint> & Iterable<number | bigint>)].map(Number);
}

test('pyarrow-written Feather v2 (lz4, zstd, none), streams and Feather v1 read equal to pyarrow', { skip }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.feather as feather, pyarrow.ipc as ipc
d = sys.argv[1]
n = 3000
rng = np.random.default_rng(7)
ints = pa.array(rng.integers(-1000, 1000, n).astype('int32'), mask=(np.arange(n) % 7 == 0))
table = pa.table({
  'f32': pa.array(rng.standard_normal(n).astype('float32')),
  'i64': pa.array(np.arange(n, dtype='int64') * 3 - 5),
  'i32_nulls': ints,
  'u8': pa.array((np.arange(n) % 256).astype('uint8')),
  'flag': pa.array(np.arange(n) % 3 == 0),
  'f16': pa.array(np.linspace(-2, 2, n).astype('float16')),
  'vec': pa.FixedSizeListArray.from_arrays(pa.array(np.arange(n * 3, dtype='float64')), 3),
  'label': pa.array([str(i) for i in range(n)]),
}, metadata={'origin': 'pyarrow'})
for codec in ['lz4', 'zstd', 'uncompressed']:
    feather.write_feather(table, f'{d}/t_{codec}.feather', compression=codec, chunksize=1000)
with ipc.new_stream(f'{d}/t.arrows', table.schema) as w:
    w.write_table(table, max_chunksize=700)
t1 = table.drop_columns(['vec', 'f16', 'i64'])
feather.write_feather(t1, f'{d}/t_v1.feather', version=1)
`, [dir]);
  const cases: [string, string, number][] = [['t_lz4.feather', 'file', 7], ['t_zstd.feather', 'file', 7], ['t_uncompressed.feather', 'file', 7], ['t.arrows', 'stream', 7], ['t_v1.feather', 'file', 4]];
  for (const [file, kind, numeric] of cases) {
    const path = join(dir, file);
    const expected = JSON.parse(runPython(PYARROW_DUMP, [path, kind]).stdout) as { types: Record<string, string>; values: Record<string, (number | null | string)[]> };
    await using reader = await arrowOpen(path, { formatOptions: { columns: 'separate', skipNonNumeric: true } });
    assert.equal(reader.tensors.length, numeric, `${file}: numeric columns`);
    for (const info of reader.tensors) {
      const values = numbersOf(await reader.read(info.name));
      const want = expected.values[info.name]!;
      assert.equal(values.length, want.length, `${file}:${info.name}`);
      for (let i = 0; i < want.length; i++) {
        const w = want[i];
        const v = values[i]!;
        if (w === null || w === 'nan') assert.ok(Number.isNaN(v), `${file}:${info.name}[${i}] null → NaN`);
        else if (info.dtype === 'float16' || info.dtype === 'float32') assert.equal(Math.fround(v), Math.fround(w as number));
        else assert.equal(v, w, `${file}:${info.name}[${i}]`);
      }
    }
    if (file.endsWith('lz4.feather')) assert.equal(reader.metadata['arrow.compression'], 'lz4');
    if (file !== 't_v1.feather') assert.equal(reader.metadata['table.metadata.origin'], 'pyarrow');
  }
});

test('default stacked read: NumPy promotion over the numeric columns, as pyarrow + numpy.column_stack give', { skip }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'mixed.feather');
  const out = runPython(String.raw`
import sys, json, numpy as np, pyarrow as pa, pyarrow.feather as feather
t = pa.table({'a': pa.array(np.arange(5, dtype='int16')), 'b': pa.array(np.linspace(0, 1, 5).astype('float32')), 'c': pa.array([1, None, 3, 4, 5], type=pa.int8())})
feather.write_feather(t, sys.argv[1])
cols = [t.column(n).to_numpy(zero_copy_only=False) for n in t.column_names]
stacked = np.column_stack(cols)
print(json.dumps({'dtype': str(stacked.dtype), 'values': [None if np.isnan(x) else float(x) for x in stacked.ravel()]}))
`, [path]);
  const expected = JSON.parse(out.stdout) as { dtype: string; values: (number | null)[] };
  await using reader = await arrowOpen(path);
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.shape]), [['data', [5, 3]]]);
  assert.equal(reader.tensors[0]!.dtype, expected.dtype);
  const values = numbersOf(await reader.read('data'));
  expected.values.forEach((want, i) => (want === null ? assert.ok(Number.isNaN(values[i]!)) : assert.equal(values[i], want)));
});

test('fixed_shape_tensor extension columns read as N-D tensors; write_tensor messages read as tensors', { skip }, async (t) => {
  const dir = await tempDir(t);
  runPython(String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.feather as feather, pyarrow.ipc as ipc
d = sys.argv[1]
arr = np.arange(4 * 2 * 3, dtype='float32').reshape(4, 2, 3)
ext = pa.FixedShapeTensorArray.from_numpy_ndarray(arr)
feather.write_feather(pa.table({'t': ext}), f'{d}/tensor_col.feather')
tensor = pa.Tensor.from_numpy(np.arange(12, dtype='int64').reshape(3, 4))
with pa.OSFile(f'{d}/one.tensor', 'wb') as f: ipc.write_tensor(tensor, f)
ft = pa.Tensor.from_numpy(np.asfortranarray(np.arange(6, dtype='float64').reshape(2, 3)))
with pa.OSFile(f'{d}/fortran.tensor', 'wb') as f: ipc.write_tensor(ft, f)
`, [dir]);
  {
    await using reader = await arrowOpen(join(dir, 'tensor_col.feather'));
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['t', 'float32', [4, 2, 3]]]);
    assert.deepEqual(numbersOf(await reader.read('t')), Array.from({ length: 24 }, (_, i) => i));
  }
  {
    await using reader = await arrowOpen(join(dir, 'one.tensor'));
    assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['tensor', 'int64', [3, 4]]]);
    assert.deepEqual(numbersOf(await reader.read('tensor')), Array.from({ length: 12 }, (_, i) => i));
  }
  {
    await using reader = await arrowOpen(join(dir, 'fortran.tensor'));
    assert.deepEqual(numbersOf(await reader.read('tensor')), [0, 1, 2, 3, 4, 5]);
  }
});

test('tensio-written files (file and stream; none, lz4, zstd; stacked and separate; N-D cells) read by pyarrow equal', { skip }, async (t) => {
  const dir = await tempDir(t);
  const rows = 2500;
  const matrix = createTensor('float32', [rows, 4], Float32Array.from({ length: rows * 4 }, (_, i) => i * 0.5 - 7));
  const ids = createTensor('int64', [rows], BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 11 - 3)));
  const cube = createTensor('int16', [rows, 2, 3], Int16Array.from({ length: rows * 6 }, (_, i) => (i % 1000) - 500));
  const flags = createTensor('bool', [rows], Uint8Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? 1 : 0)));
  for (const compression of ['none', 'lz4', 'zstd'] as const) {
    for (const ipc of ['file', 'stream'] as const) {
      const stackedPath = join(dir, `m_${compression}.${ipc === 'file' ? 'feather' : 'arrows'}`);
      const w1 = await arrowCreateWriter(stackedPath, { tensors: [{ name: 'm', dtype: 'float32', shape: [rows, 4] }], metadata: { note: 'hi' }, formatOptions: { compression, ipc, batchRows: 1000 } });
      await w1.add('m', matrix.data);
      await w1.close();
      const got = JSON.parse(runPython(PYARROW_DUMP, [stackedPath, ipc]).stdout) as { types: Record<string, string>; values: Record<string, number[]>; metadata: Record<string, string> };
      assert.deepEqual(Object.keys(got.values), ['col0', 'col1', 'col2', 'col3']);
      assert.equal(got.metadata.note, 'hi');
      const values = numbersOf(matrix);
      for (let c = 0; c < 4; c++) assert.deepEqual(got.values[`col${c}`], values.filter((_, i) => i % 4 === c), `${compression}/${ipc} col${c}`);

      const separatePath = join(dir, `s_${compression}_${ipc}.arrow`);
      const specs = [{ name: 'ids', dtype: 'int64' as const, shape: [rows] }, { name: 'cube', dtype: 'int16' as const, shape: [rows, 2, 3] }, { name: 'flags', dtype: 'bool' as const, shape: [rows] }];
      const w2 = await arrowCreateWriter(separatePath, { tensors: specs, formatOptions: { compression, ipc, columns: 'separate', batchRows: 999 } });
      await w2.add('ids', ids.data);
      await w2.add('cube', cube.data);
      await w2.add('flags', flags.data);
      await w2.close();
      const got2 = JSON.parse(runPython(PYARROW_DUMP, [separatePath, ipc]).stdout) as { types: Record<string, string>; values: Record<string, number[]> };
      assert.match(got2.types.cube!, /fixed_shape_tensor|extension/);
      assert.deepEqual(got2.values.ids, numbersOf(ids));
      assert.deepEqual(got2.values.cube, numbersOf(cube));
      assert.deepEqual(got2.values.flags, numbersOf(flags));
      // and tensio reads its own file back as the same tensors
      await using back = await arrowOpen(separatePath, { formatOptions: { columns: 'separate' } });
      assert.deepEqual(back.tensors.map((info) => [info.name, info.dtype, info.shape]), specs.map((s) => [s.name, s.dtype, s.shape]));
      assert.deepEqual(numbersOf(await back.read('cube')), numbersOf(cube));
    }
  }
});

test('convert safetensors → Feather → safetensors keeps the tensor, its name and its shape (the written-tensor record)', async (t) => {
  const dir = await tempDir(t);
  const tensor = createTensor('float64', [10, 3], Float64Array.from({ length: 30 }, (_, i) => i / 3));
  await safetensorsWrite(join(dir, 'a.safetensors'), { w: tensor });
  await convert(join(dir, 'a.safetensors'), join(dir, 'a.feather'));
  await convert(join(dir, 'a.feather'), join(dir, 'b.safetensors'));
  await using reader = await openTensorFile(join(dir, 'b.safetensors'));
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['w', 'float64', [10, 3]]]);
  assert.deepEqual(numbersOf(await reader.read('w')), numbersOf(tensor));
  // A 1-D tensor stays 1-D; a table without the record reads by NumPack's rules (data, (rows, 1)).
  const line = createTensor('int32', [6], Int32Array.from([1, 2, 3, 4, 5, 6]));
  await safetensorsWrite(join(dir, 'l.safetensors'), { line });
  await convert(join(dir, 'l.safetensors'), join(dir, 'l.arrow'));
  await using lineReader = await arrowOpen(join(dir, 'l.arrow'));
  assert.deepEqual(lineReader.tensors.map((info) => [info.name, info.shape]), [['line', [6]]]);
  assert.deepEqual(numbersOf(await lineReader.read('line', { slice: { start: 2, end: 4 } })), [3, 4]);
});
