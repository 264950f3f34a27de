/**
 * `tensio/io` for text tables, DataFrames and DLPack: NumPack's from_csv/to_csv,
 * from_txt/to_txt (names, delimiters, fmt, header), from_dataframe/to_dataframe through
 * the shared table semantics (arquero), and DLPack descriptors (constants, zero-copy
 * rules, non-contiguous input copied and reported).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { isTensioError } from '../src/core/errors.js';
import { createTensor } from '../src/core/tensor.js';
import { NumPack } from '../src/npk/numpack.js';
import {
  fromCsv, toCsv, fromTxt, toTxt, fromDataFrame, toDataFrame, openDataFrame, toDlpack, fromDlpack,
  kDLCPU, kDLInt, kDLUInt, kDLFloat, kDLBfloat, kDLComplex, kDLBool, type DataFrameLike,
} from '../src/io/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const floats = (tensor: { data: Uint8Array }) => Array.from(new Float64Array(tensor.data.slice().buffer));

async function load(npkPath: string, name: string) {
  await using npk = await NumPack.open(npkPath, { readOnly: true });
  return npk.load(name);
}

test('fromCsv/fromTxt: named after the file stem, NumPack delimiters, skipRows, gzip; arrayName', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  await writeFile(join(dir, 'measurements.csv'), 'x,y\n1,2\n3,4\n');
  await fromCsv(join(dir, 'measurements.csv'), store, { skipRows: 1, dropIfExists: true });
  const m = await load(store, 'measurements');
  assert.deepEqual(m.shape, [2, 2]);
  assert.deepEqual(floats(m), [1, 2, 3, 4]);
  await writeFile(join(dir, 'semi.csv'), '1.5;2\n3;4\n');
  await fromCsv(join(dir, 'semi.csv'), store, { delimiter: ';', arrayName: 'renamed' });
  assert.deepEqual(floats(await load(store, 'renamed')), [1.5, 2, 3, 4]);
  await writeFile(join(dir, 'points.txt'), '1 2  3\n 4\t5 6\n');
  await fromTxt(join(dir, 'points.txt'), store, { dtype: 'int32' });
  const p = await load(store, 'points');
  assert.equal(p.dtype, 'int32');
  assert.deepEqual(Array.from(new Int32Array(p.data.slice().buffer)), [1, 2, 3, 4, 5, 6]);
  // Another extension is dropped as NumPack's Path.stem drops it (x.data → x).
  await writeFile(join(dir, 'readings.data'), '7,8\n');
  await fromCsv(join(dir, 'readings.data'), store);
  assert.deepEqual(floats(await load(store, 'readings')), [7, 8]);
  // Merged into one store, as NumPack's drop_if_exists=False.
  await using npk = await NumPack.open(store, { readOnly: true });
  assert.deepEqual([...npk.getMemberList()].sort(), ['measurements', 'points', 'readings', 'renamed']);
});

test("toCsv/toTxt: %.18e by default (NumPack's), header '# col0,…', 'shortest', one array or arrayName", async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  await using npk = await NumPack.open(store, { dropIfExists: true });
  await npk.save({ a: createTensor('float64', [2, 2], Float64Array.of(1, 0.1, -2.5, 1e300)) });
  await npk.close();
  await toCsv(store, join(dir, 'a.csv'), { header: true });
  assert.equal(await readFile(join(dir, 'a.csv'), 'utf8'), '# col0,col1\n1.000000000000000000e+00,1.000000000000000056e-01\n-2.500000000000000000e+00,1.000000000000000053e+300\n');
  await toTxt(store, join(dir, 'a.txt'), { fmt: '%.3f' });
  assert.equal((await readFile(join(dir, 'a.txt'), 'utf8')).split('\n')[0], '1.000 0.100');
  await toCsv(store, join(dir, 'short.csv'), { fmt: 'shortest' });
  assert.equal(await readFile(join(dir, 'short.csv'), 'utf8'), '1.0,0.1\n-2.5,1e+300\n');
  await using again = await NumPack.open(store);
  await again.save({ b: createTensor('int32', [1], Int32Array.of(1)) });
  await again.close();
  await assert.rejects(toCsv(store, join(dir, 'x.csv')), (error) => isTensioError(error, 'INVALID_ARGUMENT'));
});

test('NumPack test_io_conversion: savetxt 100×5 → from_csv ≈; to_csv(fmt=%.10e) → np.loadtxt ≈ 8 dp', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  runPython(`import sys, numpy as np
a = np.random.default_rng(1).standard_normal((100, 5)); np.save(sys.argv[1] + '/a.npy', a); np.savetxt(sys.argv[1] + '/test.csv', a, delimiter=',')`, [dir]);
  const store = join(dir, 's.npk');
  await fromCsv(join(dir, 'test.csv'), store);
  await toCsv(store, join(dir, 'out.csv'), { fmt: '%.10e' });
  const out = runPython(`import sys, numpy as np
a = np.load(sys.argv[1] + '/a.npy'); b = np.loadtxt(sys.argv[1] + '/out.csv', delimiter=',')
print(b.shape, np.allclose(a, b, atol=1e-8, rtol=0))`, [dir]);
  assert.equal(out.stdout.trim(), '(100, 5) True');
  assert.deepEqual((await load(store, 'test')).shape, [100, 5]);
});

test('fromDataFrame: columns a,b,c → data ≈ df.values (promotion, nulls as NaN); separate; non-numeric named or skipped', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  const df = aq.table({ a: Int32Array.of(1, 2, 3), b: Float32Array.of(0.5, 1.5, 2.5), c: [10, null, 30] }) as unknown as DataFrameLike;
  await fromDataFrame(df, store, { dropIfExists: true });
  const data = await load(store, 'data');
  assert.equal(data.dtype, 'float64');
  assert.deepEqual(data.shape, [3, 3]);
  const values = floats(data);
  assert.deepEqual(values.slice(0, 5), [1, 0.5, 10, 2, 1.5]);
  assert.ok(Number.isNaN(values[5]!), 'the null of column c is NaN');
  assert.deepEqual(values.slice(6), [3, 2.5, 30]);
  await fromDataFrame(df, store, { columns: 'separate' });
  const b = await load(store, 'b');
  assert.equal(b.dtype, 'float32');
  assert.deepEqual(Array.from(new Float32Array(b.data.slice().buffer)), [0.5, 1.5, 2.5]);
  const withText = aq.table({ x: [1, 2], name: ['p', 'q'] }) as unknown as DataFrameLike;
  await assert.rejects(fromDataFrame(withText, store), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE') && /name/.test((error as Error).message));
  await fromDataFrame(withText, store, { skipNonNumeric: true, arrayName: 'xs' });
  assert.deepEqual((await load(store, 'xs')).shape, [2, 1]);
  // A filtered frame exports its visible rows only.
  const filtered = (aq.table({ v: Float64Array.of(1, 2, 3, 4) }) as unknown as { filter(f: unknown): DataFrameLike }).filter((d: { v: number }) => d.v > 2);
  await using reader = openDataFrame(filtered);
  assert.deepEqual(floats(await reader.read('data')), [3, 4]);
});

test('toDataFrame: 1-D → data, 2-D → col0… or names, N-D cells, round trip with fromDataFrame', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 's.npk');
  await using npk = await NumPack.open(store, { dropIfExists: true });
  await npk.save({
    m: createTensor('float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)),
    v: createTensor('int64', [2], BigInt64Array.of(7n, -8n)),
    cube: createTensor('float64', [2, 2, 2], Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8)),
  });
  await npk.close();
  const m = await toDataFrame(store, { arrayName: 'm' });
  assert.deepEqual(m.columnNames(), ['col0', 'col1', 'col2']);
  assert.deepEqual(Array.from(m.column('col1') as Float32Array), [2, 5]);
  const named = await toDataFrame(store, { arrayName: 'm', columns: ['x', 'y', 'z'] });
  assert.deepEqual(named.columnNames(), ['x', 'y', 'z']);
  const v = await toDataFrame(store, { arrayName: 'v' });
  assert.deepEqual(v.columnNames(), ['data']);
  assert.deepEqual(Array.from(v.column('data') as BigInt64Array), [7n, -8n]);
  const cube = await toDataFrame(store, { arrayName: 'cube' });
  assert.deepEqual(Array.from((cube.array('data') as Float64Array[])[1]!), [5, 6, 7, 8]);
  // Back into a store: the same values.
  await fromDataFrame(m, store, { arrayName: 'again' });
  const again = await load(store, 'again');
  assert.equal(again.dtype, 'float32');
  assert.deepEqual(Array.from(new Float32Array(again.data.slice().buffer)), [1, 2, 3, 4, 5, 6]);
});

test('DLPack: constants, dtype codes, zero-copy both ways', () => {
  assert.deepEqual([kDLCPU, kDLInt, kDLUInt, kDLFloat, kDLBfloat, kDLComplex, kDLBool], [1, 0, 1, 2, 4, 5, 6]);
  const backing = new Float32Array([0, 1, 2, 3, 4, 5, 6]);
  const tensor = createTensor('float32', [2, 3], backing.subarray(1));
  const dl = toDlpack(tensor);
  assert.deepEqual(dl.device, { deviceType: 1, deviceId: 0 });
  assert.deepEqual(dl.dtype, { code: kDLFloat, bits: 32, lanes: 1 });
  assert.deepEqual([dl.ndim, dl.shape, dl.strides, dl.byteOffset], [2, [2, 3], [3, 1], 4]);
  assert.equal(dl.data, backing.buffer, 'describes the same memory');
  const { value, copied } = fromDlpack(dl);
  assert.equal(copied, false);
  new Float32Array(value.data.buffer, value.data.byteOffset, 6)[0] = 99;
  assert.equal(backing[1], 99, 'shares memory');
  assert.deepEqual(toDlpack(createTensor('bfloat16', [1], new Uint8Array(2))).dtype, { code: kDLBfloat, bits: 16, lanes: 1 });
  assert.deepEqual(toDlpack(createTensor('bool', [1], [true])).dtype, { code: kDLBool, bits: 8, lanes: 1 });
  assert.deepEqual(toDlpack(createTensor('complex128', [1], new Float64Array(2))).dtype, { code: kDLComplex, bits: 128, lanes: 1 });
  assert.throws(() => toDlpack({ dtype: 'float8_e4m3fn', shape: [1], data: new Uint8Array(1) }), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE'));
  // strides null = compact.
  assert.equal(fromDlpack({ ...dl, strides: null }).copied, false);
});

test('DLPack: a transposed (non-contiguous) tensor is copied into C order and reported; bad descriptors refused', () => {
  const m = createTensor('int32', [2, 3], Int32Array.of(1, 2, 3, 4, 5, 6));
  const transposed = { ...toDlpack(m), shape: [3, 2], strides: [1, 3] };
  const reasons: string[] = [];
  const { value, copied } = fromDlpack(transposed, { onCopy: (why) => reasons.push(why) });
  assert.equal(copied, true);
  assert.match(reasons[0]!, /not C-contiguous/);
  assert.deepEqual(Array.from(new Int32Array(value.data.slice().buffer)), [1, 4, 2, 5, 3, 6]);
  // Negative strides (a reversed view) stay inside the buffer.
  const reversed = { ...toDlpack(createTensor('int32', [3], Int32Array.of(1, 2, 3))), strides: [-1], byteOffset: 8 };
  assert.deepEqual(Array.from(new Int32Array(fromDlpack(reversed).value.data.slice().buffer)), [3, 2, 1]);
  assert.throws(() => fromDlpack({ ...toDlpack(m), shape: [3, 3], strides: [3, 1] }), (error) => isTensioError(error, 'INVALID_LAYOUT'));
  assert.throws(() => fromDlpack({ ...toDlpack(m), device: { deviceType: 2, deviceId: 0 } }), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE'));
  assert.throws(() => fromDlpack({ ...toDlpack(m), dtype: { code: 2, bits: 32, lanes: 4 } }), (error) => isTensioError(error, 'UNSUPPORTED_DTYPE'));
  assert.throws(() => fromDlpack({ ...toDlpack(m), ndim: 3 }), (error) => isTensioError(error, 'INVALID_SHAPE'));
});
