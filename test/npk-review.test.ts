import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { NumPack, npkDecodeMetadata, npkEncodeMetadata, NPK_METADATA_FILE } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { i32 } from './helpers/npk-fixtures.js';

test('a catalogue claiming 2^40 rows beside a deletion bitmap is refused at open, not allocated', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  await npk.save({ a: i32([4], [0, 1, 2, 3]) });
  await npk.drop('a', [0]);
  await npk.close();
  const meta = npkDecodeMetadata(await readFile(join(path, NPK_METADATA_FILE)));
  const forged = meta.arrays.map((entry) => ({ ...entry, shape: [2 ** 40], sizeBytes: 2 ** 42 }));
  await writeFile(join(path, NPK_METADATA_FILE), npkEncodeMetadata(forged));
  await assert.rejects(NumPack.open(path, { readOnly: true }), (err) => isTensioError(err, 'TRUNCATED'));
  await assert.rejects(NumPack.open(path), (err) => isTensioError(err, 'TRUNCATED'));
  // The failed writer open released its lock: a later writer gets in once the catalogue is sane.
  await writeFile(join(path, NPK_METADATA_FILE), npkEncodeMetadata(meta.arrays));
  const reopened = await NumPack.open(path);
  assert.deepEqual(reopened.getShape('a'), [3]);
  await reopened.close();
});

test('close() releases the writer lock even when the deferred catalogue write fails', async (t) => {
  const { mkdir, rm, access } = await import('node:fs/promises');
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  await npk.save({ a: i32([2], [0, 1]) });
  await npk.replace({ a: i32([1], [7]) }, [0]); // only times changed: the catalogue is rewritten at close
  await rm(join(path, NPK_METADATA_FILE));
  await mkdir(join(path, NPK_METADATA_FILE, 'blocker'), { recursive: true }); // the atomic rename onto it fails
  await assert.rejects(npk.close(), (err) => err instanceof Error);
  await assert.rejects(access(join(path, '.lock')), (err) => (err as NodeJS.ErrnoException).code === 'ENOENT');
});

test('LazyArray.toTensor refuses an array larger than one buffer can hold, instead of a RangeError', async (t) => {
  const { truncate } = await import('node:fs/promises');
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  await npk.save({ a: i32([4], [0, 1, 2, 3]) });
  await npk.close();
  // A sparse 4 GiB data file (no disk used) behind a catalogue that says so.
  const meta = npkDecodeMetadata(await readFile(join(path, NPK_METADATA_FILE)));
  const rows = 2 ** 30;
  await truncate(join(path, meta.arrays[0]!.dataFile), rows * 4);
  await writeFile(join(path, NPK_METADATA_FILE), npkEncodeMetadata(meta.arrays.map((entry) => ({ ...entry, shape: [rows], sizeBytes: rows * 4 }))));
  const reader = await NumPack.open(path, { readOnly: true });
  try {
    const lazy = await reader.loadLazy('a');
    assert.equal(lazy.length, rows);
    assert.deepEqual([...new Int32Array((await lazy.at(1)).data.slice().buffer)], [1]);
    await assert.rejects(lazy.toTensor(), (err) => isTensioError(err, 'LIMIT_EXCEEDED'));
    await assert.rejects(reader.load('a'), (err) => isTensioError(err, 'LIMIT_EXCEEDED'));
  } finally {
    await reader.close();
  }
});

test('file-system failures inside a store operation surface as IO_ERROR, not raw Node errors', async (t) => {
  const { mkdir } = await import('node:fs/promises');
  const path = join(await tempDir(t), 's.npk');
  const npk = await NumPack.open(path, { durable: false });
  try {
    await npk.save({ a: i32([2], [1, 2]) });
    // A folder squats where the new array's data file must go.
    await mkdir(join(path, 'data_b.npkd'));
    await assert.rejects(npk.save({ b: i32([2], [3, 4]) }), (err) => isTensioError(err, 'IO_ERROR'));
    assert.deepEqual(npk.getMemberList(), ['a']);
  } finally {
    await npk.close();
  }
});
