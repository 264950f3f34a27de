/**
 * Collected huge-page buffers' ranges kept for reuse (`native/src/tensio_kept.c`, through
 * `src/storage/huge-pages.ts`): a dropped buffer's range comes back to the next allocation
 * that fits (stale for an uninitialized one, cleared for a zeroed one, cut to size), never
 * while a buffer still references it; the kept bytes stay under the limit and are unmapped
 * by a trim and by the idle timer; a finished Parquet read holds nothing of its result.
 * Each case runs in a child with `--expose-gc` (test/helpers/kept-ranges-child.ts); all
 * skip without an addon that keeps ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryMapStatus } from '../src/index.js';
import { parquetCreateWriter } from '../src/formats/parquet/index.js';
import { keptHugePageRanges } from '../src/storage/huge-pages.js';
import { runJsonChild } from './helpers/json-child.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test', 'helpers', 'kept-ranges-child.ts');
const MiB = 2 ** 20;
const status = memoryMapStatus();
const SKIP = !status.hugePageBuffers ? `skipped: ${status.hugePageReason}` : keptHugePageRanges() === undefined ? 'skipped: the addon was built before it kept ranges (npm run build:native)' : false;

const run = (...args: string[]) => runJsonChild(CHILD, args, { gc: true });

test('a dropped buffer\'s range is handed out again: stale when uninitialized, cleared when zeroed, cut to a smaller size', { skip: SKIP }, () => {
  const result = run('reuse');
  assert.equal(result.keptAfterDrop, true, 'the dropped 8 MiB buffer was kept');
  assert.equal(result.staleReused, true, 'the next 8 MiB uninitialized allocation is that range, bytes as they were');
  assert.equal(result.keptAfterReuse, 0);
  assert.equal(result.keptAfterSecondDrop, true);
  assert.equal(result.zeroedReused, true, 'a zeroed allocation takes a kept range too');
  assert.equal(result.zeroedAllZero, true, 'and clears it');
  assert.equal(result.keptAfterThirdDrop, true);
  assert.equal(result.halfStale, true, 'a 4 MiB allocation is cut from the kept 8 MiB');
  assert.equal(result.keptAfterHalf, 4 * MiB, 'the other half stays kept');
});

test('buffers still referenced are never handed out again', { skip: SKIP }, () => {
  const result = run('referenced');
  assert.equal(result.keptWhileReferenced, 0);
  assert.equal(result.intact, true, 'every live buffer keeps its own bytes');
  assert.equal(result.live, 10);
});

test('kept bytes stay under the limit; a trim and the idle timer unmap them', { skip: SKIP }, () => {
  const result = run('bounded');
  assert.equal(result.previousLimit, 1024 * MiB, 'the default limit');
  assert.equal(result.liveBefore, 4);
  assert.equal(result.keptUnderLimit, 16 * MiB, 'four 8 MiB buffers dropped, two kept under a 16 MiB limit');
  assert.equal(result.keptAfterTrim, 0);
  assert.equal(result.keptBeforeTimer, 8 * MiB);
  assert.equal(result.keptAfterTimer, 0, 'the idle timer unmapped the kept range');
});

test('a finished whole Parquet read holds nothing of its result: dropped and collected, its range is kept', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t, 'tensio-kept-');
  const file = join(dir, 'banded.parquet');
  // One row group of 1M × 8 float32 (32 MB: a banded whole read, the tensor placed band by band).
  const rows = 1_000_000;
  const values = new Float32Array(rows * 8).map((_, i) => (i * 7919) % 1000 / 8);
  const writer = await parquetCreateWriter(file, { tensors: [{ name: 't', dtype: 'float32', shape: [rows, 8] }], formatOptions: { compression: 'snappy', rowGroupSize: rows } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  const result = run('parquet', file);
  assert.equal(result.resultBytes, rows * 8 * 4);
  assert.equal(result.resultKept, true, `kept ${String(result.kept)} bytes`);
});
