/**
 * LazyArray (NumPack's load(lazy=True)): rows by index, slice and list without reading
 * the whole file, honouring deletions; staleness after changes; the writer lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { isTensioError } from '../src/core/errors.js';
import type { Tensor } from '../src/core/tensor.js';
import { NumPack, NPK_LOCK_FILE } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { arange2d, concatRows, deleteRows, patternTensor, rowsOf, takeRows } from './helpers/npk-fixtures.js';

const code = (...codes: string[]) => (err: unknown) => isTensioError(err) && codes.includes(err.code);

function same(actual: Tensor, expected: Tensor): void {
  assert.deepEqual([...actual.shape], [...expected.shape]);
  assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), 'bytes differ');
}

test('lazy access after drops: at, slice, getRows, batches equal the eager load', async (t) => {
  const dir = await tempDir(t);
  await using npk = await NumPack.open(`${dir}/l.npk`, { durable: false });
  const arr = arange2d(1000, 10);
  await npk.save({ a: arr });
  await npk.drop('a', [10, 20, 30, 40, 50]);
  const want = deleteRows(arr, [10, 20, 30, 40, 50]);
  const lazy = await npk.loadLazy('a');
  assert.deepEqual(lazy.shape, [995, 10]);
  assert.equal(lazy.length, 995);
  assert.equal(lazy.dtype, 'float32');
  assert.equal(lazy.nbytes, 995 * 40);
  same(await npk.load('a'), want);
  for (const row of [0, 100, 500, 900, -1]) {
    const got = await lazy.at(row);
    assert.deepEqual(got.shape, [10]);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(rowsOf(want).at(row)!)));
  }
  same(await lazy.slice(10, 20), takeRows(want, Array.from({ length: 10 }, (_, i) => 10 + i)));
  same(await lazy.slice(-3), takeRows(want, [992, 993, 994]));
  same(await lazy.getRows([0, 5, 10, 994, 5]), takeRows(want, [0, 5, 10, 994, 5]));
  same(await lazy.getRows(Int32Array.from({ length: 300 }, (_, i) => (i * 37) % 995)), takeRows(want, Array.from({ length: 300 }, (_, i) => (i * 37) % 995)));
  same(await lazy.toTensor(), want);
  let rows = 0;
  for await (const batch of lazy.batches(300)) rows += batch.shape[0]!;
  assert.equal(rows, 995);
  await assert.rejects(lazy.at(995), code('INVALID_SLICE'));
});

test('small array: 20×3 drop [0,5,10] → lazy length 17 and 17 rows iterated', async (t) => {
  const dir = await tempDir(t);
  await using npk = await NumPack.open(`${dir}/l.npk`, { durable: false });
  await npk.save({ a: patternTensor('int64', [20, 3]) });
  await npk.drop('a', [0, 5, 10]);
  const lazy = await npk.loadLazy('a');
  assert.equal(lazy.length, 17);
  let count = 0;
  for await (const row of lazy.batches()) count += row.shape[0]!;
  assert.equal(count, 17);
});

test('a lazy array goes stale when its array changes or the store closes', async (t) => {
  const dir = await tempDir(t);
  const npk = await NumPack.open(`${dir}/l.npk`, { durable: false });
  await npk.save({ a: arange2d(10, 2), b: arange2d(10, 2) });
  const lazyA = await npk.loadLazy('a');
  const lazyB = await npk.loadLazy('b');
  await npk.append({ a: arange2d(1, 2) });
  await assert.rejects(lazyA.at(0), code('INVALID_STATE'));
  same(await lazyB.at(0), { dtype: 'float32', shape: [2], data: arange2d(1, 2).data });
  const fresh = await npk.loadLazy('a');
  assert.equal(fresh.length, 11);
  same(await fresh.slice(0, 11), concatRows(arange2d(10, 2), arange2d(1, 2)));
  await npk.close();
  await assert.rejects(lazyB.at(0), code('INVALID_STATE'));
});

test('writer lock: a second writer gets LOCKED, readers do not, a dead pid is taken over', async (t) => {
  const dir = await tempDir(t);
  const path = `${dir}/lock.npk`;
  const writer = await NumPack.open(path);
  await writer.save({ a: arange2d(3, 3) });
  await assert.rejects(NumPack.open(path), code('LOCKED'));
  {
    await using reader = await NumPack.open(path, { readOnly: true });
    same(await reader.load('a'), arange2d(3, 3));
    await assert.rejects(reader.save({ b: arange2d(1, 1) }), code('INVALID_STATE'));
    await assert.rejects(reader.drop('a', 0), code('INVALID_STATE'));
  }
  await writer.close();
  // A crashed writer: a lock naming a pid that no longer exists.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  await writeFile(`${path}/${NPK_LOCK_FILE}`, JSON.stringify({ pid: Number(dead.stdout), host: (await import('node:os')).hostname() }));
  await using again = await NumPack.open(path);
  assert.deepEqual(again.getMemberList(), ['a']);
  await assert.rejects(NumPack.open(`${dir}/missing.npk`, { readOnly: true }), code('NOT_FOUND'));
});

test('metadata is on disk after every mutating call, before close', async (t) => {
  const dir = await tempDir(t);
  const path = `${dir}/m.npk`;
  const writer = await NumPack.open(path);
  await writer.save({ a: arange2d(4, 2) });
  await writer.append({ a: arange2d(2, 2) });
  await writer.drop('a', 0);
  {
    await using reader = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(reader.getShape('a'), [5, 2]);
    assert.deepEqual(reader.getMetadata().arrays.a!.shape, [6, 2]);
  }
  await writer.close();
});
