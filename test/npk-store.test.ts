/**
 * NumPack's drop scenarios (test_drop_scenarios.py), append/replace/drop/compact
 * sequences with reopen (test_drop_append_lazy.py), open/close, reset, clone, iterate
 * (stream_load) and error codes (test_numpack.py, test_advanced_api.py, test_open_close.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import type { Tensor } from '../src/core/tensor.js';
import { NumPack } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { arange2d, concatRows, deleteRows, f32, i32, patternTensor, takeRows, values } from './helpers/npk-fixtures.js';

const code = (...codes: string[]) => (err: unknown) => isTensioError(err) && codes.includes(err.code);

async function store(t: Parameters<typeof tempDir>[0], options: Parameters<typeof NumPack.open>[1] = {}) {
  const dir = await tempDir(t);
  const path = `${dir}/s.npk`;
  return { path, npk: await NumPack.open(path, { durable: false, ...options }) };
}

function same(actual: Tensor, expected: Tensor): void {
  assert.deepEqual([...actual.shape], [...expected.shape]);
  assert.equal(actual.dtype, expected.dtype);
  assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), 'bytes differ');
}

test('drop by int, list, typed array with negatives, and slice = np.delete', async (t) => {
  const { npk } = await store(t);
  const base = i32([6], [0, 1, 2, 3, 4, 5]);
  const cases: [Parameters<NumPack['drop']>[1], number[]][] = [[0, [0]], [[1, 3], [1, 3]], [[2], [2]], [Int32Array.from([4, -1]), [4, 5]], [{ start: 1, end: 4 }, [1, 2, 3]]];
  for (const [indexes, removed] of cases) {
    await npk.save({ a: base });
    await npk.drop('a', indexes);
    same(await npk.load('a'), deleteRows(base, removed));
    assert.deepEqual(npk.getShape('a'), [6 - removed.length]);
  }
  await npk.close();
});

test('drop scenarios: single, list, typed array, tuple-like, repeated, consecutive logical drops', async (t) => {
  const { npk } = await store(t);
  const a = arange2d(10, 10);
  await npk.save({ a });
  await npk.drop('a', 5);
  same(await npk.load('a'), deleteRows(a, [5]));
  const b = arange2d(30, 10);
  await npk.save({ b });
  await npk.drop('b', Int32Array.from([2, 7, 12, 17, 22]));
  assert.deepEqual(npk.getShape('b'), [25, 10]);
  const c = arange2d(10, 10);
  await npk.save({ c });
  await npk.drop('c', [0, 0, 1, 1, 2]);
  assert.deepEqual(npk.getShape('c'), [7, 10]);
  const d = arange2d(100, 10);
  await npk.save({ d });
  let want = d;
  for (const [drop, rows] of [[[0, 1, 2], 97], [[5, 10], 95], [[20, 30, 40], 92]] as const) {
    await npk.drop('d', [...drop]);
    want = deleteRows(want, [...drop]);
    assert.deepEqual(npk.getShape('d'), [rows, 10]);
  }
  same(await npk.load('d'), want);
  await npk.drop('d', []);
  assert.deepEqual(npk.getShape('d'), [92, 10]);
  await npk.drop('nonexistent');
  await npk.drop('d', [1000, -1000]);
  assert.deepEqual(npk.getShape('d'), [92, 10]);
  await npk.close();
});

test('drop whole arrays, then append and replace after drops; compact keeps logical rows', async (t) => {
  const { npk, path } = await store(t);
  const arr = arange2d(100, 10);
  await npk.save({ array1: arange2d(10, 10), array2: arange2d(10, 10), array3: arange2d(10, 10) });
  await npk.drop(['array1', 'array3']);
  assert.deepEqual(npk.getMemberList().sort(), ['array1', 'array2', 'array3']);
  assert.deepEqual(npk.getShape('array3'), [0, 10]);
  await npk.save({ x: arr });
  await npk.drop('x', { start: 80, end: 100 });
  const fill = f32([30, 10], new Array(300).fill(999));
  await npk.append({ x: fill });
  same(await npk.load('x'), concatRows(takeRows(arr, Array.from({ length: 80 }, (_, i) => i)), fill));
  await npk.save({ y: arr });
  await npk.drop('y', [5, 10, 15]);
  await npk.replace({ y: f32([1, 10], new Array(10).fill(888)) }, 1);
  assert.deepEqual(values(await npk.getRows('y', 1)), new Array(10).fill(888));
  assert.deepEqual(npk.getShape('y'), [97, 10]);
  const big = arange2d(1000, 10);
  await npk.save({ big });
  await npk.drop('big', { start: 0, end: 500 });
  await npk.compact('big');
  assert.deepEqual(npk.getMetadata().arrays.big!.shape, [500, 10]);
  same(await npk.load('big'), deleteRows(big, Array.from({ length: 500 }, (_, i) => i)));
  await npk.drop('array2');
  await npk.compact('array2');
  assert.ok(npk.hasArray('array2'));
  assert.deepEqual(npk.getShape('array2'), [0, 10]);
  await npk.close();
  await using again = await NumPack.open(path, { readOnly: true });
  assert.deepEqual(again.getShape('y'), [97, 10]);
  assert.deepEqual(again.getMetadata().arrays.big!.deletedRows, 0);
});

test('reopen between every step: drop, append, 3-D drop and getRows of logical rows', async (t) => {
  const { npk, path } = await store(t);
  const arr = arange2d(1000, 10);
  await npk.save({ a: arr, cube: patternTensor('float64', [50, 20, 10]) });
  await npk.close();
  let want = arr;
  for (const step of [[0], [0, 5, 10, 100]]) {
    await using s = await NumPack.open(path, { durable: false });
    await s.drop('a', step);
    want = deleteRows(want, step);
  }
  {
    await using s = await NumPack.open(path, { durable: false });
    same(await s.load('a'), want);
    const extra = arange2d(1000, 10, 5e5);
    await s.append({ a: extra });
    want = concatRows(want, extra);
  }
  await using s = await NumPack.open(path, { durable: false });
  same(await s.load('a'), want);
  assert.deepEqual(s.getShape('a'), [1995, 10]);
  await s.drop('cube', [5, 10, 15]);
  const cube = deleteRows(patternTensor('float64', [50, 20, 10]), [5, 10, 15]);
  assert.deepEqual(s.getShape('cube'), [47, 20, 10]);
  same(await s.getRows('cube', 5), takeRows(cube, [5]));
  same(await s.getRows('cube', [0, 46, -2]), takeRows(cube, [0, 46, -2]));
});

test('segmented arrays: written above the target, appended across segments, compacted', async (t) => {
  const { npk, path } = await store(t, { segmentTargetBytes: 1000 });
  const arr = arange2d(100, 10); // 4000 bytes → 25-row segments
  await npk.save({ s: arr });
  assert.equal(npk.getMetadata().arrays.s!.dataFile, 'data_s.npkseg');
  const extra = arange2d(37, 10, 1e4);
  await npk.append({ s: extra });
  let want = concatRows(arr, extra);
  same(await npk.load('s'), want);
  await npk.drop('s', [0, 24, 25, 26, 136]);
  want = deleteRows(want, [0, 24, 25, 26, 136]);
  same(await npk.getRows('s', { start: 20, end: 30 }), takeRows(want, Array.from({ length: 10 }, (_, i) => 20 + i)));
  await npk.replace({ s: f32([2, 10], new Array(20).fill(-5)) }, [22, 23]);
  want = concatRows(takeRows(want, Array.from({ length: 22 }, (_, i) => i)), concatRows(f32([2, 10], new Array(20).fill(-5)), takeRows(want, Array.from({ length: want.shape[0]! - 24 }, (_, i) => 24 + i))));
  await npk.compact('s');
  same(await npk.load('s'), want);
  await npk.save({ s: arange2d(2, 2) }); // small again: back to a plain file
  assert.equal(npk.getMetadata().arrays.s!.dataFile, 'data_s.npkd');
  await npk.close();
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual((await readdir(path)).filter((f) => f.includes('segments') || f.endsWith('.npkseg')), []);
});

test('iterate = stream_load: 1-row default, fixed batches with a short last one, 0 refused at once', async (t) => {
  const { npk } = await store(t);
  const arr = arange2d(25, 4);
  await npk.save({ a: arr });
  const single: number[][] = [];
  for await (const batch of npk.iterate('a')) single.push([...batch.shape]);
  assert.equal(single.length, 25);
  assert.deepEqual(single[0], [1, 4]);
  const batches: Tensor[] = [];
  for await (const batch of npk.iterate('a', { batchRows: 10 })) batches.push(batch);
  assert.deepEqual(batches.map((b) => b.shape[0]), [10, 10, 5]);
  same(batches.reduce((a, b) => concatRows(a, b)), arr);
  assert.throws(() => npk.iterate('a', { batchRows: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => npk.iterate('missing'), code('NOT_FOUND'));
  await npk.close();
});

test('clone: independent copy; missing source and existing target refused', async (t) => {
  const { npk } = await store(t);
  const arr = arange2d(20, 3);
  await npk.save({ a: arr });
  await npk.drop('a', [0]);
  await npk.clone('a', 'b');
  same(await npk.load('b'), deleteRows(arr, [0]));
  assert.equal(npk.getMetadata().arrays.b!.sizeBytes, 19 * 3 * 4);
  await npk.replace({ b: f32([1, 3], [9, 9, 9]) }, 0);
  same(await npk.load('a'), deleteRows(arr, [0]));
  await assert.rejects(npk.clone('missing', 'c'), code('NOT_FOUND'));
  await assert.rejects(npk.clone('a', 'b'), code('ALREADY_EXISTS'));
  await npk.close();
});

test('open/close lifecycle, dropIfExists, reset, concurrent calls on one instance', async (t) => {
  const { npk, path } = await store(t);
  await Promise.all([0, 1, 2, 3].map((i) => npk.save({ [`t${i}`]: arange2d(5, 2, i) }).then(() => npk.load(`t${i}`))));
  assert.equal(npk.getMemberList().length, 4);
  await npk.close();
  await npk.close();
  assert.throws(() => npk.getMemberList(), code('INVALID_STATE'));
  await assert.rejects(npk.save({ x: arange2d(1, 1) }), code('INVALID_STATE'));
  await assert.rejects(npk.load('t0'), code('INVALID_STATE'));
  for (let cycle = 0; cycle < 3; cycle++) {
    await using s = await NumPack.open(path, { durable: false });
    await s.save({ [`c${cycle}`]: arange2d(2, 2) });
  }
  {
    await using s = await NumPack.open(path);
    assert.equal(s.getMemberList().length, 7);
    await s.reset();
    assert.deepEqual(s.getMemberList(), []);
    await s.save({ fresh: arange2d(2, 2) });
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${path}/stray.txt`, 'x');
  await using dropped = await NumPack.open(path, { dropIfExists: true });
  assert.deepEqual(dropped.getMemberList(), []);
  await dropped.save({ ok: arange2d(1, 1) });
  assert.deepEqual(dropped.getMemberList(), ['ok']);
});

test('error codes: missing arrays, bad indexes, mismatched append/replace, unsupported dtypes, bad names', async (t) => {
  const { npk } = await store(t);
  const arr = arange2d(10, 4);
  await npk.save({ a: arr });
  await assert.rejects(npk.load('nonexistent'), code('NOT_FOUND'));
  await assert.rejects(npk.replace({ a: arange2d(5, 4) }, { start: 20, end: 25 }), code('SIZE_MISMATCH'));
  await assert.rejects(npk.replace({ a: arange2d(1, 4) }, 10), code('INVALID_SLICE'));
  await assert.rejects(npk.getRows('a', [10]), code('INVALID_SLICE'));
  await assert.rejects(npk.getRows('a', ['x' as unknown as number]), code('INVALID_ARGUMENT'));
  await assert.rejects(npk.replace({ nope: arange2d(1, 4) }, 0), code('NOT_FOUND'));
  await assert.rejects(npk.append({ nope: arange2d(1, 4) }), code('NOT_FOUND'));
  await assert.rejects(npk.append({ a: arange2d(1, 5) }), code('INVALID_SHAPE'));
  await assert.rejects(npk.append({ a: i32([1, 4], [1, 2, 3, 4]) }), code('INVALID_ARGUMENT'));
  // all inputs are checked before any is written
  await npk.save({ b: arange2d(3, 4) });
  await assert.rejects(npk.append({ b: arange2d(1, 4), a: arange2d(1, 3) }), code('INVALID_SHAPE'));
  assert.deepEqual(npk.getShape('b'), [3, 4]);
  await assert.rejects(npk.save({ bf: { dtype: 'bfloat16', shape: [2], data: new Uint8Array(4) } }), code('UNSUPPORTED_DTYPE'));
  await assert.rejects(npk.save({ short: { dtype: 'float32', shape: [2], data: new Uint8Array(4) } }), code('SIZE_MISMATCH'));
  await assert.rejects(npk.save([] as never), code('INVALID_ARGUMENT'));
  for (const name of ['', '../escape', 'a/b', 'a\\b', 'nul\0', '..']) {
    await assert.rejects(npk.save({ [name]: arange2d(1, 1) }), code('INVALID_NAME'), JSON.stringify(name));
  }
  await assert.rejects(npk.save({ A: arange2d(1, 1) }), code('DUPLICATE_NAME'));
  await npk.save({ 'ünïcode name': arange2d(1, 1) });
  assert.ok(npk.hasArray('ünïcode name'));
  await npk.close();
});

test('0-d arrays save and load; row operations on them are refused', async (t) => {
  const { npk } = await store(t);
  const scalar = f32([], [3.5]);
  await npk.save({ s: scalar });
  same(await npk.load('s'), scalar);
  assert.deepEqual(npk.getShape('s'), []);
  await assert.rejects(npk.getRows('s', 0), code('INVALID_SHAPE'));
  await assert.rejects(npk.drop('s', 0), code('INVALID_SHAPE'));
  await npk.clone('s', 's2');
  same(await npk.load('s2'), scalar);
  await npk.close();
});
