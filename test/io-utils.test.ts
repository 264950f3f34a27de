/**
 * tensio/io constants and helpers with NumPack's semantics (test_io_conversion.py §1-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { DEFAULT_BATCH_ROWS, DEFAULT_CHUNK_SIZE, LARGE_FILE_THRESHOLD, estimateChunkRows, getFileSize, isLargeFile } from '../src/io/index.js';
import { tempDir } from './helpers/temp.js';

test('constants are NumPack\'s', () => {
  assert.equal(LARGE_FILE_THRESHOLD, 2 ** 30);
  assert.equal(DEFAULT_CHUNK_SIZE, 100 * 2 ** 20);
  assert.equal(DEFAULT_BATCH_ROWS, 100_000);
});

test('getFileSize: file, folder summed recursively, missing = 0; isLargeFile is strictly greater', async (t) => {
  const dir = await tempDir(t);
  await writeFile(`${dir}/a.bin`, new Uint8Array(1000));
  assert.equal(await getFileSize(`${dir}/a.bin`), 1000);
  await mkdir(`${dir}/d/nested`, { recursive: true });
  await writeFile(`${dir}/d/x`, new Uint8Array(500));
  await writeFile(`${dir}/d/nested/y`, new Uint8Array(500));
  assert.equal(await getFileSize(`${dir}/d`), 1000);
  assert.equal(await getFileSize(`${dir}/missing`), 0);
  await writeFile(`${dir}/small`, new Uint8Array(100));
  assert.equal(await isLargeFile(`${dir}/small`), false);
  assert.equal(await isLargeFile(`${dir}/small`, 50), true);
  assert.equal(await isLargeFile(`${dir}/small`, 200), false);
  assert.equal(await isLargeFile(`${dir}/small`, 100), false);
});

test('estimateChunkRows: 0-d, empty rows, clamps to rows and one million', () => {
  assert.equal(estimateChunkRows([10000], 'float64', 2 ** 20), 10000);
  assert.equal(estimateChunkRows([10000, 100], 'float64', 2 ** 20), Math.floor(2 ** 20 / 800));
  assert.equal(estimateChunkRows([], 'float32'), 1);
  assert.equal(estimateChunkRows([5, 0], 'float32'), DEFAULT_BATCH_ROWS);
  assert.equal(estimateChunkRows([5e6], 'uint8'), 1_000_000);
  assert.equal(estimateChunkRows([10, 2 ** 30], 'float64', 2 ** 20), 1);
  assert.equal(estimateChunkRows([0, 3], 'float32'), 0);
});
