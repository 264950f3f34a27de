/**
 * NumPack reads over memory mappings (`NpkArrayData.mapRows`, `gatherMapped`) and rows a
 * journaled replace leaves pending until the fold (`row-patches.ts`):
 * - a load is a mapped view equal to a copy; the store's own later replaces do not show
 *   in it (copy-on-write pages kept before the in-place writes), `copy: true` is fresh memory;
 * - a journaled replace leaves the data file as it was until the fold, and every reader
 *   (the writer, a read-only store opened beside it, `openTensorFile`) sees the new rows;
 * - the same results with the addon turned off (`TENSIO_NO_MMAP=1`, in a child process);
 * - rows an interrupted append left past the catalogue's count are cut by the next writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NumPack } from '../src/npk/index.js';
import { openTensorFile } from '../src/operations/index.js';
import { isMemoryMapped, memoryMapAvailable, memoryMapStatus } from '../src/storage/memory-map.js';
import { tempDir } from './helpers/temp.js';
import { patternTensor, takeRows } from './helpers/npk-fixtures.js';

const CHILD = fileURLToPath(new URL('./helpers/npk-mapped-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Rows `rows` of `tensor` replaced by the rows of `by`, in order. */
function withRows(tensor: { data: Uint8Array; shape: readonly number[] }, rows: number[], by: Uint8Array): Uint8Array {
  const out = tensor.data.slice();
  const rowBytes = tensor.data.byteLength / tensor.shape[0]!;
  rows.forEach((row, i) => out.set(by.subarray(i * rowBytes, (i + 1) * rowBytes), row * rowBytes));
  return out;
}

test('load is a mapped view equal to a copy; the store\'s later replaces do not show in it; copy: true is fresh memory', async (t) => {
  if (!memoryMapAvailable()) return t.skip(`skipped: ${memoryMapStatus().reason}`);
  const dir = await tempDir(t);
  const path = join(dir, 'm.npk');
  const original = patternTensor('float32', [20_000, 4], 1); // 320 KB: above MAP_MIN_BYTES
  const fresh = patternTensor('float32', [3, 4], 2);
  const rows = [0, 5_000, 19_999];
  const updated = withRows(original, rows, fresh.data);
  {
    await using npk = await NumPack.open(path, { durable: false });
    await npk.save({ a: original });
  }
  const npk = await NumPack.open(path, { durable: false });
  const first = await npk.load('a');
  assert.ok(isMemoryMapped(first.data), 'a load of a plain array is a mapping');
  const copy = await npk.load('a', { copy: true });
  assert.ok(!isMemoryMapped(copy.data), 'copy: true reads into fresh memory');
  assert.ok(same(first.data, original.data) && same(copy.data, original.data));
  await npk.replace({ a: fresh }, rows);
  assert.ok(same(first.data, original.data), 'the earlier load is unchanged by the replace (pending)');
  const second = await npk.load('a');
  assert.ok(isMemoryMapped(second.data) && same(second.data, updated), 'a load after the replace shows its rows');
  assert.ok(same((await npk.getRows('a', [19_999, 0, 1, 5_000])).data, takeRows({ ...original, data: updated }, [19_999, 0, 1, 5_000]).data), 'getRows shows pending rows');
  assert.ok(same((await (await npk.loadLazy('a')).slice(0, 20_000)).data, updated), 'a lazy slice shows pending rows');
  await npk.close(); // the fold writes the rows into the file under both mappings
  assert.ok(same(first.data, original.data), 'the first load still holds the rows it was loaded with after the fold');
  assert.ok(same(second.data, updated));
  await using reopened = await NumPack.open(path, { readOnly: true });
  assert.ok(same((await reopened.load('a')).data, updated));
});

test('a journaled replace leaves the data file as it was until the fold; the writer, a read-only store and openTensorFile see the new rows', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'p.npk');
  const original = patternTensor('int32', [5_000, 8], 3);
  const fresh = patternTensor('int32', [2, 8], 4);
  const rows = [10, 4_000];
  const updated = withRows(original, rows, fresh.data);
  {
    await using npk = await NumPack.open(path, { durable: false });
    await npk.save({ x: original });
  }
  const writer = await NumPack.open(path);
  await writer.replace({ x: fresh }, rows);
  fresh.data.fill(0); // the store copied the rows: the caller's buffer is free again
  assert.ok(same(readFileSync(join(path, 'data_x.npkd')), original.data), 'the data file is not written before the fold');
  assert.ok(same((await writer.load('x')).data, updated));
  {
    await using reader = await NumPack.open(path, { readOnly: true });
    assert.ok(reader.hasPendingRows('x'));
    assert.ok(same((await reader.load('x')).data, updated), 'a reader lays the live journal\'s rows over the file');
    assert.ok(same((await reader.getRows('x', [4_000, 10])).data, takeRows({ ...original, data: updated }, [4_000, 10]).data));
  }
  {
    await using opened = await openTensorFile(path);
    assert.ok(same((await opened.read('x')).data, updated), 'openTensorFile does not read the file alone while rows are pending');
  }
  await writer.close();
  assert.ok(same(readFileSync(join(path, 'data_x.npkd')), updated), 'the fold wrote the rows in place');
});

test('the same bytes with the addon turned off (TENSIO_NO_MMAP=1): loads, gathers, slices; deleted rows, segments, pending rows', async (t) => {
  const run = (env: Record<string, string>, folder: string) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, folder], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, string | boolean>;
  };
  const on = run({}, await tempDir(t));
  const off = run({ TENSIO_NO_MMAP: '1' }, await tempDir(t));
  assert.equal(off.mmap, false);
  const hashes = (result: Record<string, string | boolean>) => Object.fromEntries(Object.entries(result).filter(([, value]) => typeof value === 'string'));
  assert.deepEqual(hashes(on), hashes(off));
  assert.equal(off['plain a load mapped'], false);
  if (!on.mmap) return t.skip(`skipped the mapped side: ${memoryMapStatus().reason}`);
  assert.equal(on['plain a load mapped'], true, 'with the addon, a plain array loads as a mapping');
  assert.equal(on['plain d load mapped'], false, 'an array with deleted rows is read');
  if (on.join) assert.equal(on['segmented a load mapped'], true, 'a segmented array whose segments are whole pages loads as one mapping');
  assert.equal(on['segmented b load mapped'], false, 'segments that are not whole pages (655 rows of 100 bytes) are read');
});

test('rows an interrupted append left past the catalogue\'s count are cut when a writer opens (NumPack\'s O_APPEND would land after them)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'o.npk');
  const original = patternTensor('int32', [10, 2], 5);
  {
    await using npk = await NumPack.open(path, { durable: false });
    await npk.save({ x: original });
  }
  const file = join(path, 'data_x.npkd');
  appendFileSync(file, patternTensor('int32', [3, 2], 6).data); // what a crash before the commit leaves
  {
    await using reader = await NumPack.open(path, { readOnly: true });
    assert.ok(same((await reader.load('x')).data, original.data), 'orphan rows are not part of the array');
  }
  assert.equal(statSync(file).size, 13 * 8, 'readers never write');
  {
    await using writer = await NumPack.open(path);
    assert.equal(statSync(file).size, 10 * 8, 'the writer cut the orphan rows');
  }
  appendFileSync(file, patternTensor('int32', [2, 2], 7).data); // NumPack's own append: O_APPEND, then its count + 2
  assert.equal(statSync(file).size, 12 * 8, 'an O_APPEND writer now puts its rows right after the counted ones');
});
